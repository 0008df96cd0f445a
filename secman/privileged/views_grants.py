"""The pages of authentication schemes, temporary grants and privileged secrets. Read by
everyone who reads this chapter; the forms only for those who may submit them (schemes
and secrets: Systems Administrators; grants: the SA team leader or the Arbitrator)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from secman.core.errors import RuleViolation
from secman.core.views import perform, person_at_form, post_only
from secman.people.models import Person
from secman.privileged import grants as grant_services
from secman.privileged import schemes as scheme_services
from secman.privileged import secrets_register as secret_services
from secman.privileged.choices import AccessPath
from secman.privileged.forms_grants import (
    CompromiseForm,
    GrantForm,
    HolderForm,
    ReasonForm,
    RotateForm,
    SchemeForm,
    SecretForm,
)
from secman.privileged.models import AuthenticationScheme, Secret, SecretHolder, TemporaryGrant
from secman.privileged.selectors import may_grant_temporary_access, may_keep_register
from secman.privileged.views import reader
from secman.systems.choices import Criticality, SystemStatus
from secman.systems.models import System

KEEPERS_ONLY = "this register is kept by Systems Administrators (SM 4.1.1)"
GRANTERS_ONLY = ("temporary access is granted by the Systems Administration team leader or "
                 "as the Arbitrator directs (SP 4.1.1.1)")


def _keeper(request: HttpRequest) -> Any:
    reader(request)
    return person_at_form(request, may_keep_register, KEEPERS_ONLY)


def _granter(request: HttpRequest) -> Any:
    reader(request)
    return person_at_form(request, may_grant_temporary_access, GRANTERS_ONLY)


def _form_page(request: HttpRequest, form: Any, title: str, back: str,
               note: str = "") -> HttpResponse:
    return render(request, "people/form.html",
                  {"form": form, "title": title, "back": back, "note": note})


def active_grants_of(*, system: System | None = None,
                     person: Person | None = None) -> list[TemporaryGrant]:
    """The grants in effect now on a system or of a person, for their pages."""
    found = grant_services.active_grants().select_related("person", "system", "granted_by")
    if system is not None:
        found = found.filter(system=system)
    if person is not None:
        found = found.filter(person=person)
    return list(found)


# --- schemes ---------------------------------------------------------------------------------


def schemes(request: HttpRequest) -> HttpResponse:
    me = reader(request)
    live = list(scheme_services.live_schemes())
    by_system: dict[int, list[AuthenticationScheme]] = {}
    for scheme in live:
        by_system.setdefault(scheme.system_id, []).append(scheme)
    systems = list(System.objects.exclude(status=SystemStatus.RETIRED).order_by(
        "-criticality", "name"))
    rows = [(s, by_system.get(s.pk, [])) for s in systems]
    findings = scheme_services.schemes_documented() + scheme_services.hop_in_service()
    return render(request, "privileged/schemes.html", {
        "rows": rows, "findings": findings, "may_keep": may_keep_register(me),
        "critical": Criticality.CRITICAL, "paths": AccessPath.choices})


def system_schemes(request: HttpRequest, name: str) -> HttpResponse:
    me = reader(request)
    system = get_object_or_404(System, name=name)
    every = list(AuthenticationScheme.objects.filter(system=system).select_related(
        "via", "documented_by", "authority").order_by("path", "-documented_at"))
    findings = [f for f in scheme_services.schemes_documented()
                + scheme_services.hop_in_service()
                if f.url == scheme_services.schemes_url(system)]
    return render(request, "privileged/system_schemes.html", {
        "system": system, "live": [s for s in every if s.ended_at is None],
        "history": [s for s in every if s.ended_at is not None], "findings": findings,
        "grants": active_grants_of(system=system),
        "secrets": system.secrets.filter(retired_at__isnull=True).order_by("name"),
        "may_keep": may_keep_register(me)})


def scheme_new(request: HttpRequest) -> HttpResponse:
    me = _keeper(request)
    form = SchemeForm(request.POST or None, initial={
        "system": request.GET.get("system", ""), "path": request.GET.get("path", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = perform(request, form, lambda: scheme_services.document_scheme(
            actor=me, system=data["system"], path=data["path"], via=data["via"],
            authenticates=data["authenticates"], refused=data["refused"],
            ip_blocking=data["ip_blocking"], authority=data["authority"]),
            "Scheme documented; the one it replaces has ended.")
        if done:
            return redirect(scheme_services.schemes_url(done.system))
    return _form_page(request, form, "Document an authentication scheme",
                      reverse("privileged:schemes"),
                      "A new scheme for the same system and path replaces the old one "
                      "(SP 3.4.3); the old one stays in the history.")


def compromised(request: HttpRequest, name: str) -> HttpResponse:
    me = _keeper(request)
    system = get_object_or_404(System, name=name)
    form = CompromiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: secret_services.mark_compromised(
                actor=me, system=system, reason=data["reason"], authority=data["authority"]),
                f"{system} marked as suspected compromised: its secrets are due."):
            return redirect(reverse("privileged:secrets"))
    return _form_page(request, form, f"Suspected compromise of {system}",
                      scheme_services.schemes_url(system),
                      "Every secret used on this system is due for rotation until it is "
                      "changed (SM 4.1.1).")


# --- grants ----------------------------------------------------------------------------------


def grants(request: HttpRequest) -> HttpResponse:
    me = reader(request)
    rows = list(TemporaryGrant.objects.select_related(
        "person", "system", "granted_by", "revoked_by", "authority"))
    login = request.GET.get("person", "")
    if login:
        rows = [g for g in rows if g.person.user and g.person.user.username == login]
    now = timezone.now()
    for grant in rows:
        grant.state = grant_services.state(grant, now)  # type: ignore[attr-defined]
    counts = Counter(g.state for g in rows)  # type: ignore[attr-defined]
    return render(request, "privileged/grants.html", {
        "rows": rows, "counts": counts, "findings": grant_services.ended_grant_keys_removed(),
        "may_grant": may_grant_temporary_access(me), "person": login,
        "max_days": grant_services.MAX_GRANT.days})


def grant_new(request: HttpRequest) -> HttpResponse:
    me = _granter(request)
    form = GrantForm(request.POST or None, initial={"system": request.GET.get("system", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: grant_services.grant_access(
                actor=me, person=data["person"], system=data["system"],
                reason=data["reason"], ends_at=data["ends_at"],
                authority=data["authority"]), "Temporary access granted."):
            return redirect(reverse("privileged:grants"))
    return _form_page(request, form, "Grant temporary SSH access",
                      reverse("privileged:grants"),
                      "SP 4.1.1.1: a Software Assessor, for advanced debugging or as the "
                      f"Arbitrator directs, until an end at most "
                      f"{grant_services.MAX_GRANT.days} days away.")


def _revoke(me: Any, grant: TemporaryGrant, form: ReasonForm) -> TemporaryGrant:
    return grant_services.revoke_grant(actor=me, grant=grant,
                                       reason=form.cleaned_data["reason"],
                                       authority=form.cleaned_data["authority"])


@post_only(lambda pk: reverse("privileged:grants"))
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    me = _granter(request)
    grant = get_object_or_404(TemporaryGrant, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and perform(request, form, lambda: _revoke(me, grant, form),
                                   "Grant revoked.") is not None:
        return redirect(reverse("privileged:grants"))
    return _form_page(request, form, f"Revoke {grant}", reverse("privileged:grants"))


# --- secrets ---------------------------------------------------------------------------------


def secrets(request: HttpRequest) -> HttpResponse:
    me = reader(request)
    rows = list(Secret.objects.filter(retired_at__isnull=True).prefetch_related(
        "systems", "holders__person"))
    due = secret_services.due_secrets(rows)
    for secret in rows:
        secret.due = due.get(secret.pk, [])  # type: ignore[attr-defined]
        secret.live_holders = [h for h in secret.holders.all()  # type: ignore[attr-defined]
                               if h.until is None]
    rows.sort(key=lambda s: (not s.due, s.name))  # type: ignore[attr-defined]
    due_count = len([s for s in rows if s.due])  # type: ignore[attr-defined]
    return render(request, "privileged/secrets.html", {
        "rows": rows, "due_count": due_count, "ok_count": len(rows) - due_count,
        "findings": secret_services.root_password_holders(),
        "retired": Secret.objects.filter(retired_at__isnull=False).order_by("-retired_at"),
        "may_keep": may_keep_register(me)})


def secret(request: HttpRequest, pk: int) -> HttpResponse:
    me = reader(request)
    found = get_object_or_404(Secret.objects.prefetch_related("systems"), pk=pk)
    holders = list(found.holders.select_related("person", "added_by").order_by(
        "until", "person__name"))
    return render(request, "privileged/secret.html", {
        "secret": found, "due": secret_services.due_secrets([found]).get(found.pk, []),
        "holders": holders, "rotations": found.rotations.select_related("rotated_by"),
        "findings": [f for f in secret_services.root_password_holders()
                     if f.url == secret_services.secret_url(found)],
        "may_keep": may_keep_register(me)})


def secret_new(request: HttpRequest) -> HttpResponse:
    me = _keeper(request)
    form = SecretForm(request.POST or None)
    if request.method == "POST":
        try:
            secret_services.refuse_values(request.POST)
            refusal = None
        except RuleViolation as exc:
            refusal = exc
        if refusal is not None:
            form.is_valid()
            form.add_error(None, str(refusal))
        elif form.is_valid():
            data = form.cleaned_data
            done = perform(request, form, lambda: secret_services.register_secret(
                actor=me, name=data["name"], kind=data["kind"], weight=data["weight"],
                systems=data["systems"], where_used=data["where_used"],
                authority=data["authority"]), "Secret registered (never its value).")
            if done:
                return redirect(secret_services.secret_url(done))
    return _form_page(request, form, "Register a secret", reverse("privileged:secrets"),
                      "What it is and where it is used: secman never keeps a secret's "
                      "value (SM 4.1.1).")


def secret_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    found = get_object_or_404(Secret, pk=pk)
    form = RotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: secret_services.rotate_secret(
                actor=me, secret=found, reason=data["reason"], note=data["note"],
                authority=data["authority"]), "Rotation recorded."):
            return redirect(secret_services.secret_url(found))
    return _form_page(request, form, f"Record a rotation of {found}",
                      secret_services.secret_url(found),
                      "The secret was changed now; the new value stays out of secman.")


def secret_retire(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    found = get_object_or_404(Secret, pk=pk)
    form = ReasonForm(request.POST or None, initial={"authority": "SM 4.1.1"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: secret_services.retire_secret(
                actor=me, secret=found, reason=data["reason"], authority=data["authority"]),
                "Secret retired: it is kept with its history and is never due."):
            return redirect(secret_services.secret_url(found))
    return _form_page(request, form, f"Retire {found}", secret_services.secret_url(found),
                      "The secret is no longer used anywhere. It stays in the register with "
                      "its rotations and holders; it is no longer checked.")


def secret_holder_add(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    found = get_object_or_404(Secret, pk=pk)
    form = HolderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: secret_services.add_holder(
                actor=me, secret=found, person=data["person"], authority=data["authority"]),
                "Holder recorded."):
            return redirect(secret_services.secret_url(found))
    return _form_page(request, form, f"Who knows {found}", secret_services.secret_url(found),
                      "A root password is known only to those on the Console Access List "
                      "(SM 4.1.1).")


def _end(me: Any, holding: SecretHolder, form: ReasonForm) -> SecretHolder:
    return secret_services.end_holding(actor=me, holding=holding,
                                       reason=form.cleaned_data["reason"],
                                       authority=form.cleaned_data["authority"])


@post_only(lambda pk, holder: reverse("privileged:secret", args=[pk]))
def secret_holder_end(request: HttpRequest, pk: int, holder: int) -> HttpResponse:
    me = _keeper(request)
    holding = get_object_or_404(SecretHolder, pk=holder, secret_id=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and perform(request, form, lambda: _end(me, holding, form),
                                   "Holding ended: the secret is due for rotation.") is not None:
        return redirect(secret_services.secret_url(holding.secret))
    return _form_page(request, form, f"End: {holding}",
                      secret_services.secret_url(holding.secret))
