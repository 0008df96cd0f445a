"""SP 3.4.2: the access control lists, their exclusivity and the Board's approval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority import services as authority_services
from secman.authority.services import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.eventlog.models import Event
from secman.people import services
from secman.people.choices import ListKind, ProposalStatus
from secman.people.models import ListChangeProposal, ListEntry, Membership
from secman.people.selectors import lists_of

pytestmark = pytest.mark.django_db


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def actions_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


def propose(org, kind, person, change="add", actor=None):
    return services.propose_list_change(
        actor=actor or org.bea, access_list=org.lists[kind], person=person, change=change,
        reason="needed for the work",
    )


def move(org, person, to_team: str, role: Role | None = None):
    """The person leaves their critical team today and joins another one today."""
    membership = Membership.objects.active().get(person=person, team__kind__in=[
        TeamKind.ACCESS, TeamKind.SYSTEMS_ADMINISTRATION, TeamKind.SOFTWARE_ASSESSMENT,
        TeamKind.SUPPORT])
    services.end_membership(actor=org.bea, membership=membership, authority=org.decision,
                            reason="moves to another team")
    services.add_member(actor=org.bea, team=org.teams[to_team], person=person,
                        authority=org.decision, role=role or "")


def give_role_directly(org, person, team: str, role: Role):
    """A second critical role, as imported data might have it: the services refuse to make
    this, so the test writes the row itself to show the list rules hold regardless."""
    Membership.objects.create(team=org.teams[team], person=person, role=role,
                              start=timezone.localdate() - dt.timedelta(days=1),
                              authority=resolve_authority(org.decision))


def refused_with(exc_info, *words: str) -> None:
    text = str(exc_info.value)
    assert "SP 3.4.2" in text
    for word in words:
        assert word in text


# --- Board approval -----------------------------------------------------------------------


def test_it_changes_nothing_until_the_board_approves(org):
    seq = last_seq()
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.sam)
    assert proposal.status == ProposalStatus.PENDING
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    assert not ListEntry.objects.filter(person=org.sue).exists()
    assert actions_since(seq) == ["people.list.propose"]

    seq = last_seq()
    services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.decided_by == org.tom
    assert proposal.decision == org.decision
    assert services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    entry = ListEntry.objects.active().get(person=org.sue)
    assert entry.added_by == proposal
    assert actions_since(seq) == ["people.list.approve"]
    event = Event.objects.get(seq=seq + 1)
    assert event.authority == org.decision.minute_id
    assert event.actor == org.tom


def test_it_accepts_the_minute_id_as_text(org):
    proposal = propose(org, ListKind.SUPPORT_ACCESS, org.pim)
    services.approve_proposal(actor=org.tom, proposal=proposal,
                              decision=org.decision.minute_id.upper())
    assert services.on_list(org.pim, ListKind.SUPPORT_ACCESS)


@pytest.mark.parametrize("approver", ["sam", "admin", "arne", "nobody"])
def test_it_lets_only_board_members_approve(org, approver):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    seq = last_seq()
    with pytest.raises(NotAllowed):
        services.approve_proposal(actor=getattr(org, approver), proposal=proposal,
                                  decision=org.decision)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    assert actions_since(seq) == []


def test_it_refuses_approval_under_a_section_instead_of_a_board_decision(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.approve_proposal(actor=org.tom, proposal=proposal, decision="SP 3.4.2")
    assert "Board approval" in str(exc_info.value)
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    assert actions_since(seq) == []


def test_it_refuses_approval_under_a_decision_that_was_not_carried(org):
    failed = authority_services.record_board_decision(
        actor=org.bea, minute_id=f"m{timezone.localdate():%Y%m%d}.7",
        decided_on=timezone.localdate(), title="Sue on the Physical Access List",
        text="Motion to approve.", votes={org.bea: "aye", org.tom: "naye", org.ida: "naye"},
    )
    authority_services.confirm_board_decision(actor=org.ida, decision=failed)
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.approve_proposal(actor=org.tom, proposal=proposal, decision=failed)
    assert "not carried" in str(exc_info.value)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    assert actions_since(seq) == []


def test_it_refuses_approval_under_an_unrecorded_decision(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    with pytest.raises(RuleViolation) as exc_info:
        services.approve_proposal(actor=org.tom, proposal=proposal, decision="m20200101.1")
    assert "not recorded" in str(exc_info.value)
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)


def test_it_approves_a_proposal_only_once(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    with pytest.raises(RuleViolation, match="approved"):
        services.approve_proposal(actor=org.ida, proposal=proposal, decision=org.decision)
    assert ListEntry.objects.filter(person=org.sue).count() == 1


def test_it_leaves_the_list_alone_when_the_board_rejects(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    seq = last_seq()
    services.reject_proposal(actor=org.ida, proposal=proposal, decision=org.decision)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.decided_by == org.ida
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    assert actions_since(seq) == ["people.list.reject"]
    with pytest.raises(RuleViolation, match="rejected"):
        services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    assert not ListEntry.objects.filter(person=org.sue).exists()


def test_a_failed_vote_rejects_but_an_unrecorded_decision_does_not(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    seq = last_seq()
    with pytest.raises(RuleViolation, match=r"m20990101\.1 is not recorded"):
        services.reject_proposal(actor=org.ida, proposal=proposal, decision="m20990101.1")
    for hostile in ("because we said so", "m2026\x001.1", "SP 3.4.2"):  # not a decision
        with pytest.raises(RuleViolation):
            services.reject_proposal(actor=org.ida, proposal=proposal, decision=hostile)
    assert actions_since(seq) == []
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
    lost = authority_services.record_board_decision(
        actor=org.bea, minute_id=f"{org.decision.minute_id[:-1]}9",
        decided_on=org.decision.decided_on, title="Sue on the Physical Access List",
        text="Motion to approve.", votes={org.bea: "aye", org.tom: "naye", org.ida: "naye"})
    seq = last_seq()
    with pytest.raises(RuleViolation, match="not confirmed yet"):  # not even a rejection
        services.reject_proposal(actor=org.ida, proposal=proposal, decision=lost)
    assert actions_since(seq) == []
    authority_services.confirm_board_decision(actor=org.ida, decision=lost)
    with pytest.raises(RuleViolation, match="not carried"):  # it approves nothing
        services.approve_proposal(actor=org.tom, proposal=proposal, decision=lost)
    seq = last_seq()
    services.reject_proposal(actor=org.ida, proposal=proposal, decision=lost)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision) == (ProposalStatus.REJECTED, lost)
    event = Event.objects.get(seq=seq + 1)
    assert event.action == "people.list.reject" and event.authority == lost.minute_id
    assert event.details["decision_carried"] is False


def test_it_lets_only_board_members_reject(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    with pytest.raises(NotAllowed):
        services.reject_proposal(actor=org.sam, proposal=proposal, decision=org.decision)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING


def test_it_leaves_the_list_alone_when_a_proposal_is_withdrawn(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.sam)
    seq = last_seq()
    services.withdraw_proposal(actor=org.sam, proposal=proposal, reason="Sue changes duties")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert actions_since(seq) == ["people.list.withdraw"]
    with pytest.raises(RuleViolation, match="withdrawn"):
        services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    assert not services.on_list(org.sue, ListKind.PHYSICAL_ACCESS)
    # Withdrawn, the same change may be proposed again.
    assert propose(org, ListKind.PHYSICAL_ACCESS, org.sue).status == ProposalStatus.PENDING


def test_it_lets_only_the_proposer_or_the_manager_withdraw(org):
    proposal = propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.bea)
    with pytest.raises(NotAllowed):
        services.withdraw_proposal(actor=org.sue, proposal=proposal, reason="no")
    with pytest.raises(RuleViolation, match="why"):
        services.withdraw_proposal(actor=org.bea, proposal=proposal, reason="  ")
    services.withdraw_proposal(actor=org.sam, proposal=proposal, reason="the manager's call")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN


def test_it_lets_the_lists_manager_or_the_board_propose(org):
    seq = last_seq()
    with pytest.raises(NotAllowed) as exc_info:
        propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.sid)
    assert "System Administration team leader" in str(exc_info.value)
    with pytest.raises(NotAllowed):  # a team leader, but of another team
        propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.ola)
    assert actions_since(seq) == []
    assert not ListChangeProposal.objects.exists()
    assert propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.sam).pk


def test_it_refuses_the_same_pending_change_twice(org):
    propose(org, ListKind.PHYSICAL_ACCESS, org.sue)
    with pytest.raises(RuleViolation, match="already waiting"):
        propose(org, ListKind.PHYSICAL_ACCESS, org.sue, actor=org.sam)
    assert ListChangeProposal.objects.count() == 1


def test_it_refuses_a_proposal_without_a_reason_or_with_an_unknown_change(org):
    with pytest.raises(RuleViolation, match="reason"):
        services.propose_list_change(actor=org.bea, access_list=org.lists["ssh_access"],
                                     person=org.sid, change="add", reason=" ")
    with pytest.raises(RuleViolation, match="add or remove"):
        services.propose_list_change(actor=org.bea, access_list=org.lists["ssh_access"],
                                     person=org.sid, change="promote", reason="x")
    assert not ListChangeProposal.objects.exists()


def test_it_refuses_to_add_someone_already_on_the_list(org, approve):
    approve(ListKind.SSH_ACCESS, org.sid)
    with pytest.raises(RuleViolation, match="already on"):
        propose(org, ListKind.SSH_ACCESS, org.sid)


# --- removal ------------------------------------------------------------------------------


def test_it_removes_someone_only_when_the_board_approves_and_keeps_the_history(org, approve):
    added = approve(ListKind.SSH_ACCESS, org.sid)
    removal = propose(org, ListKind.SSH_ACCESS, org.sid, change="remove")
    assert services.on_list(org.sid, ListKind.SSH_ACCESS)
    seq = last_seq()
    services.approve_proposal(actor=org.tom, proposal=removal, decision=org.decision)
    assert not services.on_list(org.sid, ListKind.SSH_ACCESS)
    # Leaving the list opens the SM 9.1.7 checklist (secman.privileged.checklists).
    assert actions_since(seq) == ["people.list.approve", "privileged.checklist.open"]
    entry = ListEntry.objects.get(person=org.sid)
    assert entry.added_by == added
    assert entry.removed_by == removal
    assert entry.removed_at is not None
    # Back on the list later: a new entry, the old one stays as it was.
    approve(ListKind.SSH_ACCESS, org.sid)
    assert ListEntry.objects.filter(person=org.sid).count() == 2
    assert ListEntry.objects.active().filter(person=org.sid).count() == 1


def test_it_refuses_to_remove_someone_who_has_no_entry_of_their_own(org, approve):
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    with pytest.raises(RuleViolation, match="by an entry of their own"):
        propose(org, ListKind.SSH_ACCESS, org.sue, change="remove")
    with pytest.raises(RuleViolation):
        propose(org, ListKind.REPOSITORY_ACCESS, org.otto, change="remove")


def test_it_refuses_a_removal_when_the_person_left_the_list_meanwhile(org, approve):
    approve(ListKind.SSH_ACCESS, org.sid)
    first = propose(org, ListKind.SSH_ACCESS, org.sid, change="remove", actor=org.bea)
    entry = ListEntry.objects.active().get(person=org.sid)
    entry.removed_at = timezone.now()
    entry.save()
    with pytest.raises(RuleViolation, match="no longer on"):
        services.approve_proposal(actor=org.tom, proposal=first, decision=org.decision)
    first.refresh_from_db()
    assert first.status == ProposalStatus.PENDING


# --- SSH Access List includes the Physical Access List ------------------------------------


def test_it_puts_everyone_on_the_physical_access_list_on_the_ssh_list_by_default(org, approve):
    assert not services.on_list(org.sue, ListKind.SSH_ACCESS)
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    assert services.on_list(org.sue, ListKind.SSH_ACCESS)
    assert lists_of(org.sue) == {ListKind.PHYSICAL_ACCESS}
    with pytest.raises(RuleViolation) as exc_info:
        propose(org, ListKind.SSH_ACCESS, org.sue)
    refused_with(exc_info, "by default", "Physical Access List")

    approve(ListKind.PHYSICAL_ACCESS, org.sue, change="remove")
    assert not services.on_list(org.sue, ListKind.SSH_ACCESS)


def test_it_does_not_put_the_ssh_list_on_the_physical_access_list(org, approve):
    approve(ListKind.SSH_ACCESS, org.sid)
    assert services.on_list(org.sid, ListKind.SSH_ACCESS)
    assert not services.on_list(org.sid, ListKind.PHYSICAL_ACCESS)


def test_it_checks_the_rules_again_when_the_board_approves(org):
    # Both proposed while Sid is on neither list; once the first is approved, Sid is on
    # the SSH Access List by default and the second would duplicate it.
    physical = propose(org, ListKind.PHYSICAL_ACCESS, org.sid)
    ssh = propose(org, ListKind.SSH_ACCESS, org.sid)
    services.approve_proposal(actor=org.tom, proposal=physical, decision=org.decision)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.approve_proposal(actor=org.tom, proposal=ssh, decision=org.decision)
    refused_with(exc_info, "by default")
    ssh.refresh_from_db()
    assert ssh.status == ProposalStatus.PENDING
    assert lists_of(org.sid) == {ListKind.PHYSICAL_ACCESS}
    assert actions_since(seq) == []


def test_it_refuses_approval_when_the_person_lost_the_role_meanwhile(org):
    proposal = propose(org, ListKind.REPOSITORY_ACCESS, org.otto, actor=org.ola)
    membership = Membership.objects.active().get(person=org.otto)
    services.end_membership(actor=org.otto, membership=membership, authority="SP 9.1.7",
                            reason="resignation")
    with pytest.raises(RuleViolation) as exc_info:
        services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    refused_with(exc_info, "Software Assessor")
    assert not services.on_list(org.otto, ListKind.REPOSITORY_ACCESS)


# --- "Who" --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "login", "role"),
    [
        (ListKind.PHYSICAL_CONTROL, "sue", "Access Engineer"),
        (ListKind.PHYSICAL_ACCESS, "abby", "Systems Administrator"),
        (ListKind.SSH_ACCESS, "otto", "Systems Administrator"),
        (ListKind.REPOSITORY_ACCESS, "pim", "Software Assessor"),
        (ListKind.SUPPORT_ACCESS, "nobody", "Support Engineer"),
        (ListKind.PHYSICAL_CONTROL, "bea", "Access Engineer"),
    ],
)
def test_it_refuses_someone_without_the_lists_role(org, kind, login, role):
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        propose(org, kind, getattr(org, login))
    refused_with(exc_info, role)
    assert not ListChangeProposal.objects.exists()
    assert actions_since(seq) == []


@pytest.mark.parametrize(
    ("kind", "login"),
    [
        (ListKind.PHYSICAL_CONTROL, "abby"),
        (ListKind.PHYSICAL_ACCESS, "sue"),
        (ListKind.SSH_ACCESS, "sid"),
        (ListKind.REPOSITORY_ACCESS, "otto"),
        (ListKind.SUPPORT_ACCESS, "pim"),
    ],
)
def test_it_admits_the_lists_role(org, approve, kind, login):
    approve(kind, getattr(org, login))
    assert services.on_list(getattr(org, login), kind)


# --- exclusivity: other roles -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "login", "team", "role", "rule"),
    [
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SYSTEMS_ADMINISTRATION,
         Role.SYSTEMS_ADMINISTRATOR, "exclusive of all other roles"),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SOFTWARE_ASSESSMENT,
         Role.SOFTWARE_ASSESSOR, "exclusive of all other roles"),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SUPPORT,
         Role.SUPPORT_ENGINEER, "exclusive of all other roles"),
        (ListKind.PHYSICAL_ACCESS, "sue", TeamKind.ACCESS, Role.ACCESS_ENGINEER,
         "exclusive with Access Engineers and Software Assessors"),
        (ListKind.PHYSICAL_ACCESS, "sue", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR,
         "exclusive with Access Engineers and Software Assessors"),
        (ListKind.REPOSITORY_ACCESS, "otto", TeamKind.ACCESS, Role.ACCESS_ENGINEER,
         "exclusive with Access Engineers and Systems Administrators"),
        (ListKind.REPOSITORY_ACCESS, "otto", TeamKind.SYSTEMS_ADMINISTRATION,
         Role.SYSTEMS_ADMINISTRATOR, "exclusive with Access Engineers and Systems Administrators"),
        (ListKind.SUPPORT_ACCESS, "pim", TeamKind.ACCESS, Role.ACCESS_ENGINEER,
         "exclusive with Access Engineers and Systems Administrators"),
        (ListKind.SUPPORT_ACCESS, "pim", TeamKind.SYSTEMS_ADMINISTRATION,
         Role.SYSTEMS_ADMINISTRATOR, "exclusive with Access Engineers and Systems Administrators"),
    ],
)
def test_it_refuses_someone_who_also_holds_an_excluded_role(org, kind, login, team, role, rule):
    person = getattr(org, login)
    give_role_directly(org, person, team, role)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        propose(org, kind, person)
    refused_with(exc_info, rule, role.label)
    assert actions_since(seq) == []


def test_it_lets_a_support_engineer_on_the_repository_list_keep_the_rules_apart(org, approve):
    # Repository and Support lists exclude the same roles, not each other.
    approve(ListKind.SUPPORT_ACCESS, org.pim)
    move(org, org.pim, TeamKind.SOFTWARE_ASSESSMENT)
    approve(ListKind.REPOSITORY_ACCESS, org.pim)
    assert services.on_list(org.pim, ListKind.REPOSITORY_ACCESS)


# --- exclusivity: other lists -------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_list", "login", "new_team", "second_list"),
    [
        # The Physical Control List excludes every other list, both ways.
        (ListKind.PHYSICAL_ACCESS, "sue", TeamKind.ACCESS, ListKind.PHYSICAL_CONTROL),
        (ListKind.SSH_ACCESS, "sid", TeamKind.ACCESS, ListKind.PHYSICAL_CONTROL),
        (ListKind.REPOSITORY_ACCESS, "otto", TeamKind.ACCESS, ListKind.PHYSICAL_CONTROL),
        (ListKind.SUPPORT_ACCESS, "pim", TeamKind.ACCESS, ListKind.PHYSICAL_CONTROL),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SYSTEMS_ADMINISTRATION,
         ListKind.PHYSICAL_ACCESS),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SYSTEMS_ADMINISTRATION,
         ListKind.SSH_ACCESS),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SOFTWARE_ASSESSMENT,
         ListKind.REPOSITORY_ACCESS),
        (ListKind.PHYSICAL_CONTROL, "abby", TeamKind.SUPPORT, ListKind.SUPPORT_ACCESS),
        # Repository and Support exclude the Systems Administrators' lists, both ways.
        (ListKind.PHYSICAL_ACCESS, "sue", TeamKind.SOFTWARE_ASSESSMENT,
         ListKind.REPOSITORY_ACCESS),
        (ListKind.SSH_ACCESS, "sid", TeamKind.SOFTWARE_ASSESSMENT, ListKind.REPOSITORY_ACCESS),
        (ListKind.PHYSICAL_ACCESS, "sue", TeamKind.SUPPORT, ListKind.SUPPORT_ACCESS),
        (ListKind.SSH_ACCESS, "sid", TeamKind.SUPPORT, ListKind.SUPPORT_ACCESS),
        (ListKind.REPOSITORY_ACCESS, "otto", TeamKind.SYSTEMS_ADMINISTRATION,
         ListKind.PHYSICAL_ACCESS),
        (ListKind.REPOSITORY_ACCESS, "otto", TeamKind.SYSTEMS_ADMINISTRATION,
         ListKind.SSH_ACCESS),
        (ListKind.SUPPORT_ACCESS, "pim", TeamKind.SYSTEMS_ADMINISTRATION,
         ListKind.PHYSICAL_ACCESS),
        (ListKind.SUPPORT_ACCESS, "pim", TeamKind.SYSTEMS_ADMINISTRATION, ListKind.SSH_ACCESS),
    ],
)
def test_it_refuses_someone_on_an_excluded_list(org, approve, first_list, login, new_team,
                                                second_list):
    person = getattr(org, login)
    approve(first_list, person)
    move(org, person, new_team)  # now holds the second list's role, still on the first
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        propose(org, second_list, person)
    refused_with(exc_info, ListKind(first_list).label, "excludes")
    assert actions_since(seq) == []
    assert lists_of(person) == {first_list}


def test_it_names_the_rule_of_the_list_that_excludes(org, approve):
    # Physical Access excludes Physical Control: the reason quotes the Physical Control
    # List's "exclusive of all other roles" even when joining the Physical Access List.
    approve(ListKind.PHYSICAL_CONTROL, org.abby)
    move(org, org.abby, TeamKind.SYSTEMS_ADMINISTRATION)
    with pytest.raises(RuleViolation) as exc_info:
        propose(org, ListKind.PHYSICAL_ACCESS, org.abby)
    assert "exclusive" in exc_info.value.message
    assert exc_info.value.section == "SP 3.4.2"
    assert exc_info.value.field == "person"
