"""The backup register's pages: the jobs with their status at a glance, each job's sets
and restic checks, each set's two-person steps. Changes go through backups.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.authority.models import ArbitrationCase
from secman.backups import controls, selectors, services
from secman.backups.forms import (
    CleanedForm,
    EnvelopeCheckForm,
    EnvelopeForm,
    ExaminationForm,
    JobForm,
    RetentionForm,
    ScheduleForm,
    SetForm,
    StoreForm,
)
from secman.backups.models import (
    BackupJob,
    BackupSet,
    Examination,
    RetentionDecision,
    SealedEnvelope,
)
from secman.core.errors import Refused
from secman.core.views import perform, person_at_form, post_only
from secman.eventlog.selectors import history_for

READERS = ("the backup register is for the critical teams, the Board, the Arbitrators and "
           "auditors")
CHANGERS = "backups are recorded by Systems Administrators (SP 4.3)"


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read_register, READERS)
    return render(request, "backups/overview.html", {
        "rows": selectors.job_rows(), "waiting": selectors.waiting_sets(),
        "tiles": selectors.tiles(), "may_change": services.may_change_register(me)})


@login_required
def job_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_change_register, CHANGERS)
    form = JobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = perform(request, form, lambda: services.add_job(
            actor=me, system=data["system"], name=data["name"], kind=data["kind"],
            frequency_days=data["frequency_days"], authority=data["authority"],
            restic_repository=data["restic_repository"],
            restic_password_file=data["restic_password_file"], storage=data["storage"]),
            "The job is in the register; its first backup is due now.")
        if created is not None:
            return redirect(created.get_absolute_url())
    return render(request, "people/form.html", {"form": form, "title": "New backup job",
                                                "back": reverse("backups:overview")})


@login_required
def job(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_read_register, READERS)
    row = get_object_or_404(BackupJob.objects.select_related("system", "schedule_authority"),
                            pk=pk)
    may_change = services.may_change_register(me)
    schedule = ScheduleForm(request.POST if "frequency_days" in request.POST else None,
                            initial={"frequency_days": row.frequency_days},
                            prefix="schedule")
    new_set = SetForm(request.POST if "label" in request.POST else None, prefix="set")
    if request.method == "POST":
        person_at_form(request, services.may_change_register, CHANGERS)
        if schedule.is_bound and schedule.is_valid() and perform(
                request, schedule, lambda: services.change_schedule(
                    actor=me, job=row, frequency_days=schedule.cleaned_data["frequency_days"],
                    authority=schedule.cleaned_data["authority"]),
                "The schedule is changed.") is not None:
            return redirect(row.get_absolute_url())
        if new_set.is_bound and new_set.is_valid():
            data = new_set.cleaned_data
            made = perform(request, new_set, lambda: services.record_set(
                actor=me, job=row, label=data["label"], methods=data["methods"],
                media=list(data["on_media"]), note=data["note"]),
                "Recorded with your signature; a second Systems Administrator signs that "
                "they made it too (SM 4.3.7).")
            if made is not None:
                return redirect(made.get_absolute_url())
    return render(request, "backups/job.html", {
        "job": row, "sets": row.sets.select_related("made_signoff")[:50],
        "checks": row.checks.select_related("ran_by")[:20], "may_change": may_change,
        "schedule": schedule, "new_set": new_set, "history": history_for(row, me)})


@login_required
def backup_set(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_read_register, READERS)
    row = get_object_or_404(BackupSet.objects.select_related("job__system", "made_signoff",
                                                             "verify_signoff", "stored_by"),
                            pk=pk)
    store = StoreForm(request.POST or None, initial={"location": row.job.storage})
    if request.method == "POST":
        person_at_form(request, services.may_change_register, CHANGERS)
        if store.is_valid() and perform(request, store, lambda: services.store_set(
                actor=me, backup_set=row, location=store.cleaned_data["location"],
                paper_documentation=store.cleaned_data["paper_documentation"]),
                "The set is stored.") is not None:
            return redirect(row.get_absolute_url())
    return render(request, "backups/set.html", {
        "s": row, "media": list(row.media.all()), "store": store,
        "examinations": row.examinations.select_related("case", "opened_by", "cleaned_by"),
        "examine": ExaminationForm(prefix="ex"), "cleaned": CleanedForm(prefix="cl"),
        "may_change": services.may_change_register(me), "history": history_for(row, me)})


@login_required
@post_only(lambda pk: reverse("backups:set", args=[pk]))
def set_verify(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_change_register, CHANGERS)
    row = get_object_or_404(BackupSet, pk=pk)
    try:
        services.start_verification(actor=me, backup_set=row,
                                    comment=request.POST.get("comment", ""))
        messages.success(request, "Signed; a second Systems Administrator signs the "
                         "verification (SP 4.3.6).")
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect(row.get_absolute_url())


@login_required
@post_only(lambda pk: reverse("backups:set", args=[pk]))
def set_examine(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_change_register, CHANGERS)
    row = get_object_or_404(BackupSet, pk=pk)
    form = ExaminationForm(request.POST, prefix="ex")
    if form.is_valid():
        data = form.cleaned_data
        if perform(request, form, lambda: services.open_examination(
                actor=me, backup_set=row, purpose=data["purpose"],
                extracted=data["extracted"], extracted_to=data["extracted_to"],
                case=data["case"], emergency=data["emergency"]),
                "Recorded. Mark it cleaned at the end of the exception.") is not None:
            return redirect(row.get_absolute_url())
    for error in form.errors.values():
        messages.error(request, " ".join(str(e) for e in error))
    return redirect(row.get_absolute_url())


@login_required
@post_only(lambda pk: reverse("backups:overview"))
def examination_cleaned(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_change_register, CHANGERS)
    row = get_object_or_404(Examination, pk=pk)
    form = CleanedForm(request.POST, prefix="cl")
    if form.is_valid():
        try:
            services.mark_cleaned(actor=me, examination=row,
                                  cleaning=form.cleaned_data["cleaning"])
            messages.success(request, "Marked cleaned.")
        except Refused as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Say how the extracted data was cleaned.")
    return redirect(row.get_absolute_url())


@login_required
def envelopes(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read_register, READERS)
    form = EnvelopeForm(request.POST or None)
    if request.method == "POST":
        person_at_form(request, services.may_change_register, CHANGERS)
        if form.is_valid():
            data = form.cleaned_data
            if perform(request, form, lambda: services.seal_envelope(
                    actor=me, label=data["label"], seal=data["seal"],
                    secrets=list(data["secrets"]), custodian=data["custodian"],
                    location=data["location"], replaces=data["replaces"]),
                    "The envelope is in the register.") is not None:
                return redirect(reverse("backups:envelopes"))
    return render(request, "backups/envelopes.html", {
        "envelopes": SealedEnvelope.objects.select_related(
            "custodian", "sealed_by", "last_checked_by", "replaced_by").prefetch_related(
            "secrets"),
        "findings": controls.envelopes_current(), "form": form,
        "check": EnvelopeCheckForm(), "may_change": services.may_change_register(me),
        "may_check": services.may_keep_envelopes(me),
        "may_open": services.may_open_envelopes(me)})


@login_required
@post_only(lambda pk: reverse("backups:envelopes"))
def envelope_check(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_keep_envelopes,
                        "envelopes are checked by Systems Administrators and Board members")
    row = get_object_or_404(SealedEnvelope, pk=pk)
    form = EnvelopeCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether the seal was intact; nothing was recorded.")
        return redirect(reverse("backups:envelopes"))
    try:
        services.check_envelope(actor=me, envelope=row,
                                intact=form.cleaned_data["seal"] == "intact",
                                note=form.cleaned_data.get("note", ""))
        messages.success(request, f"Checked {row.label}.")
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect(reverse("backups:envelopes"))


@login_required
@post_only(lambda pk: reverse("backups:envelopes"))
def envelope_open(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_open_envelopes,
                        "an envelope is opened by a Board member, on a Board decision")
    row = get_object_or_404(SealedEnvelope, pk=pk)
    try:
        services.open_envelope(actor=me, envelope=row,
                               authority=request.POST.get("authority", "").strip())
        messages.success(request, f"{row.label} is recorded opened.")
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect(reverse("backups:envelopes"))


@login_required
def retention(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_see_retention,
                        "data retention directions are for the Arbitrators and the teams "
                        "that carry them out")
    form = RetentionForm(request.POST or None)
    # Only the cases this Arbitrator arbitrates: a direction on another's is refused.
    form.fields["case"].queryset = ArbitrationCase.objects.filter(  # type: ignore[attr-defined]
        arbitrator=me).order_by("-filed_on")
    if request.method == "POST":
        person_at_form(request, services.may_record_retention,
                       "directions are given by the Arbitrator (SM 4.4.1)")
        if form.is_valid():
            data = form.cleaned_data
            if perform(request, form, lambda: services.record_retention_decision(
                    actor=me, case=data["case"], account=data["account"],
                    direction=data["direction"], retain_until=data["retain_until"]),
                    "The direction is recorded.") is not None:
                return redirect(reverse("backups:retention"))
    return render(request, "backups/retention.html", {
        "decisions": RetentionDecision.objects.select_related(
            "case", "recorded_by", "carried_out_by")[:200],
        "findings": controls.retention_carried_out(), "form": form,
        "may_record": services.may_record_retention(me),
        "may_carry_out": services.may_carry_out_retention(me),
        "may_change": services.may_change_register(me),
        "hide_register": not services.may_read_register(me)})


@login_required
@post_only(lambda pk: reverse("backups:retention"))
def retention_done(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_carry_out_retention,
                        "user data is deleted by Systems Administrators or Support Engineers")
    row = get_object_or_404(RetentionDecision, pk=pk)
    try:
        services.carry_out_retention(actor=me, decision=row,
                                     note=request.POST.get("note", ""))
        messages.success(request, "Recorded as carried out.")
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect(reverse("backups:retention"))
