"""The incidents' pages: the list at a glance, opening one (from an anomaly, a security
bug or by hand), and each incident's page, where every step of SM 5 is a small form.
Changes go through incidents.services."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.core.views import (
    actor_of,
    perform,
    person_at_form,
    post_only,
    refuse_to_messages,
)
from secman.eventlog.selectors import history_for
from secman.incidents import checklists, services
from secman.incidents import forms as f
from secman.incidents.choices import (
    INTRUSION_OR_WORSE,
    ISOLATE_FIRST,
    NEEDS_CASE,
    IncidentStatus,
    Source,
)
from secman.incidents.models import Evidence, Incident, ResponseStep
from secman.logs.models import Anomaly, AnomalyStatus
from secman.systems.models import System

READERS = "incidents are listed for everyone who holds a role"
OPENERS = "incidents are reported by the members of the critical teams"


def _tone(incident: Incident) -> str:
    if incident.severity in NEEDS_CASE:
        return "bad"
    return "warn" if incident.severity in INTRUSION_OR_WORSE else "info"


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_see_incidents, READERS)
    rows = list(Incident.objects.select_related("case").prefetch_related("systems"))
    open_rows = [i for i in rows if i.status == IncidentStatus.OPEN]
    tiles = [("Open", len(open_rows), "warn" if open_rows else "ok"),
             ("Intrusion or worse, open", sum(i.intrusion_or_worse for i in open_rows),
              "bad" if any(i.intrusion_or_worse for i in open_rows) else "ok"),
             ("Waiting for their report", sum(not hasattr(i, "report") for i in open_rows),
              "info"),
             ("Closed", len(rows) - len(open_rows), "info")]
    return render(request, "incidents/incidents.html", {
        "rows": [(i, _tone(i)) for i in rows], "tiles": tiles,
        "by_severity": Counter(i.get_severity_display() for i in rows).most_common(),
        "may_open": services.may_open(me)})


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_open, OPENERS)
    anomaly = None
    if request.GET.get("anomaly", "").isdigit():
        anomaly = get_object_or_404(Anomaly.objects.select_related("rule"),
                                    pk=int(request.GET["anomaly"]),
                                    status=AnomalyStatus.OPEN)
    initial: dict[str, Any] = {}
    if anomaly is not None:
        initial = {"title": str(anomaly), "description": (
            f"Anomaly {anomaly.pk}: {anomaly.rule.title} on {anomaly.host}, {anomaly.matches} "
            f"matching messages from {anomaly.first_seen:%Y-%m-%d %H:%M} to "
            f"{anomaly.last_seen:%Y-%m-%d %H:%M} UTC."),
            "systems": System.objects.filter(name=anomaly.host.split(".")[0])}
    form = f.OpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = (Source.ANOMALY if anomaly is not None else
                  Source.SECURITY_BUG if data["bug_reference"] else Source.BY_HAND)
        created = perform(request, form, lambda: services.open_incident(
            actor=me, title=data["title"], description=data["description"],
            detection_level=data["detection_level"], severity=data["severity"],
            systems=data["systems"], source=source, anomaly=anomaly,
            bug_reference=data["bug_reference"], cc=data["cc"].split(","),
            war_room=data["war_room"], case=data["case"], file_case=data["file_case"]),
            "The incident is open; the warning is on its way to the warning list.")
        if created is not None:
            return redirect(created)
    return render(request, "incidents/new.html", {"form": form, "anomaly": anomaly})


def _page(request: HttpRequest, incident: Incident,
          bound: tuple[str, forms.Form] | None = None) -> HttpResponse:
    me = actor_of(request)
    restricted = services.may_see_restricted(me)
    respond = services.may_respond(me) and incident.status == IncidentStatus.OPEN
    blank = {name: form_class(prefix=name) for name, (form_class, _) in ACTIONS.items()}
    if bound is not None:
        blank[bound[0]] = bound[1]
    steps = list(incident.steps.select_related("done_by"))
    lists: dict[str, list[tuple[ResponseStep, str]]] = {}
    for step in steps:
        missing = (checklists.CHECKS[step.register_check](incident)
                   if step.register_check and not step.done_at and respond else "")
        lists.setdefault(f"{step.checklist_title} ({step.section})", []).append((step, missing))
    report = getattr(incident, "report", None)
    names = {str(pk): name for pk, name in System.objects.values_list("pk", "name")}
    return render(request, "incidents/incident.html", {
        "i": incident, "tone": _tone(incident), "restricted": restricted, "respond": respond,
        "write": services.may_write_timeline(me) and incident.status == IncidentStatus.OPEN,
        "forms": blank, "checklists": lists, "report": report,
        "show_summary": report is not None and (not report.embargoed or restricted),
        "isolate_first": incident.severity in ISOLATE_FIRST and not incident.isolated_at,
        "why_not_close": services.why_not_close(incident),
        "timeline": incident.timeline.select_related("written_by") if restricted else [],
        "evidence": [(item, f.HandOverForm(prefix=f"hand{item.pk}"))
                     for item in incident.evidence.select_related("holder", "collected_by")
                     .prefetch_related("custody__from_person", "custody__to_person")]
        if restricted else [],
        "holds": [(hold, names.get(hold.subject_id, hold.subject_id))
                  for hold in incident.case.legal_holds.filter(released_at__isnull=True)]
        if incident.case is not None and restricted else [],
        "history": history_for(incident, me) if restricted else []})


@login_required
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    person_at_form(request, services.may_see_incidents, READERS)
    return _page(request, get_object_or_404(Incident, pk=pk))


def _opt(value: Any) -> Any:
    return value if value not in ("", None) else None


# Each form on the incident's page: its class, and the service call its valid data makes.
Call = Callable[[Any, Incident, dict[str, Any]], Any]
ACTIONS: dict[str, tuple[type[forms.Form], Call]] = {
    "severity": (f.SeverityForm, lambda me, i, d: services.change_severity(
        actor=me, incident=i, severity=d["severity"], reason=d["reason"], case=d["case"],
        file_case=d["file_case"])),
    "isolate": (f.IsolationForm, lambda me, i, d: services.record_isolation(
        actor=me, incident=i, how=d["how"])),
    "escalate": (f.EscalateForm, lambda me, i, d: services.escalate(
        actor=me, incident=i, case=d["case"], file_case=d["file_case"])),
    "management": (f.ManagementForm, lambda me, i, d: services.bring_in_management(
        actor=me, incident=i, person=d["person"], reason=d["reason"])),
    "war_room": (f.WarRoomForm, lambda me, i, d: services.set_war_room(
        actor=me, incident=i, war_room=d["war_room"])),
    "timeline": (f.TimelineForm, lambda me, i, d: services.write_timeline(
        actor=me, incident=i, kind=d["kind"], text=d["text"])),
    "evidence": (f.EvidenceForm, lambda me, i, d: services.add_evidence(
        actor=me, incident=i, label=d["label"], description=d["description"],
        sha256=d["sha256"], size=_opt(d["size"]), location=d["location"])),
    "archive": (f.ArchiveForm, lambda me, i, d: services.archive_logs(
        actor=me, incident=i, since=d["since"], until=_opt(d["until"]))),
    "checklist": (f.ChecklistForm, lambda me, i, d: services.choose_checklist(
        actor=me, incident=i, name=d["checklist"])),
    "step": (f.StepForm, lambda me, i, d: services.complete_step(
        actor=me, step=get_object_or_404(ResponseStep, pk=d["step"], incident=i),
        note=d["note"])),
    "report": (f.ReportForm, lambda me, i, d: services.publish_report(
        actor=me, incident=i, summary=d["summary"], audience=d["audience"],
        appendix=d["appendix"], sensitive=d["sensitive"], embargoed=d["embargoed"])),
    "close": (forms.Form, lambda me, i, d: services.close(actor=me, incident=i)),
}
DONE = {"severity": "Severity changed.", "isolate": "Isolation recorded.",
        "escalate": "The case oversees the incident.", "management": "Management recorded.",
        "war_room": "War room recorded.", "timeline": "Written to the investigation log.",
        "evidence": "Evidence recorded.", "archive": "The related logs are under legal hold.",
        "checklist": "Checklist added.", "step": "Step done.",
        "report": "Report published.", "close": "Incident closed."}


@login_required
@post_only(lambda pk, action: reverse("incidents:incident", args=[pk]))
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("no such action")
    form_class, call = ACTIONS[action]
    me = person_at_form(request, services.may_write_timeline if action in (
        "timeline", "war_room") else services.may_respond,
        "this is done by the incident's responders")
    incident = get_object_or_404(Incident, pk=pk)
    form = form_class(request.POST, prefix=action)
    if form.is_valid() and perform(request, form, lambda: call(
            me, incident, form.cleaned_data) or True, DONE[action]) is not None:
        return redirect(f"{incident.get_absolute_url()}#{action}")
    return _page(request, get_object_or_404(Incident, pk=pk), (action, form))


@login_required
@post_only(lambda pk, evidence: reverse("incidents:incident", args=[pk]))
def hand_over(request: HttpRequest, pk: int, evidence: int) -> HttpResponse:
    me = person_at_form(request, services.may_see_restricted,
                        "evidence is handed over by its holder")
    item = get_object_or_404(Evidence, pk=evidence, incident_id=pk)
    form = f.HandOverForm(request.POST, prefix=f"hand{item.pk}")
    if not form.is_valid():
        messages.error(request, "Hand-over not recorded: " + "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()))
    else:
        refuse_to_messages(request, lambda: services.hand_over(
            actor=me, evidence=item, to=form.cleaned_data["to"],
            location=form.cleaned_data["location"], reason=form.cleaned_data["reason"],
            sha256_checked=form.cleaned_data["sha256_checked"]), f"{item.label} handed over.")
    return redirect(f"{item.incident.get_absolute_url()}#evidence")


@login_required
def appendix(request: HttpRequest, pk: int) -> HttpResponse:
    """A sensitive report's appendix, as the OpenPGP message secman keeps."""
    person_at_form(request, services.may_see_restricted,
                   "the report's appendix is restricted to the responders, management, "
                   "oversight and auditors")
    incident = get_object_or_404(Incident, pk=pk, report__sensitive=True)
    response = HttpResponse(incident.report.appendix_encrypted,
                            content_type="application/pgp-encrypted")
    response["Content-Disposition"] = f'attachment; filename="incident-{pk}-appendix.asc"'
    return response
