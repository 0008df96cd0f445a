from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.core.views import actor_of, perform, post_only, refuse_to_messages
from secman.people import services
from secman.people.choices import ListKind, ProposalStatus
from secman.people.controls import staffing_findings
from secman.people.forms import (
    AddMemberForm,
    AppointLeaderForm,
    ContactDetailsForm,
    DecideProposalForm,
    EndMembershipForm,
    NewPersonForm,
    OpenPGPKeyForm,
    PersonForm,
    ProposalForm,
    ReasonForm,
    without_contact_details,
)
from secman.people.lifecycles import PROPOSAL
from secman.people.models import AccessList, ListChangeProposal, Membership, Person, Team
from secman.people.rules import LIST_RULES
from secman.people.selectors import (
    can_see_contact_details,
    list_members,
    may_see_key_persons,
    roles_of,
)

# --- people -------------------------------------------------------------------------------


def people(request: HttpRequest) -> HttpResponse:
    rows = []
    active = Membership.objects.active().select_related("team")
    by_person: dict[int, list[Membership]] = {}
    for membership in active:
        by_person.setdefault(membership.person_id, []).append(membership)
    for person in Person.objects.all():
        rows.append((person, by_person.get(person.pk, [])))
    me = actor_of(request)
    return render(request, "people/people.html", {
        "rows": rows, "may_add": services.may_record_person(me),
        "may_see_contacts": may_see_key_persons(me),
    })


def person(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(Person, pk=pk)
    me = actor_of(request)
    return render(request, "people/person.html", {
        "person": subject,
        "roles": sorted(role.label for role in roles_of(subject)),
        "memberships": subject.memberships.select_related("team", "authority", "end_authority")
        .order_by("-start", "-id"),
        "entries": subject.list_entries.select_related("access_list").order_by("-added_at"),
        "show_contact": can_see_contact_details(me, subject),
        "may_edit": services.may_edit_person(me, subject),
    })


def person_new(request: HttpRequest) -> HttpResponse:
    me = actor_of(request)
    if not services.may_record_person(me):
        raise PermissionDenied("Only the Board, team leaders and the administrator record "
                               "people.")
    form = NewPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.create_person(
            actor=me, **form.cleaned_data), "Person recorded.")
        if created:
            return redirect(created)
    return render(request, "people/form.html", {"form": form, "title": "Record a person"})


def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(Person, pk=pk)
    me = actor_of(request)
    if not services.may_edit_person(me, subject):
        raise PermissionDenied("Only the person, the Board or the administrator edit a person.")
    form_class = PersonForm if services.may_change_identity(me) else ContactDetailsForm
    form = form_class(request.POST or None)
    # The Key Persons List details are neither shown to nor changed by whoever may not
    # read them (the administrator edits a person's name, not their phone): the fields
    # are left out, so the edit keeps the recorded values.
    hidden = not can_see_contact_details(me, subject)
    if hidden:
        without_contact_details(form)
    form.initial = {field: getattr(subject, field) for field in form.fields
                    if hasattr(subject, field)}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        authority = data.pop("authority")
        changes = {k: v for k, v in data.items() if v != getattr(subject, k)}
        if perform(request, form, lambda: services.update_person(
                actor=me, person=subject, authority=authority, **changes), "Person updated."):
            return redirect(subject)
    return render(request, "people/form.html", {
        "form": form, "title": f"Edit {subject}", "back": subject.get_absolute_url(),
        "note": ("Phone, chat handle and emergency contact (the Key Persons List) are not "
                 "shown here: the person or the Board changes them (SP 6.4)."
                 if hidden else ""),
    })


