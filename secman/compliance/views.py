from __future__ import annotations

import functools
from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import ModelChoiceField
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.compliance import evaluation, selectors, services
from secman.compliance.forms import (
    AcceptForm,
    AttestForm,
    CompleteForm,
    DesignateForm,
    ScheduleForm,
    SkipForm,
    WithdrawForm,
)
from secman.compliance.lifecycles import OCCURRENCE
from secman.compliance.models import Acceptance, Attestation, Duty, Occurrence
from secman.core.accounts import person_for_user
from secman.core.controls import TONE, Kind, Status, control, duty_review
from secman.core.errors import NotAllowed
from secman.core.views import (
    actor_of,
    perform,
    post_only,
    refuse_to_messages,
    refused_before_the_body,
)
from secman.people.models import Membership


def dashboard(request: HttpRequest) -> HttpResponse:
    results = evaluation.evaluate_current()
    tally = evaluation.counts(results)
    return render(request, "compliance/dashboard.html", {
        # The body is the same for every reader; it is cached per evaluation (the template's
        # {% cache %} keyed by `state`), so the chapters and acceptances are passed as
        # callables the template calls only when it renders the body afresh.
        "state": f"{id(results)}-{results[0].evaluated_at.timestamp() if results else 0}",
        "chapter_rows": functools.cache(lambda: selectors.chapters(results)),
        "acceptances": functools.cache(selectors.active_acceptances),
        "tiles": [(status.label, tally[status], TONE[status], status.value)
                  for status in reversed(Status) if status != Status.NOT_APPLICABLE
                  or tally[status]],
        "results": results,
        "evaluated_at": results[0].evaluated_at if results else None,
    })


def _result_for(control_id: str) -> evaluation.Result:
    declared = control(control_id)
    if declared is None:
        raise Http404("no such control")
    return evaluation.evaluate([declared])[0]


def control_page(request: HttpRequest, control_id: str) -> HttpResponse:
    result = _result_for(control_id)
    me = person_for_user(request.user)
    duty = Duty.objects.filter(control_id=control_id).select_related("assignee").first()
    context = {"result": result, "control": result.control, "duty": duty,
               "acceptances": Acceptance.objects.filter(control_id=control_id)
               .select_related("authority", "accepted_by", "withdrawn_by"),
               "may_accept": services.may_accept(me),
               "accept_form": AcceptForm(initial={"kind": "exception"})}
    if duty is not None:
        occurrences = duty.occurrences.select_related("completed_by", "authority")
        context["past"] = list(occurrences.filter(due_at__lte=result.evaluated_at)
                               .order_by("-due_at")[:20])
        context["upcoming"] = list(occurrences.filter(due_at__gt=result.evaluated_at)[:5])
        context["may_schedule"] = services.may_plan(me, duty.owner)
        context["schedule_form"] = ScheduleForm(initial={"schedule": duty.schedule})
        if result.control.designated:
            form = DesignateForm(initial={"person": duty.assignee_id})
            person = cast(ModelChoiceField, form.fields["person"])
            assert person.queryset is not None  # DesignateForm declares one
            person.queryset = person.queryset.filter(
                pk__in=Membership.objects.active().filter(team__kind=duty.owner)
                .values("person_id"))
            context["designate_form"] = form
    if result.control.kind == Kind.ATTESTATION:
        context["attestations"] = Attestation.objects.filter(
            control_id=control_id).select_related("person", "authority")[:20]
        context["may_attest"] = services.may_attest(me, result.control)
        context["attest_form"] = AttestForm()
    return render(request, "compliance/control.html", context)


@post_only(lambda control_id, **_: reverse("compliance:control", args=[control_id]))
def control_action(request: HttpRequest, control_id: str, action: str) -> HttpResponse:
    me = actor_of(request)
    declared = control(control_id)
    if declared is None:
        raise Http404("no such control")
    duty = Duty.objects.filter(control_id=control_id).first()
    forms = {"schedule": ScheduleForm, "designate": DesignateForm, "attest": AttestForm,
             "accept": AcceptForm}
    if action not in forms:
        raise Http404("no such action")
    form = forms[action](request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{name}: {' '.join(str(e) for e in errors)}"
                                          for name, errors in form.errors.items()))
        return redirect("compliance:control", control_id)
    data = form.cleaned_data
    calls = {
        "schedule": lambda: services.set_schedule(actor=me, duty=_need(duty), **data),
        "designate": lambda: services.designate(actor=me, duty=_need(duty), **data),
        "attest": lambda: services.attest(actor=me, control_id=control_id, **data),
        "accept": lambda: services.accept(actor=me, control_id=control_id, **data),
    }
    done = {"schedule": "Schedule changed.", "designate": "Designation recorded.",
            "attest": "Attestation recorded.", "accept": "Acceptance recorded."}
    refuse_to_messages(request, calls[action], done[action])
    return redirect("compliance:control", control_id)


