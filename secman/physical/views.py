from __future__ import annotations

import io
from collections.abc import Callable

import segno
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.authority.models import SignOffRequest
from secman.core.accounts import person_for_user
from secman.core.views import actor_of, perform, person_at_form, refused_before_the_body
from secman.eventlog.selectors import history_for
from secman.physical import controls, csvio, services
from secman.physical.choices import ComputerStatus, MediaStatus, RetirementMethod
from secman.physical.forms import (
    ComputerForm,
    ComputerStepForm,
    FacilityForm,
    ImportForm,
    MediaForm,
    MediaStepForm,
)
from secman.physical.lifecycles import COMPUTER, MEDIA
from secman.physical.models import Computer, Facility, Media


def _reader(request: HttpRequest):
    me = actor_of(request)
    refusal = services.why_not_see_inventory(me)
    if refusal is not None:
        raise PermissionDenied(str(refusal))
    return me


HARDWARE_ONLY = ("recording hardware is done by Access Engineers and Systems Administrators "
                 "(SP 2.2.1)")


def _hardware_hand(request: HttpRequest):
    """The person at a form that records hardware: one who may submit it. The others are
    not shown a form whose every submission would be refused."""
    _reader(request)  # the inventory's own refusal first, for those who may not see it
    return person_at_form(request, services.may_handle_hardware, HARDWARE_ONLY)


def computers(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    status = request.GET.get("status", "")
    rows = Computer.objects.select_related("facility")
    if status in ComputerStatus.values:
        rows = rows.filter(status=status)
    counts = {s: Computer.objects.filter(status=s).count() for s in ComputerStatus.values}
    return render(request, "physical/computers.html", {
        "rows": rows, "status": status, "statuses": ComputerStatus.choices,
        "counts": [(label, counts[value], value) for value, label in ComputerStatus.choices],
        "findings": controls.inventory_before_service() + controls.computers_to_retire(),
        "may_handle": services.may_handle_hardware(me),
    })


def computer_new(request: HttpRequest) -> HttpResponse:
    me = _hardware_hand(request)
    form = ComputerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.create_computer(
            actor=me, **form.cleaned_data), "Computer recorded as acquired.")
        if created:
            return redirect(created)
    return render(request, "people/form.html", {"form": form, "title": "Record a computer"})


def computer(request: HttpRequest, pk: int) -> HttpResponse:
    me = _reader(request)
    subject = get_object_or_404(Computer, pk=pk)
    offered = [t.name for t in COMPUTER.moves_from(subject.status)]
    form = ComputerStepForm(request.POST or None, offered=offered)
    if request.method == "POST" and form.is_valid():
        step, note = form.cleaned_data["step"], form.cleaned_data["note"]
        authority = form.cleaned_data["authority"]
        actions: dict[str, Callable[[], Computer | SignOffRequest]] = {
            "inventory": lambda: services.inventory_computer(actor=me, computer=subject,
                                                             authority=authority),
            "in_service": lambda: services.put_in_service(actor=me, computer=subject,
                                                          legal_owner=note, authority=authority),
            "maintenance": lambda: services.request_maintenance(
                actor=me, computer=subject, work=note, authority=authority),
            "service_risk": lambda: services.record_service_risk(
                actor=me, computer=subject, reason=note, authority=authority),
            "retire": lambda: services.retire_computer(actor=me, computer=subject, reason=note,
                                                       authority=authority),
        }
        result = perform(request, form, actions[step], "Recorded.")
        if result is not None:
            return redirect(result)
    return render(request, "physical/computer.html", {
        "computer": subject, "form": form, "offered": offered, "media": subject.media.all(),
        "missing": subject.missing_inventory(), "history": history_for(subject, me),
        "may_handle": services.may_handle_hardware(me)})