def person_openpgp_key(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(Person, pk=pk)
    me = actor_of(request)
    if not services.may_edit_person(me, subject):
        raise PermissionDenied("Only the person, the Board or the administrator record a "
                               "person's OpenPGP key.")
    form = OpenPGPKeyForm(request.POST or None, initial={"openpgp_key": subject.openpgp_key})
    if request.method == "POST" and form.is_valid() and perform(
            request, form, lambda: services.set_openpgp_key(
                actor=me, person=subject, armoured=form.cleaned_data["openpgp_key"]),
            "OpenPGP key recorded.") is not None:
        return redirect(subject)
    return render(request, "people/form.html", {
        "form": form, "title": f"OpenPGP key of {subject}", "back": subject.get_absolute_url()})


# --- teams --------------------------------------------------------------------------------


def teams(request: HttpRequest) -> HttpResponse:
    active = Prefetch("memberships", queryset=Membership.objects.active()
                      .select_related("person"), to_attr="active_members")
    findings = staffing_findings()
    rows = []
    for team in Team.objects.prefetch_related(active):
        url = team.get_absolute_url()
        rows.append({
            "team": team,
            "leader": next((m.person for m in team.active_members if m.is_leader), None),
            "members": team.active_members,
            "findings": [f for f in findings if f.url == url],
        })
    return render(request, "people/teams.html", {"rows": rows})


def team(request: HttpRequest, kind: str) -> HttpResponse:
    subject = get_object_or_404(Team, kind=kind)
    me = actor_of(request)
    add_form = AddMemberForm(team_kind=subject.kind, prefix="add")
    end_form = EndMembershipForm(team=subject, prefix="end")
    leader_form = AppointLeaderForm(team=subject, prefix="lead")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            add_form = AddMemberForm(request.POST, team_kind=subject.kind, prefix="add")
            if add_form.is_valid() and perform(request, add_form, lambda: services.add_member(
                    actor=me, team=subject, **add_form.cleaned_data), "Member added.") is not None:
                return redirect(subject)
        elif action == "end":
            end_form = EndMembershipForm(request.POST, team=subject, prefix="end")
            if end_form.is_valid() and perform(request, end_form, lambda: services.end_membership(
                    actor=me, **end_form.cleaned_data), "Membership ended.") is not None:
                return redirect(subject)
            if end_form.errors:
                messages.error(request, "; ".join(
                    str(e) for errors in end_form.errors.values() for e in errors))
        elif action == "lead":
            leader_form = AppointLeaderForm(request.POST, team=subject, prefix="lead")
            if leader_form.is_valid() and perform(
                    request, leader_form, lambda: services.appoint_leader(
                        actor=me, team=subject, **leader_form.cleaned_data),
                    "Team leader appointed.") is not None:
                return redirect(subject)
    url = subject.get_absolute_url()
    active = list(Membership.objects.active().filter(team=subject).select_related(
        "person", "authority", "team"))
    return render(request, "people/team.html", {
        "team": subject,
        # Each membership with whether this reader may end it (the End button).
        "active": [(m, services.may_end_membership(me, m)) for m in active],
        "history": subject.memberships.select_related("person", "authority", "end_authority")
        .order_by("-start", "-id"),
        "findings": [f for f in staffing_findings() if f.url == url],
        "add_form": add_form, "end_form": end_form, "leader_form": leader_form,
        "may_staff": services.may_staff_teams(me),
        "managed_lists": subject.managed_lists.all(),
    })


# --- access lists -------------------------------------------------------------------------


def lists(request: HttpRequest) -> HttpResponse:
    rows = []
    for access_list in AccessList.objects.select_related("manager"):
        rule = LIST_RULES[ListKind(access_list.kind)]
        rows.append({
            "list": access_list,
            "count": len(list_members(access_list)),
            "pending": access_list.proposals.filter(status=ProposalStatus.PENDING).count(),
            "rule": rule,
        })
    return render(request, "people/lists.html", {"rows": rows})


def access_list(request: HttpRequest, kind: str) -> HttpResponse:
    subject = get_object_or_404(AccessList.objects.select_related("manager"), kind=kind)
    me = actor_of(request)
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.propose_list_change(
            actor=me, access_list=subject, **form.cleaned_data),
            "Proposal recorded: it takes effect when the Board approves it.")
        if created:
            return redirect(created)
    return render(request, "people/list.html", {
        "list": subject,
        "rule": LIST_RULES[ListKind(subject.kind)],
        "members": list_members(subject),
        "history": subject.entries.select_related("person", "added_by__decision",
                                                  "removed_by__decision")
        .order_by("-added_at"),
        "proposals": subject.proposals.select_related("person", "proposed_by", "decision"),
        "form": form,
        "may_propose": services.may_propose_list_change(me, subject),
    })


def proposals(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = ListChangeProposal.objects.select_related("access_list", "person", "proposed_by",
                                                     "decision")
    if status in ProposalStatus.values:
        rows = rows.filter(status=status)
    return render(request, "people/proposals.html", {
        "rows": rows, "status": status, "statuses": ProposalStatus.choices,
    })


def proposal(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(
        ListChangeProposal.objects.select_related("access_list", "person", "proposed_by",
                                                  "decision", "decided_by", "authority"),
        pk=pk,
    )
    me = actor_of(request)
    moves = {t.name for t in PROPOSAL.moves_from(subject.status)}
    deciding = bool(moves) and services.may_decide_proposal(me, subject)
    return render(request, "people/proposal.html", {
        "proposal": subject, "moves": moves,
        "approve_form": DecideProposalForm(verdict="approve", prefix="approve")
        if deciding and "approve" in moves else None,
        "reject_form": DecideProposalForm(verdict="reject", prefix="reject")
        if deciding and "reject" in moves else None,
        "withdraw_form": ReasonForm(),
        "may_decide": deciding,
        "may_withdraw": "withdraw" in moves and services.may_withdraw_proposal(me, subject),
    })


@post_only(lambda pk, verdict: reverse("people:proposal", args=[pk]))
def proposal_decide(request: HttpRequest, pk: int, verdict: str) -> HttpResponse:
    subject = get_object_or_404(ListChangeProposal, pk=pk)
    me = actor_of(request)
    form = DecideProposalForm(request.POST, verdict=verdict, prefix=verdict)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("decision", [])))
        return redirect(subject)
    decision = form.cleaned_data["decision"]
    if verdict == "approve":
        refuse_to_messages(request, lambda: services.approve_proposal(
            actor=me, proposal=subject, decision=decision),
            "Approved: the change has taken effect.")
    else:
        refuse_to_messages(request, lambda: services.reject_proposal(
            actor=me, proposal=subject, decision=decision), "Rejected.")
    return redirect(subject)


@post_only(lambda pk: reverse("people:proposal", args=[pk]))
def proposal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(ListChangeProposal, pk=pk)
    me = actor_of(request)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the proposal is withdrawn.")
        return redirect(subject)
    refuse_to_messages(request, lambda: services.withdraw_proposal(
        actor=me, proposal=subject, reason=form.cleaned_data["reason"]), "Withdrawn.")
    return redirect(subject)


def key_persons(request: HttpRequest) -> HttpResponse:
    """The Key Persons List (SP 9.1.4.3, 10.1): everyone active in a team, with contact
    details. Restricted to the Board and the Arbitrator."""
    me = actor_of(request)
    if not may_see_key_persons(me):
        raise PermissionDenied("The Key Persons List is shown to the Board and the "
                               "Arbitrator only.")
    active = Membership.objects.active().select_related("team", "person")
    rows: dict[int, tuple[Person, list[Membership]]] = {}
    for membership in active:
        rows.setdefault(membership.person_id, (membership.person, []))[1].append(membership)
    return render(request, "people/key_persons.html", {
        "rows": sorted(rows.values(), key=lambda row: row[0].name)})
