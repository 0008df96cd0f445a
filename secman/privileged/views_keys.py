"""The pages of keys, accounts and admin origins (SM 3.4.3, 4.1.1), each system's access
evidence (the newest agent report against the register) and the findings of their
checks. The forms are shown only to Systems Administrators, who keep the register."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.core.controls import TONE, worst
from secman.core.views import perform, person_at_form
from secman.people.models import Person
from secman.privileged import accounts, attempts, checks, keys
from secman.privileged.controls import KEY_CONTROLS, key_findings
from secman.privileged.forms_keys import (
    AccountAddForm,
    AccountRemoveForm,
    KeyAddForm,
    KeyBlockForm,
    OriginAddForm,
    OriginEndForm,
)
from secman.privileged.models import Account, AdminOrigin, SshKey
from secman.privileged.selectors import may_keep_register, newest_facts
from secman.privileged.views import reader
from secman.systems.models import System

KEEPERS_ONLY = "keys, accounts and admin origins are kept by Systems Administrators (SM 3.4.3)"


def _keeper(request: HttpRequest) -> Any:
    reader(request)  # the chapter's own refusal first, for those who may not read it
    return person_at_form(request, may_keep_register, KEEPERS_ONLY)


def _form_page(request: HttpRequest, form: Any, title: str, back: str,
               note: str = "") -> HttpResponse:
    return render(request, "people/form.html", {"form": form, "title": title,
                                                    "back": back, "note": note})


def _page_form(request: HttpRequest, me: Any, form_class: Any,
               action: Callable[[dict[str, Any]], object], done: str,
               ) -> tuple[Any, HttpResponse | None]:
    """A register page's own form, for Systems Administrators only (None for the other
    readers, whose POST is refused): (the form, the redirect once it was handled)."""
    if not may_keep_register(me):
        if request.method == "POST":
            raise PermissionDenied(KEEPERS_ONLY)
        return None, None
    form = form_class(request.POST or None)
    handled = request.method == "POST" and form.is_valid() and perform(
        request, form, lambda: action(form.cleaned_data), done)
    return form, redirect(request.path) if handled else None


def key_list(request: HttpRequest) -> HttpResponse:
    """Each person's keys, and the people on the SSH Access List without one."""
    me: Any = reader(request)
    form, handled = _page_form(request, me, KeyAddForm,
                               lambda data: keys.add_key(actor=me, **data), "Key registered.")
    if handled:
        return handled
    by_person: dict[int, list[SshKey]] = defaultdict(list)
    for key in SshKey.objects.select_related("person", "blocked_by"):
        by_person[key.person_id].append(key)
    listed = checks.Context().ssh_list
    people = Person.objects.filter(pk__in=set(by_person) | listed).order_by("name")
    rows = [(person, person.pk in listed, by_person.get(person.pk, [])) for person in people]
    return render(request, "privileged/keys.html", {"rows": rows, "form": form,
                                                     "may_keep": form is not None})


