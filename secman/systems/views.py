"""The register's pages: the list of systems, a system's page with its history, the
flows, and the forms that change them (shown only to those who may submit them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string

from secman.core.errors import RuleViolation
from secman.core.views import actor_of, perform, person_at_form
from secman.systems import agents, controls, selectors, services, views_agent
from secman.systems.choices import Criticality, Direction, FlowStatus, SystemStatus
from secman.systems.forms import (
    AddressesForm,
    AdministratorsForm,
    FlowDecisionForm,
    FlowEndForm,
    FlowRequestForm,
    InspectForm,
    InstallForm,
    RetireForm,
    SystemEditForm,
    SystemForm,
)
from secman.systems.lifecycles import FLOW, SYSTEM
from secman.systems.models import Flow, System

CHANGERS_ONLY = "the systems register is changed by Systems Administrators (SP 3.2.2)"
LEADER_ONLY = ("flows are approved or refused by the Systems Administration team leader "
               "(SP 3.1.1.2)")


def _reader(request: HttpRequest) -> Any:
    me = actor_of(request)
    refusal = services.why_not_read_register(me)
    if refusal is not None:
        raise PermissionDenied(str(refusal))
    return me


def _changer(request: HttpRequest) -> Any:
    _reader(request)  # the register's own refusal first, for those who may not read it
    return person_at_form(request, services.may_change_register, CHANGERS_ONLY)


def _form_page(request: HttpRequest, form: Any, title: str, back: str, *,
               note: str = "", subject: Any = None) -> HttpResponse:
    return render(request, "systems/form.html", {"form": form, "title": title, "back": back,
                                                 "note": note, "subject": subject})


def _entries(rows: list[Any]) -> list[str]:
    """Rows of the documentation (strings or small tables' rows) as lines to show."""
    return [", ".join(f"{k}: {v}" for k, v in row.items() if v) if isinstance(row, dict)
            else str(row) for row in rows]


# --- the list -------------------------------------------------------------------------------


def systems(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    status = request.GET.get("status", "")
    criticality = request.GET.get("criticality", "")
    rows = selectors.systems_overview()
    everything = list(rows)
    findings = controls.register_findings()
    per_system = Counter(f.url for f in findings)
    shown = [s for s in everything if (not status or s.status == status)
             and (not criticality or s.criticality == criticality)]
    for system in shown:
        system.findings = per_system.get(system.get_absolute_url(), 0)  # type: ignore[attr-defined]
    by_status = Counter(s.status for s in everything)
    by_criticality = Counter(s.criticality for s in everything
                             if s.status != SystemStatus.RETIRED)
    waiting = selectors.flow_counts()[FlowStatus.REQUESTED]
    return render(request, "systems/systems.html", {
        "rows": shown, "status": status, "criticality": criticality,
        "status_tiles": [(label, by_status.get(value, 0), value,
                          "warn" if value in (SystemStatus.PLANNED, SystemStatus.INSTALLED)
                          and by_status.get(value) else "ok" if by_status.get(value) else "zero")
                         for value, label in SystemStatus.choices],
        "criticality_tiles": [(label, by_criticality.get(value, 0), value)
                              for value, label in Criticality.choices],
        "waiting": waiting, "findings": findings,
        "may_change": services.may_change_register(me),
    })


# --- one system -----------------------------------------------------------------------------


def _system(name: str) -> System:
    return get_object_or_404(System.objects.select_related(
        "host", "primary_admin", "secondary_admin", "inspected_by", "critical_authority"),
        name=name)


def system(request: HttpRequest, name: str) -> HttpResponse:
    me = _reader(request)
    subject = _system(name)
    flows = list(subject.flows.select_related("peer_system", "requested_by", "decided_by"))
    for flow in flows:
        flow.past_end = selectors.is_past_end(flow)  # type: ignore[attr-defined]
    inbound = list(Flow.objects.filter(peer_system=subject).exclude(system=subject)
                   .select_related("system"))
    steps = [t.name for t in SYSTEM.moves_from(subject.status)]
    return render(request, "systems/system.html", {
        "system": subject, "addresses": subject.addresses.all(),
        "dns": subject.dns_records.all(), "guests": subject.guests.all(),
        "ingress": [f for f in flows if f.direction == Direction.INGRESS],
        "egress": [f for f in flows if f.direction == Direction.EGRESS],
        "peers": inbound,
        "running_services": _entries(subject.running_services),
        "databases": _entries(subject.databases), "monitoring": _entries(subject.monitoring),
        "applications": _entries(subject.applications),
        "findings": controls.findings_for(subject, controls.register_findings()),
        "history": _with_changes(selectors.history_of(subject, me)), "steps": steps,
        "may_change": services.may_change_register(me)
        and subject.status != SystemStatus.RETIRED,
        "may_decide": services.may_decide_flows(me),
        # What the system's host agent reports, as on its own page (views_agent), for
        # those who may read agent reports (not every reader of the register).
        "agent_panel": render_to_string("systems/_agent.html",
                                        views_agent.panel_context(subject, me), request)
        if agents.may_see_agents(me) else "",
    })


def _with_changes(entries: list[Any]) -> list[Any]:
    """Each entry with `.changes`: (field, before, after) from its details, the history a
    reader of the system's page wants (before is None for a field that was not set)."""
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        before, after = details.get("before") or {}, details.get("after") or {}
        if isinstance(after, list) or isinstance(before, list):
            entry.changes = [("entries", _listed(before), _listed(after))]
        else:
            entry.changes = [(key, before.get(key) if isinstance(before, dict) else None,
                              value) for key, value in after.items()]
    return entries


def _listed(rows: Any) -> str:
    return "; ".join(" ".join(str(v) for v in row.values() if v) for row in rows or [])


def system_new(request: HttpRequest) -> HttpResponse:
    me = _changer(request)
    form = SystemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.add_system(
            actor=me, **form.cleaned_data), "System recorded.")
        if created:
            return redirect(created)
    return _form_page(request, form, "Record a system", "/systems/",
                      note="Every change is an Event Log entry; a critical system is added "
                      "by Board decision (SP 1.1).")


def system_edit(request: HttpRequest, name: str) -> HttpResponse:
    me = _changer(request)
    subject = _system(name)
    initial = {k: getattr(subject, k) for k in ("kind", "criticality", "purpose", "contact",
                                                "os_name", "os_release", "disk_encryption",
                                                "build_document")}
    initial.update(host=subject.host, computer=subject.computer_id)
    form = SystemEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "authority"}
        done = perform(request, form, lambda: services.update_system(
            actor=me, system=subject, authority=form.cleaned_data["authority"], **changes),
            "System changed.")
        if done:
            return redirect(done)
    return _form_page(request, form, f"Change {subject}", subject.get_absolute_url(),
                      subject=subject, note="A critical system is changed only under a "
                      "Board decision (SP 1.1).")


