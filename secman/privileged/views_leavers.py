"""Pages for removals of access (SM 3.4.4) and termination checklists (SM 9.1.7). The
services decide; a page shows each person only the forms they may submit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from secman.core.forms import AuthorityField
from secman.core.views import perform, person_at_form, post_only, refuse_to_messages
from secman.eventlog.selectors import history_for
from secman.people.models import Person
from secman.privileged import checklists, removals
from secman.privileged.choices import CHECKLIST_STEPS, ChecklistStatus, RemovalEvent
from secman.privileged.models import AccessRemoval, ChecklistStep, TerminationChecklist
from secman.privileged.views import reader as chapter_reader


def reader(request: HttpRequest) -> Any:
    """The person behind the request, who may read this chapter (else 403)."""
    return chapter_reader(request)


# --- forms ---------------------------------------------------------------------------------


class RemovalForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    event = forms.ChoiceField(choices=RemovalEvent.choices,
                              help_text="The SM 3.4.4 event that removes the access.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                             help_text="What happened; the Board reads it with the list "
                             "removals.")
    authority = AuthorityField(initial="SM 3.4.4")


class StepForm(forms.Form):
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000,
                               help_text="What was done and where it is recorded.")


# --- removals -------------------------------------------------------------------------------


def removal_list(request: HttpRequest) -> HttpResponse:
    me = reader(request)
    rows = AccessRemoval.objects.select_related("person", "removed_by", "authority")
    return render(request, "privileged/removals.html", {
        "rows": rows[:500], "may_remove": removals.may_remove_any(me)})


def removal_new(request: HttpRequest) -> HttpResponse:
    reader(request)
    me = person_at_form(request, removals.may_remove_any,
                        "access is removed by the Systems Administration team leader, the "
                        "person's team leader, a Board member or the Arbitrator (SM 3.4.4)")
    form = RemovalForm(request.POST or None, initial={"person": request.GET.get("person")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        made = perform(request, form, lambda: removals.remove_access(
            actor=me, person=data["person"], event=data["event"], reason=data["reason"],
            authority=data["authority"]),
            "Access removed: keys blocked, grants revoked, the list removals proposed to "
            "the Board and the checklist opened.")
        if made:
            return redirect("privileged:removal", pk=made.pk)
    return render(request, "privileged/removal_form.html", {"form": form})


def removal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me = reader(request)
    removal = get_object_or_404(AccessRemoval.objects.select_related(
        "person", "removed_by", "authority"), pk=pk)
    return render(request, "privileged/removal.html", {
        "removal": removal, "me": me,
        "proposals": removal.proposals.select_related("access_list", "decision"),
        "checklists": removal.checklists.select_related("team"),
        "history": history_for(removal, me)})


# --- checklists ----------------------------------------------------------------------------


def checklist_list(request: HttpRequest) -> HttpResponse:
    reader(request)
    status = request.GET.get("status", "open")
    rows = TerminationChecklist.objects.select_related("person", "team").prefetch_related(
        "steps")
    if status in ChecklistStatus.values:
        rows = rows.filter(status=status)
    return render(request, "privileged/checklists.html", {"rows": rows[:500],
                                                          "status": status})


def checklist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me = reader(request)
    checklist = get_object_or_404(TerminationChecklist.objects.select_related(
        "person", "team", "closed_by", "removal", "membership", "list_entry__access_list"),
        pk=pk)
    may_step = checklists.may_complete_steps(me, checklist)
    rows = list(checklist.steps.select_related("done_by").prefetch_related("reports__system"))
    steps = [{"step": s, "what": CHECKLIST_STEPS[s.number],
              "form": StepForm(prefix=f"step{s.number}") if may_step and not s.done_at
              else None}
             for s in rows]
    return render(request, "privileged/checklist.html", {
        "checklist": checklist, "steps": steps, "may_step": may_step,
        "may_close": checklists.may_close(me, checklist),
        "steps_open": [s.number for s in rows if s.done_at is None],
        "history": history_for(checklist, me)})


def _checklist_url(pk: int, number: int = 0) -> str:
    from django.urls import reverse

    return reverse("privileged:checklist", args=[pk])


@post_only(_checklist_url)
def checklist_step(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    me = reader(request)
    step = get_object_or_404(ChecklistStep.objects.select_related("checklist__team"),
                             checklist=pk, number=number)
    person_at_form(request, lambda p: checklists.may_complete_steps(p, step.checklist),
                   "a checklist's steps are completed by the team's leader or a Systems "
                   "Administrator (SM 9.1.7)")
    if request.POST.get("from_reports"):
        refuse_to_messages(request, lambda: checklists.complete_keys_step_from_reports(
            actor=me, step=step), "Step 1 done: the agent reports show the keys gone.")
    else:
        form = StepForm(request.POST, prefix=f"step{number}")
        evidence = form.data.get(f"step{number}-evidence", "")
        refuse_to_messages(request, lambda: checklists.complete_step(
            actor=me, step=step, evidence=str(evidence)), f"Step {number} done.")
    return redirect("privileged:checklist", pk=pk)


@post_only(_checklist_url)
def checklist_close(request: HttpRequest, pk: int) -> HttpResponse:
    me = reader(request)
    checklist = get_object_or_404(TerminationChecklist.objects.select_related("team"), pk=pk)
    person_at_form(request, lambda p: checklists.may_close(p, checklist),
                   f"the checklist is closed by the {checklist.team} team leader (SM 9.1.7)")
    refuse_to_messages(request, lambda: checklists.close_checklist(
        actor=me, checklist=checklist), "Checklist closed.")
    return redirect("privileged:checklist", pk=pk)