def key_block(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    key = get_object_or_404(SshKey.objects.select_related("person"), pk=pk)
    form = KeyBlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = perform(request, form, lambda: keys.block_key(
            actor=me, key=key, **form.cleaned_data), "Key blocked.")
        if done:
            return redirect("privileged:keys")
    return _form_page(request, form, f"Block {key.person}'s key", reverse("privileged:keys"),
                      f"{key.key_type} {key.fingerprint} {key.comment}. A blocked key found on "
                      "a critical system is a violation (SM 9.1.7); a block is not undone.")


def account_list(request: HttpRequest) -> HttpResponse:
    """The accounts of each system in the register."""
    me: Any = reader(request)
    by_system: dict[int, list[Account]] = defaultdict(list)
    for account in Account.objects.filter(removed_at__isnull=True).select_related("person"):
        by_system[account.system_id].append(account)
    systems = System.objects.filter(retired_at__isnull=True).order_by("name")
    return render(request, "privileged/accounts.html", {
        "rows": [(s, by_system.get(s.pk, [])) for s in systems],
        "may_keep": may_keep_register(me)})


def system_access(request: HttpRequest, name: str) -> HttpResponse:
    """A system's access evidence: the register's accounts, and its newest agent report's
    keys, login accounts, sshd settings and sudoers, each marked as the checks see it."""
    me: Any = reader(request)
    system = get_object_or_404(System, name=name)
    facts = newest_facts([system]).get(system.pk)
    context = checks.Context()
    registered = context.keys
    key_rows = []
    for entry in (facts.authorized_keys or []) if facts else []:
        key = registered.get(str(entry.get("fingerprint", "")))
        if "error" in entry and not entry.get("fingerprint"):
            verdict = ("warn", f"not read: {entry['error']}")
        elif key is None:
            verdict = ("bad", "unknown key")
        elif key.blocked_at is not None:
            verdict = ("bad", f"blocked {key.blocked_at:%Y-%m-%d}")
        elif not context.allowed(key.person_id, system):
            verdict = ("bad", "not on the SSH Access List, no grant")
        else:
            verdict = ("ok", "registered")
        key_rows.append((entry, key, verdict))
    live = list(Account.objects.filter(system=system, removed_at__isnull=True)
                .select_related("person"))
    known = {a.username for a in live}
    reported = facts.accounts if facts else None
    sshd = facts.sshd if facts else None
    sshd_rows = [(option, (sshd or {}).get(option), section,
                  (sshd or {}).get(option) is not None
                  and breaks(str((sshd or {})[option]).strip().lower()))
                 for option, breaks, section, _ in checks.SSHD_RULES]
    page = checks.system_page(system)
    findings = [f for found in key_findings().values() for f in found if f.url == page]
    return render(request, "privileged/system_access.html", {
        "system": system, "facts": facts, "key_rows": key_rows, "accounts": live,
        "reported": [(a, str(a.get("user")) in known) for a in reported or []],
        "reported_missing": facts is not None and reported is None,
        "sshd": sshd, "sshd_rows": sshd_rows,
        "nopasswd": checks.nopasswd_lines(facts.sudoers) if facts and facts.sudoers else [],
        "sudoers_missing": facts is not None and facts.sudoers is None,
        "findings": findings, "may_keep": may_keep_register(me)})


def account_new(request: HttpRequest, name: str) -> HttpResponse:
    me = _keeper(request)
    system = get_object_or_404(System, name=name)
    form = AccountAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = perform(request, form, lambda: accounts.add_account(
                actor=me, system=system, **form.cleaned_data), "Account registered.")
        if done:
            return redirect("privileged:system_access", name=system.name)
    return _form_page(request, form, f"Register an account on {system}",
                      reverse("privileged:system_access", args=[system.name]),
                      "A personal named account belongs to one sysadmin (SM 3.4.3); privileged "
                      "and service accounts belong to nobody and permit no login (SM 4.1.1).")


def account_remove(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    account = get_object_or_404(Account.objects.select_related("system"), pk=pk)
    form = AccountRemoveForm(request.POST or None)
    back = reverse("privileged:system_access", args=[account.system.name])
    if request.method == "POST" and form.is_valid():
        done = perform(request, form, lambda: accounts.remove_account(
                actor=me, account=account, **form.cleaned_data), "Account removed.")
        if done:
            return redirect(back)
    return _form_page(request, form, f"Remove the account {account}", back)


def origin_list(request: HttpRequest) -> HttpResponse:
    me: Any = reader(request)
    form, handled = _page_form(request, me, OriginAddForm,
                               lambda data: accounts.add_origin(actor=me, **data),
                               "Admin origin documented.")
    if handled:
        return handled
    origins = AdminOrigin.objects.select_related("system", "added_by").order_by(
        "ended_at", "added_at")
    return render(request, "privileged/origins.html", {"origins": origins, "form": form,
                                                        "may_keep": form is not None})


def origin_end(request: HttpRequest, pk: int) -> HttpResponse:
    me = _keeper(request)
    origin = get_object_or_404(AdminOrigin, pk=pk)
    form = OriginEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = perform(request, form, lambda: accounts.end_origin(
                actor=me, origin=origin, **form.cleaned_data), "Admin origin ended.")
        if done:
            return redirect("privileged:origins")
    return _form_page(request, form, f"End the admin origin {origin}",
                      reverse("privileged:origins"),
                      "From then on an SSH flow into a critical system from it is a finding "
                      "(SM 3.4.3).")


def findings(request: HttpRequest) -> HttpResponse:
    """The checks of keys, accounts and sshd, control by control, and the failed access
    attempts flagged for inspection (SM 4.1.1.2)."""
    reader(request)
    found = key_findings()
    rows = [(control, found.get(control.id, []), TONE[worst(
        f.status for f in found.get(control.id, []))]) for control in KEY_CONTROLS]
    return render(request, "privileged/findings.html", {
        "rows": rows, "attempts": attempts.failed_attempts(),
        "window_days": attempts.WINDOW.days})