def system_administrators(request: HttpRequest, name: str) -> HttpResponse:
    me = _changer(request)
    subject = _system(name)
    form = AdministratorsForm(request.POST or None, initial={
        "primary": subject.primary_admin, "secondary": subject.secondary_admin})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = perform(request, form, lambda: services.set_administrators(
            actor=me, system=subject, primary=data["primary"], secondary=data["secondary"],
            authority=data["authority"]), "Administrators named.")
        if done:
            return redirect(done)
    return _form_page(request, form, f"Administrators of {subject}", subject.get_absolute_url(),
                      subject=subject, note="Two distinct Systems Administrators (SP 1.2).")


def system_addresses(request: HttpRequest, name: str) -> HttpResponse:
    me = _changer(request)
    subject = _system(name)
    form = AddressesForm(request.POST or None, initial={
        "addresses": "\n".join(f"{a.network} {a.address} {a.interface}".strip()
                               for a in subject.addresses.all()),
        "dns_records": "\n".join(f"{r.name} {r.rtype} {r.content}"
                                 for r in subject.dns_records.all())})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def both() -> System:
            # One transaction: the addresses and the names change together or not at all.
            changed = 0
            with transaction.atomic():
                for call in (_addresses_call, _dns_call):
                    try:
                        call(me, subject, data)
                        changed += 1
                    except RuleViolation as exc:
                        if not exc.message.startswith("nothing to change"):
                            raise
            if not changed:
                raise RuleViolation("nothing to change: these are its addresses and DNS "
                                    "records")
            return subject

        if perform(request, form, both, "Addresses and DNS records saved.") is not None:
            return redirect(subject)
    return _form_page(request, form, f"Addresses and DNS of {subject}",
                      subject.get_absolute_url(), subject=subject)


def _addresses_call(me: Any, subject: System, data: dict[str, Any]) -> System:
    return services.set_addresses(actor=me, system=subject, addresses=data["addresses"],
                                  authority=data["authority"])


