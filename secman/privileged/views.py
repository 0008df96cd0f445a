"""The chapter's overview: what the registers hold and what the checks found."""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from secman.core.views import actor_of
from secman.privileged import controls, selectors
from secman.privileged.models import (
    AccessRemoval,
    Account,
    AuthenticationScheme,
    Secret,
    SshKey,
    TemporaryGrant,
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
    registers = [
        ("SSH keys", SshKey.objects.filter(blocked_at__isnull=True).count()),
        ("Accounts", Account.objects.filter(removed_at__isnull=True).count()),
        ("Authentication schemes",
         AuthenticationScheme.objects.filter(ended_at__isnull=True).count()),
        ("Temporary grants", TemporaryGrant.objects.filter(revoked_at__isnull=True).count()),
        ("Secrets", Secret.objects.filter(retired_at__isnull=True).count()),
        ("Access removals", AccessRemoval.objects.count()),
        ("Open checklists", TerminationChecklist.objects.filter(status="open").count()),
    ]
    return render(request, "privileged/overview.html", {
        "findings": findings, "by_status": by_status, "registers": registers,
    })
