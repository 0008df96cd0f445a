"""Pages for visits and the codes & devices register. Every change goes through
visits.services; a refusal is shown on the form that asked for it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.core.errors import Refused
from secman.core.views import actor_of, perform, person_at_form, post_only, refuse_to_messages
from secman.eventlog.selectors import history_for
from secman.people.models import Person
from secman.visits import controls, services
from secman.visits import devices as register
from secman.visits.choices import VisitStatus
from secman.visits.forms import (
    AuthoriseForm,
    CheckInForm,
    CheckOutForm,
    DeviceForm,
    EmergencyForm,
    IssueForm,
    ReportForm,
    RulingForm,
    VisitRequestForm,
)
from secman.visits.lifecycles import VISIT
from secman.visits.models import Device, Holding, Visit
from secman.visits.notifications import close_mail_of, close_mail_text
from secman.visits.selectors import why_not_authorised

# --- visits -------------------------------------------------------------------------------


def visits(request: HttpRequest) -> HttpResponse:
    rows = Visit.objects.select_related("requested_by", "case", "ruling").prefetch_related(
        "participants__person")
    status = request.GET.get("status", "")
    if status in VisitStatus.values:
        rows = rows.filter(status=status)
    emergency = request.GET.get("emergency", "")
    if emergency == "yes":
        rows = rows.filter(is_emergency=True)
    me = actor_of(request)
    return render(request, "visits/visits.html", {
        "rows": rows, "status": status, "statuses": VisitStatus.choices,
        "emergency": emergency,
        "may_request": services.may_request_visit(me),
        "may_record_emergency": services.may_record_emergency(me),
        "findings": controls.visit_findings() + controls.emergency_findings(),
    })


def visit_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_request_visit,
                        "only people on the Physical Access List or the Physical Control "
                        "List request visits (SM 2.3.1)")
    form = VisitRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.request_visit(
            actor=me, **form.cleaned_data), "Visit requested; it needs authorisation.")
        if created:
            return redirect(created)
    return render(request, "visits/form.html", {
        "form": form, "title": "Request a visit", "section": "SM 2.3.1",
        "lead": "A visit to the equipment is requested by someone on the Physical Access "
                "List or the Physical Control List and authorised before it takes place.",
        "button": "Request the visit"})


def emergency_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_record_emergency,
                        "an emergency access is recorded by a Systems Administrator, an "
                        "Access Engineer or someone on the physical lists (SP 2.3.4)")
    form = EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.record_emergency(
            actor=me, **form.cleaned_data),
            "Emergency access recorded; a dispute was filed with the Arbitrator.")
        if created:
            return redirect(created)
    return render(request, "visits/form.html", {
        "form": form, "title": "Record an emergency access", "section": "SP 2.3.4",
        "lead": "There is no procedure for emergency access. Recording one files a dispute "
                "with its circumstances before an independent Arbitrator; the visit awaits "
                "after-the-fact authorisation until the ruling is linked.",
        "button": "Record and file the dispute"})


def _visit_forms(visit: Visit, bound: dict[str, forms.Form]) -> dict[str, forms.Form]:
    on_site = Person.objects.filter(pk__in=visit.participants.filter(
        checked_out_at__isnull=True).values("person"))
    made: dict[str, forms.Form] = {
        "authorise": AuthoriseForm(), "check_in": CheckInForm(),
        "check_out": CheckOutForm(on_site=on_site), "report": ReportForm(),
        "ruling": RulingForm(initial={"case": visit.case.number if visit.case else ""}),
    }
    made.update(bound)
    return made


def _detail(request: HttpRequest, visit: Visit, bound: dict[str, forms.Form] | None = None,
            status: int = 200) -> HttpResponse:
    visit = Visit.objects.select_related(
        "requested_by", "authorised_by", "authority", "case", "ruling", "closed_by").get(
        pk=visit.pk)
    reports = {r.kind: r for r in visit.reports.select_related("author")}
    me = actor_of(request)
    history = history_for(visit, me)
    closed = next((e for e in history if e.action == "visits.visit.close"), None)
    return render(request, "visits/visit.html", {
        "visit": visit, "participants": visit.participants.select_related("person"),
        "reports": reports, "forms": _visit_forms(visit, bound or {}),
        # The steps this reader may take now; a form refused a moment ago stays shown.
        "may": {"authorise": services.may_authorise_visit(me, visit),
                "check_in": services.may_check_in(me, visit),
                "check_out": services.may_check_out(me, visit),
                "report": services.may_file_report(me, visit),
                "ruling": services.may_link_ruling(me, visit),
                "close": services.may_close_visit(me, visit)},
        "history": history,
        # What the close entry says about its mail, where the reader may see its details.
        "close_mail": close_mail_text(closed.details) if closed and closed.visible else "",
        "findings": [f for f in controls.visit_findings() + controls.emergency_findings()
                     if f.url == visit.get_absolute_url()],
        # The steps the page offers: only those the lifecycle allows from here.
        "moves": {t.name for t in VISIT.moves_from(visit.status)},
    }, status=status)


def visit(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Visit, pk=pk))


STEPS = {
    "authorise": (AuthoriseForm, "Visit authorised.",
                  lambda me, v, d: services.authorise_visit(actor=me, visit=v, **d)),
    "check_in": (CheckInForm, "Checked in.",
                 lambda me, v, d: services.check_in(actor=me, visit=v, **d)),
    "check_out": (CheckOutForm, "Checked out.",
                  lambda me, v, d: services.check_out(actor=me, visit=v, **d)),
    "report": (ReportForm, "Report filed.",
               lambda me, v, d: services.file_report(actor=me, visit=v, **d)),
    "ruling": (RulingForm, "Ruling linked: the emergency access is authorised after the fact.",
               lambda me, v, d: services.link_ruling(actor=me, visit=v, **d)),
}


@post_only(lambda pk, step: reverse("visits:visit", args=[pk]))
def visit_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    subject = get_object_or_404(Visit, pk=pk)
    me = actor_of(request)
    if step == "close":
        try:
            services.close_visit(actor=me, visit=subject)
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Visit closed; {close_mail_of(subject)}.")
        return redirect(subject)
    if step not in STEPS:
        raise Http404("no such step")
    form_class, done, action = STEPS[step]
    kwargs: dict[str, Any] = {}
    if form_class is CheckOutForm:
        kwargs["on_site"] = Person.objects.filter(pk__in=subject.participants.filter(
            checked_out_at__isnull=True).values("person"))
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        data = dict(form.cleaned_data)
        if "at" in data and data["at"] is None:
            del data["at"]
        if perform(request, form, lambda: action(me, subject, data), done) is not None:
            return redirect(subject)
    return _detail(request, subject, {step: form})


# --- codes and devices --------------------------------------------------------------------


def devices(request: HttpRequest) -> HttpResponse:
    me = actor_of(request)
    form = DeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: register.register_device(
            actor=me, **form.cleaned_data), "Device registered.")
        if created:
            return redirect(created)
    rows = Device.objects.prefetch_related("holdings__holder")
    table = [(device, [(h, why_not_authorised(h.holder))
                       for h in device.holdings.all() if h.returned_at is None])
             for device in rows]
    return render(request, "visits/devices.html", {
        "table": table, "form": form, "may_manage": register.may_manage_register(me),
        "findings": controls.holder_findings(),
    })


def _device_page(request: HttpRequest, device: Device, form: IssueForm | None = None,
                 status: int = 200) -> HttpResponse:
    me = actor_of(request)
    holdings = [(h, why_not_authorised(h.holder) if h.returned_at is None else "",
                 register.may_return_device(me, h))
                for h in device.holdings.select_related(
                    "holder", "issued_by", "returned_by", "authority")]
    return render(request, "visits/device.html", {
        "device": device, "holdings": holdings, "form": form or IssueForm(),
        "may_manage": register.may_manage_register(me),
        "history": history_for(device, me),
    }, status=status)


def device(request: HttpRequest, pk: int) -> HttpResponse:
    return _device_page(request, get_object_or_404(Device, pk=pk))


@post_only(lambda pk: reverse("visits:device", args=[pk]))
def device_issue(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(Device, pk=pk)
    me = actor_of(request)
    form = IssueForm(request.POST)
    if form.is_valid() and perform(request, form, lambda: register.issue_device(
            actor=me, device=subject, **form.cleaned_data), "Issued.") is not None:
        return redirect(subject)
    return _device_page(request, subject, form)


@post_only(lambda pk: reverse("visits:devices"))
def holding_return(request: HttpRequest, pk: int) -> HttpResponse:
    holding = get_object_or_404(Holding.objects.select_related("device"), pk=pk)
    me = actor_of(request)
    refuse_to_messages(request, lambda: register.return_device(actor=me, holding=holding),
                       "Return recorded.")
    return redirect(holding.device)