def _dns_call(me: Any, subject: System, data: dict[str, Any]) -> System:
    return services.set_dns_records(actor=me, system=subject, records=data["dns_records"],
                                    authority=data["authority"])


def _step_page(request: HttpRequest, name: str, form_class: type, title: str,
               call: Callable[[Any, System, dict[str, Any]], System], done: str
               ) -> HttpResponse:
    me = _changer(request)
    subject = _system(name)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = perform(request, form, lambda: call(me, subject, form.cleaned_data), done)
        if result:
            return redirect(result)
    return _form_page(request, form, f"{title}: {subject}", subject.get_absolute_url(),
                      subject=subject)


def system_install(request: HttpRequest, name: str) -> HttpResponse:
    return _step_page(request, name, InstallForm, "Record the installation",
                      lambda me, s, d: services.record_installation(actor=me, system=s, **d),
                      "Installation recorded; inspect the system before it serves.")


def system_inspect(request: HttpRequest, name: str) -> HttpResponse:
    return _step_page(request, name, InspectForm, "Inspect",
                      lambda me, s, d: services.record_inspection(actor=me, system=s, **d),
                      "Inspection recorded.")


def system_retire(request: HttpRequest, name: str) -> HttpResponse:
    return _step_page(request, name, RetireForm, "Retire",
                      lambda me, s, d: services.retire_system(actor=me, system=s, **d),
                      "System retired.")


# --- flows ----------------------------------------------------------------------------------


def flow_new(request: HttpRequest, name: str) -> HttpResponse:
    me = _changer(request)
    subject = _system(name)
    form = FlowRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.request_flow(
            actor=me, system=subject, **form.cleaned_data),
            "Flow requested: it takes effect when the Systems Administration team leader "
            "approves it.")
        if created:
            return redirect(subject)
    return _form_page(request, form, f"Request a flow for {subject}",
                      subject.get_absolute_url(), subject=subject,
                      note="SM 3.1.2: ingress names its port, service, origin and purpose; "
                      "egress its destination, port and purpose. SP 3.1.1.2: it takes "
                      "effect only when the team leader approves.")


def flows(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    status = request.GET.get("status", "")
    rows = selectors.pending_first(selectors.flows_listed(status))
    for flow in rows:
        flow.past_end = selectors.is_past_end(flow)  # type: ignore[attr-defined]
    counts = selectors.flow_counts()
    return render(request, "systems/flows.html", {
        "rows": rows, "status": status,
        "counts": [(label, counts[value], value) for value, label in FlowStatus.choices],
        "findings": controls.temporary_access_ended() + controls.requests_decided(),
        "may_decide": services.may_decide_flows(me),
        "may_change": services.may_change_register(me), "me": me,
    })


def _flow(pk: int) -> Flow:
    return get_object_or_404(Flow.objects.select_related("system", "requested_by"), pk=pk)


def flow_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    me = person_at_form(request, services.may_decide_flows, LEADER_ONLY)
    subject = _flow(pk)
    form = FlowDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = perform(request, form, lambda: services.decide_flow(
            actor=me, flow=subject, approve=data["decision"] == "approve",
            reason=data["reason"], authority=data["authority"]), "Decision recorded.")
        if done:
            return redirect("systems:flows")
    return _form_page(request, form, f"Decide flow {subject}", "/systems/flows/",
                      subject=subject.system, note=_flow_note(subject))


def flow_end(request: HttpRequest, pk: int) -> HttpResponse:
    me = _changer(request)
    subject = _flow(pk)
    form = FlowEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = perform(request, form, lambda: services.end_flow(
            actor=me, flow=subject, **form.cleaned_data),
            "Flow ended." if subject.status == FlowStatus.APPROVED else "Request withdrawn.")
        if done:
            return redirect(subject.system)
    verb = "End" if subject.status == FlowStatus.APPROVED else "Withdraw"
    return _form_page(request, form, f"{verb} flow {subject}", subject.system.get_absolute_url(),
                      subject=subject.system, note=_flow_note(subject))


def _flow_note(flow: Flow) -> str:
    by = flow.requested_by or "the command line"
    until = f"; temporary until {flow.temporary_until:%Y-%m-%d %H:%M}" if (
        flow.temporary_until) else ""
    return (f"{flow.get_direction_display()} {flow.port_label} {flow.service} "
            f"{'from' if flow.direction == Direction.INGRESS else 'to'} {flow.peer}: "
            f"{flow.purpose}. {FLOW.label(flow.status).capitalize()}, requested by {by}{until}.")
