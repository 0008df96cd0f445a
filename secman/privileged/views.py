"""The chapter's overview: what the registers hold and what the checks found."""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from secman.core.views import actor_of
from secman.privileged import controls, grants, selectors
from secman.privileged.choices import RemovalStatus
from secman.privileged.models import (
    AccessRemoval,
    Account,
    AdminOrigin,
    AuthenticationScheme,
    Secret,
    SshKey,
    TerminationChecklist,
)


def reader(request: HttpRequest) -> object:
    """The person behind the request, if they may read this chapter's registers."""
    me = actor_of(request)
    refusal = selectors.why_not_read_access(me)
    if refusal is not None:
        raise PermissionDenied(str(refusal))
    return me


def overview(request: HttpRequest) -> HttpResponse:
    reader(request)
    findings = controls.chapter_findings()
    by_status = Counter(f.status for f in findings)
    # What each register holds in force now, each tile a link to its page.
    registers = [
        ("SSH keys", SshKey.objects.filter(blocked_at__isnull=True).count(), "keys"),
        ("Accounts", Account.objects.filter(removed_at__isnull=True).count(), "accounts"),
        ("Admin origins", AdminOrigin.objects.filter(ended_at__isnull=True).count(),
         "origins"),
        ("Authentication schemes",
         AuthenticationScheme.objects.filter(ended_at__isnull=True).count(), "schemes"),
        ("Grants in effect", grants.active_grants().count(), "grants"),
        ("Secrets", Secret.objects.filter(retired_at__isnull=True).count(), "secrets"),
        ("Removals waiting for the Board",
         AccessRemoval.objects.filter(status=RemovalStatus.TEMPORARY).count(), "removals"),
        ("Open checklists", TerminationChecklist.objects.filter(status="open").count(),
         "checklists"),
    ]
    return render(request, "privileged/overview.html", {
        "findings": findings, "by_status": by_status, "registers": registers,
    })