def computer_label(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    subject = get_object_or_404(Computer, pk=pk)
    # The code holds the asset tag and nickname, not a URL: a label outlives host names.
    qr = segno.make(f"{subject.asset_tag} {subject.nickname}".strip(), error="m")
    return render(request, "physical/label.html", {
        "computer": subject, "qr": qr.svg_data_uri(scale=4),
        # SP 2.2.1: "distinctly and uniquely identified on all visible sides".
        "sides": ["front", "back", "left side", "right side", "top"]})


def computers_csv(request: HttpRequest) -> HttpResponse:
    _reader(request)
    out = io.StringIO()
    csvio.export_computers(out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="computers.csv"'
    return response


def media(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    status = request.GET.get("status", "")
    rows = Media.objects.select_related("computer", "holder")
    if status in MediaStatus.values:
        rows = rows.filter(status=status)
    counts = {s: Media.objects.filter(status=s).count() for s in MediaStatus.values}
    return render(request, "physical/media.html", {
        "rows": rows, "status": status, "statuses": MediaStatus.choices,
        "counts": [(label, counts[value], value) for value, label in MediaStatus.choices],
        "findings": controls.sealed_media_past_expiry() + controls.media_reports_complete()
        + controls.media_in_retired_computers(),
        "may_handle": services.may_handle_hardware(me),
    })


def media_new(request: HttpRequest) -> HttpResponse:
    me = _hardware_hand(request)
    form = MediaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["present"] = list(data["present"])
        created = perform(request, form, lambda: services.register_media(actor=me, **data),
                          "Medium inventoried as provisioned.")
        if created:
            return redirect(created)
    return render(request, "people/form.html", {"form": form,
                                                 "title": "Inventory a storage medium"})


def media_item(request: HttpRequest, pk: int) -> HttpResponse:
    me = _reader(request)
    subject = get_object_or_404(Media.objects.select_related("computer"), pk=pk)
    offered = [t.target_from(subject.status) for t in MEDIA.moves_from(subject.status)]
    if subject.retirement_method == RetirementMethod.SEALED and not subject.destroyed_at:
        offered.append("destroyed")  # not a move: a sealed medium stays retired
    form = MediaStepForm(request.POST or None, offered=offered,
                         initial={"location": subject.location})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["present"] = list(data["present"])
        result = perform(request, form, lambda: services.change_media_status(
            actor=me, media=subject, **data),
            "Recorded." if not subject.critical_data else
            "Waiting for two Systems Administrators to sign off (SP 2.2.3.3).")
        if result is not None:
            return redirect(result)
    return render(request, "physical/media_item.html", {
        "media": subject, "form": form, "offered": offered,
        "reports": subject.reports.prefetch_related("present").select_related("authority"),
        "history": history_for(subject, me),
        "may_handle": services.may_handle_hardware(me)})


def media_csv(request: HttpRequest) -> HttpResponse:
    _reader(request)
    out = io.StringIO()
    csvio.export_media(out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="media.csv"'
    return response


def facilities(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    form = FacilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.record_facility(
            actor=me, **form.cleaned_data), "Facility description recorded.")
        if created:
            return redirect(created.facility)
    return render(request, "physical/facilities.html", {
        "facilities": Facility.objects.prefetch_related("revisions"), "form": form,
        "may_describe": services.may_describe_facility(me)})


def facility(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    subject = get_object_or_404(Facility, pk=pk)
    return render(request, "physical/facility.html", {
        "facility": subject, "revisions": subject.revisions.select_related("authority",
                                                                             "recorded_by")})


def _why_not_import(request: HttpRequest, kind: str) -> str | None:
    if services.may_handle_hardware(person_for_user(request.user)):
        return None
    return HARDWARE_ONLY


@refused_before_the_body(_why_not_import)
def inventory_import(request: HttpRequest, kind: str) -> HttpResponse:
    """Upload a CSV of computers or (provisioned) media. Whoever may not import is refused
    the page too, and their post before anything reads the upload."""
    me = _hardware_hand(request)
    media_kind = kind == "media"
    form = ImportForm(request.POST or None, request.FILES or None, media=media_kind)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        content = data["file"].read(csvio.MAX_BYTES + 1)
        if len(content) > csvio.MAX_BYTES:
            report = csvio.ImportReport(dry_run=data["dry_run"],
                                        errors=[csvio.too_large()])
        elif media_kind:
            report = csvio.import_media(content, actor=me, present=list(data["present"]),
                                        authority=data["authority"], dry_run=data["dry_run"])
        else:
            report = csvio.import_computers(content, actor=me, authority=data["authority"],
                                            dry_run=data["dry_run"])
    return render(request, "physical/import.html", {
        "form": form, "report": report,
        "title": "Import storage media" if media_kind else "Import computers",
        "back": reverse("physical:media" if media_kind else "physical:computers")})