def _need(duty: Duty | None) -> Duty:
    if duty is None:
        raise services.RuleViolation("this duty has no schedule yet: run `secman duties run`")
    return duty


def _acceptance_page(pk: int) -> str:
    control_id = Acceptance.objects.filter(pk=pk).values_list("control_id", flat=True).first()
    return (reverse("compliance:control", args=[control_id]) if control_id
            else reverse("compliance:dashboard"))


@post_only(_acceptance_page)
def acceptance_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    me = actor_of(request)
    acceptance = get_object_or_404(Acceptance, pk=pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        refuse_to_messages(request, lambda: services.withdraw_acceptance(
            actor=me, acceptance=acceptance, **form.cleaned_data), "Acceptance withdrawn.")
    return redirect("compliance:control", acceptance.control_id)


def _why_not_post_to_occurrence(request: HttpRequest, pk: int) -> str | None:
    """Who may neither complete nor skip it is refused before an evidence file is read."""
    item = get_object_or_404(Occurrence.objects.select_related("duty"), pk=pk)
    me = person_for_user(request.user)
    why = services.why_not_complete(me, item)
    if why is None or services.may_skip(me, item.duty.owner):
        return None
    return str(why)


@refused_before_the_body(_why_not_post_to_occurrence)
def occurrence(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Occurrence.objects.select_related(
        "duty__assignee", "completed_by", "authority", "signoff"), pk=pk)
    declared = control(item.duty.control_id)
    me = person_for_user(request.user)
    form = CompleteForm(request.POST or None, request.FILES or None,
                        initial={"authority": declared.sections[-1] if declared else ""})
    skip_form = SkipForm()
    if request.method == "POST" and request.POST.get("action") == "skip":
        skip_form = SkipForm(request.POST)
        if skip_form.is_valid():
            done = perform(request, skip_form, lambda: services.skip_occurrence(
                actor=actor_of(request), occurrence=item, **skip_form.cleaned_data),
                "Occurrence skipped with authority.")
            if done:
                return redirect(item)
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["evidence_file"]
        # One byte past the limit is enough for the service to refuse it by its size.
        evidence = ((upload.name, upload.read(services.MAX_EVIDENCE_BYTES + 1)) if upload
                    else None)
        done = perform(request, form, lambda: services.complete_occurrence(
            actor=actor_of(request), occurrence=item, note=form.cleaned_data["note"],
            evidence=evidence, event_seq=form.cleaned_data["event_seq"],
            authority=form.cleaned_data["authority"] or None),
            "Duty completed." if not item.duty.four_eyes else
            "Recorded; it is done when a second team member signs off.")
        if done:
            return redirect(item)
    moves = {t.name for t in OCCURRENCE.moves_from(item.status)}
    review = duty_review(item.duty.control_id)
    return render(request, "compliance/occurrence.html", {
        "occurrence": item, "control": declared, "form": form, "skip_form": skip_form,
        "review_template": review.template if review else "",
        "review": review.context(item.period_start, item.due_at) if review else {},
        "overdue": item.is_overdue(),
        "may_complete": "complete" in moves and services.may_complete(me, item),
        "may_see_evidence": services.may_see_evidence(me, item),
        "may_skip": "skip" in moves and services.may_skip(me, item.duty.owner),
    })


def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """Evidence files are for the owning team, the Board and auditors."""
    item = get_object_or_404(Occurrence.objects.select_related("duty"), pk=pk)
    try:
        path = services.evidence_for(reader=actor_of(request), occurrence=item)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    if path is None:
        raise Http404("no evidence file")
    if not path.is_file():
        raise Http404("the evidence file is missing from the data dir")
    return FileResponse(path.open("rb"), as_attachment=True,
                        filename=item.evidence_name or item.evidence_sha256)
