"""Disaster recovery's pages: the processes with their objectives and last exercise at a
glance, the plan, each exercise as a timed checklist, and the Key Persons List's
designations and distributions. Changes go through recovery.services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from secman.core.views import perform, person_at_form
from secman.people.selectors import may_see_key_persons
from secman.recovery import controls, services
from secman.recovery.forms import DesignateForm, ExerciseForm, PlanForm, ProcessForm, StepForm
from secman.recovery.models import BusinessProcess, Distribution, Exercise, RecoveryPlan

READERS = "disaster recovery is shown to everyone who holds a role"


def _last_exercise(process: BusinessProcess) -> Exercise | None:
    return process.exercises.filter(finished_at__isnull=False).order_by("-finished_at").first()


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    maintain, run = services.may_maintain(me), services.may_run_exercise(me)
    process_form = ProcessForm(request.POST if "process-rto_hours" in request.POST else None,
                               prefix="process")
    plan = services.current_plan()
    plan_form = PlanForm(request.POST if "plan-steps" in request.POST else None, prefix="plan",
                         initial={"steps": "\n".join(plan.steps if plan else services.SM_PLAN)})
    exercise_form = ExerciseForm(request.POST if "exercise-scenario" in request.POST else None,
                                 prefix="exercise")
    if request.method == "POST":
        if process_form.is_bound:
            person_at_form(request, services.may_maintain, "the Board maintains the processes")
            if process_form.is_valid():
                d = process_form.cleaned_data
                if perform(request, process_form, lambda: services.record_process(
                        actor=me, name=d["name"], description=d["description"], core=d["core"],
                        max_outage_hours=d["max_outage_hours"], rto_hours=d["rto_hours"],
                        systems=d["systems"], people=d["people"], authority=d["authority"]),
                        "Process recorded.") is not None:
                    return redirect("recovery:overview")
        elif plan_form.is_bound:
            person_at_form(request, services.may_maintain, "the plan is the Board's")
            if plan_form.is_valid() and perform(request, plan_form, lambda: services.adopt_plan(
                    actor=me, steps=plan_form.cleaned_data["steps"].splitlines(),
                    authority=plan_form.cleaned_data["authority"]), "Plan adopted.") is not None:
                return redirect("recovery:overview")
        elif exercise_form.is_bound:
            person_at_form(request, services.may_run_exercise,
                           "exercises are run by the Board, team leaders and sysadmins")
            if exercise_form.is_valid():
                d = exercise_form.cleaned_data
                started = perform(request, exercise_form, lambda: services.start_exercise(
                    actor=me, processes=d["processes"], scenario=d["scenario"],
                    real=d["real"], started_at=d["started_at"]), "Exercise started.")
                if started is not None:
                    return redirect(started)
    rows = []
    for process in BusinessProcess.objects.filter(retired_at__isnull=True).prefetch_related(
            "systems"):
        last = _last_exercise(process)
        hours = last.hours if last else None
        rows.append({"process": process, "last": last, "hours": hours,
                     "met": hours is not None and hours <= process.rto_hours})
    findings = [f for check in (controls.core_processes, controls.plan_adopted,
                                controls.exercised) for f in check()]
    return render(request, "recovery/overview.html", {
        "rows": rows, "plan": plan, "versions": RecoveryPlan.objects.all(),
        "exercises": Exercise.objects.select_related("plan")[:20], "findings": findings,
        "maintain": maintain, "run": run, "process_form": process_form,
        "plan_form": plan_form, "exercise_form": exercise_form,
        "may_see_key_persons": may_see_key_persons(me)})


@login_required
def exercise(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    row = get_object_or_404(Exercise.objects.select_related("plan", "started_by"), pk=pk)
    steps = list(row.steps.select_related("done_by"))
    upcoming = next((step for step in steps if step.done_at is None), None)
    form = StepForm(request.POST or None)
    if request.method == "POST":
        person_at_form(request, services.may_run_exercise,
                       "exercises are run by the Board, team leaders and sysadmins")
        if upcoming is None:
            raise PermissionDenied("this exercise is finished")
        if form.is_valid() and perform(request, form, lambda: services.complete_exercise_step(
                actor=me, step=upcoming, at=form.cleaned_data["at"],
                note=form.cleaned_data["note"]), f"Step {upcoming.position} done.") is not None:
            return redirect(row)
    timed, previous = [], row.started_at
    for step in steps:
        minutes = (round((step.done_at - previous).total_seconds() / 60)
                   if step.done_at else None)
        timed.append((step, minutes))
        previous = step.done_at or previous
    return render(request, "recovery/exercise.html", {
        "x": row, "timed": timed, "upcoming": upcoming, "form": form,
        "outcomes": services.outcomes(row), "run": services.may_run_exercise(me)})


@login_required
def key_persons(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, may_see_key_persons,
                        "the Key Persons List is shown to the Board and the Arbitrator")
    form = DesignateForm(request.POST or None)
    if request.method == "POST":
        person_at_form(request, services.may_maintain, "the Board designates the key persons")
        if form.is_valid() and perform(request, form, lambda: services.designate_key_person(
                actor=me, person=form.cleaned_data["person"], role=form.cleaned_data["role"],
                authority=form.cleaned_data["authority"]), "Key person designated.") is not None:
            return redirect("recovery:key_persons")
    return render(request, "recovery/key_persons.html", {
        "holders": services.key_persons(), "form": form,
        "maintain": services.may_maintain(me),
        "distributions": Distribution.objects.select_related("made_by")[:20],
        "changed": services.latest_contact_change(),
        "findings": controls.key_persons_distributed()})
