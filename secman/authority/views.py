from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.authority import arbitration, services
from secman.authority.choices import CaseStatus, SignOffStatus
from secman.authority.forms import (
    CaseForm,
    CaseUpdateForm,
    DecisionForm,
    SignForm,
    SignOffRequestForm,
)
from secman.authority.lifecycles import CASE, SIGNOFF
from secman.authority.models import ArbitrationCase, BoardDecision, SignOffRequest
from secman.authority.signoff import TASK, Requirement, dual_control, four_eyes, label_for
from secman.core.roles import Role
from secman.core.views import actor_of, perform, person_at_form, post_only, refuse_to_messages
from secman.people.forms import ReasonForm

# --- Board decisions ----------------------------------------------------------------------


def decisions(request: HttpRequest) -> HttpResponse:
    rows = BoardDecision.objects.select_related("confirmed_by").prefetch_related("votes")
    return render(request, "authority/decisions.html", {
        "rows": rows, "may_record": services.may_record_decision(actor_of(request))})


def decision(request: HttpRequest, minute_id: str) -> HttpResponse:
    subject = get_object_or_404(
        BoardDecision.objects.select_related("recorded_by", "confirmed_by"),
        minute_id=minute_id)
    return render(request, "authority/decision.html", {
        "decision": subject, "votes": subject.votes.select_related("person"),
        "tally": subject.tally(), "proposals": subject.list_proposals.select_related(
            "access_list", "person"),
        "may_confirm": services.may_confirm_decision(actor_of(request), subject),
    })


@post_only(lambda minute_id: reverse("authority:decision", args=[minute_id]))
def decision_confirm(request: HttpRequest, minute_id: str) -> HttpResponse:
    subject = get_object_or_404(BoardDecision, minute_id=minute_id)
    me = actor_of(request)
    refuse_to_messages(request, lambda: services.confirm_board_decision(
        actor=me, decision=subject),
        "Minutes confirmed: the decision can now be cited as an authority.")
    return redirect(subject)


def decision_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_record_decision,
                        "only Board members (or the secman administrator) minute decisions")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = perform(request, form, lambda: services.record_board_decision(
            actor=me, minute_id=data["minute_id"], decided_on=data["decided_on"],
            title=data["title"], text=data["text"], votes=form.votes()),
            "Decision recorded: it authorises nothing until a second Board member "
            "confirms the minutes.")
        if created:
            return redirect(created)
    return render(request, "authority/form.html", {"form": form,
                                                    "title": "Record a Board decision"})


# --- Arbitration --------------------------------------------------------------------------


def cases(request: HttpRequest) -> HttpResponse:
    rows = ArbitrationCase.objects.select_related("arbitrator", "case_manager")
    return render(request, "authority/cases.html", {
        "rows": rows, "may_record": arbitration.may_handle_cases(actor_of(request))})


def case(request: HttpRequest, number: str) -> HttpResponse:
    subject = get_object_or_404(ArbitrationCase, number=number)
    me = actor_of(request)
    moves = {t.target_from(subject.status) for t in CASE.moves_from(subject.status)}
    if not moves:  # closed or withdrawn: nothing to update
        return render(request, "authority/case.html", {"case": subject, "form": None})
    if request.method != "POST" and not arbitration.may_rule_case(me, subject):
        # "Ruled" is offered to the case's own Arbitrator only (a posted form keeps every
        # move, so the service says why a ruling is refused).
        moves = moves - {CaseStatus.RULED}
    form = CaseUpdateForm(request.POST or None, moves=moves, initial={
        "status": subject.status if subject.status in moves else sorted(moves)[0],
        "arbitrator": subject.arbitrator, "case_manager": subject.case_manager,
    })
    if request.method == "POST" and form.is_valid() and perform(
            request, form, lambda: arbitration.update_case(actor=me, case=subject,
                                                        **form.cleaned_data),
            "Case updated.") is not None:
        return redirect(subject)
    # The form for those who may update the case (and a refused one, to show why).
    shown = form if form.is_bound or arbitration.may_handle_cases(me) else None
    return render(request, "authority/case.html", {"case": subject, "form": shown,
                                                   "open": True})


def case_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, arbitration.may_handle_cases,
                        "only Arbitrators and Case Managers (or the secman administrator) "
                        "record Arbitration cases")
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: arbitration.file_case(
            actor=me, **form.cleaned_data), "Case recorded.")
        if created:
            return redirect(created)
    return render(request, "authority/form.html", {"form": form,
                                                    "title": "Record an Arbitration case"})


# --- sign-offs ----------------------------------------------------------------------------


def signoffs(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "pending")
    rows = SignOffRequest.objects.select_related("requested_by", "authority").prefetch_related(
        "signoffs")
    if status in SignOffStatus.values:
        rows = rows.filter(status=status)
    return render(request, "authority/signoffs.html", {
        "rows": rows, "status": status, "statuses": SignOffStatus.choices,
        "may_request": services.may_request_signoff(actor_of(request)),
    })


def signoff(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(
        SignOffRequest.objects.select_related("requested_by", "authority"), pk=pk)
    me = actor_of(request)
    requirement = Requirement.from_json(subject.requirement)
    signed = {s.slot: s for s in subject.signoffs.select_related("person")}
    my_slots = services.slots_for(me, subject)
    form = SignForm(request.POST or None, slots=my_slots)
    if request.method == "POST" and form.is_valid() and perform(
            request, form, lambda: services.sign(actor=me, request=subject,
                                                 **form.cleaned_data), "Signed.") is not None:
        return redirect(subject)
    return render(request, "authority/signoff.html", {
        "request_": subject, "requirement": requirement,
        "slots": [(slot, signed.get(slot.name)) for slot in requirement.slots],
        "form": form if my_slots else None, "action_label": label_for(subject.action),
        "may_withdraw": (SIGNOFF.allowed(subject.status, SignOffStatus.WITHDRAWN)
                         and services.may_withdraw_signoff(me, subject)),
    })


def signoff_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_request_signoff,
                        "only people who hold a role in a team open sign-off requests")
    form = SignOffRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["principle"] == "four eyes":
            requirement = four_eyes(Role(data["executor_role"]), Role(data["observer_role"]))
        else:
            requirement = dual_control(Role(data["executor_role"]), data["people"])
        created = perform(request, form, lambda: services.request_signoff(
            actor=me, action=TASK, title=data["title"], description=data["description"],
            requirement=requirement, authority=data["authority"],
            expires_in=dt.timedelta(days=data["expires_in_days"])),
            "Sign-off requested.")
        if created:
            return redirect(created)
    return render(request, "authority/form.html", {"form": form,
                                                    "title": "Request a sign-off"})


@post_only(lambda pk: reverse("authority:signoff", args=[pk]))
def signoff_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(SignOffRequest, pk=pk)
    me = actor_of(request)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    refuse_to_messages(request, lambda: services.withdraw_signoff(
        actor=me, request=subject, reason=reason), "Withdrawn.")
    return redirect(subject)
