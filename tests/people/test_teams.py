"""SP 9.1.2 and 9.1.5: team membership, leaders, and the Board's authority over both."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority import arbitration
from secman.authority import services as authority_services
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.eventlog.models import Event
from secman.people import services
from secman.people.controls import staffing_findings
from secman.people.models import Membership
from secman.people.selectors import leads, roles_of, team_leader

pytestmark = pytest.mark.django_db


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def actions_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


def findings_text() -> str:
    return "\n".join(f"{f.section} {f.message}" for f in staffing_findings())


def today() -> dt.date:
    return timezone.localdate()


def newcomer(org, name="Nina"):
    return services.create_person(actor=org.bea, authority="SP 9.1.3", name=name,
                                  email=f"{name.lower()}@example.org")


def only_membership(person) -> Membership:
    return Membership.objects.active().get(person=person)


# --- joining ------------------------------------------------------------------------------


def test_it_adds_a_member_under_a_board_decision(org):
    nina = newcomer(org)
    seq = last_seq()
    membership = services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT],
                                     person=nina, authority=org.decision)
    assert membership.role == Role.SUPPORT_ENGINEER
    assert roles_of(nina) == {Role.SUPPORT_ENGINEER}
    assert actions_since(seq) == ["people.team.join"]
    event = Event.objects.get(seq=seq + 1)
    assert event.authority == org.decision.minute_id
    assert event.details["team"] == "Support"


@pytest.mark.parametrize("reference", ["SP 9.1.3", "SM 9.1"])
def test_it_refuses_a_section_as_authority_for_a_new_member_of_a_critical_team(org, reference):
    nina = newcomer(org)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.add_member(actor=org.bea, team=org.teams[TeamKind.ACCESS], person=nina,
                            authority=reference)
    assert "board decision" in str(exc_info.value)
    assert "SP 9.1.5" in str(exc_info.value)
    assert not Membership.objects.filter(person=nina).exists()
    assert actions_since(seq) == []


def test_it_refuses_a_board_decision_that_was_not_carried_for_a_new_member(org):
    nina = newcomer(org)
    failed = authority_services.record_board_decision(
        actor=org.bea, minute_id=f"m{today():%Y%m%d}.5", decided_on=today(),
        title="Nina joins Support", text="Motion.",
        votes={org.bea: "aye", org.tom: "abstain", org.ida: "naye"},
    )
    authority_services.confirm_board_decision(actor=org.tom, decision=failed)
    with pytest.raises(RuleViolation, match="not carried"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=nina,
                            authority=failed)
    assert not Membership.objects.filter(person=nina).exists()


def test_it_accepts_an_arbitration_ruling_as_authority_for_a_new_member(org):
    case = arbitration.file_case(actor=org.cora, number=f"a{today():%Y%m%d}.1",
                                        title="ABC of Nina", filed_on=today(),
                                        arbitrator=org.arne, case_manager=org.cora)
    nina = newcomer(org)
    membership = services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT],
                                     person=nina, authority=case)
    assert membership.authority.case == case


@pytest.mark.parametrize("login", ["sam", "pia", "arne", "nobody", "aud"])
def test_it_lets_only_the_board_or_the_administrator_staff_teams(org, login):
    nina = newcomer(org)
    with pytest.raises(NotAllowed):
        services.add_member(actor=getattr(org, login), team=org.teams[TeamKind.SUPPORT],
                            person=nina, authority=org.decision)
    assert not Membership.objects.filter(person=nina).exists()
    services.add_member(actor=org.admin, team=org.teams[TeamKind.SUPPORT], person=nina,
                        authority=org.decision)
    assert roles_of(nina) == {Role.SUPPORT_ENGINEER}


def test_it_refuses_a_role_the_team_does_not_have(org):
    nina = newcomer(org)
    with pytest.raises(RuleViolation, match="Support Engineer"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=nina,
                            role=Role.SYSTEMS_ADMINISTRATOR, authority=org.decision)
    assert not Membership.objects.filter(person=nina).exists()


def test_it_refuses_someone_already_in_the_team(org):
    with pytest.raises(RuleViolation, match="already in"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=org.pim,
                            authority=org.decision)


def test_it_refuses_a_second_critical_team(org):
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.add_member(actor=org.bea, team=org.teams[TeamKind.ACCESS], person=org.sid,
                            authority=org.decision)
    assert "SP 9.1.2" in str(exc_info.value)
    assert "Critical System Administration" in str(exc_info.value)
    assert roles_of(org.sid) == {Role.SYSTEMS_ADMINISTRATOR}
    assert actions_since(seq) == []


def test_it_refuses_a_backdated_membership_that_overlaps_another_critical_team(org):
    # Sid is a Systems Administrator since 30 days ago; a membership of the Access team
    # from 60 days ago would make him active in both teams from then on.
    with pytest.raises(RuleViolation, match=r"SP 9\.1\.2"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.ACCESS], person=org.sid,
                            authority=org.decision, start=today() - dt.timedelta(days=60))
    assert roles_of(org.sid) == {Role.SYSTEMS_ADMINISTRATOR}


def test_it_refuses_a_backdated_second_membership_of_the_same_team(org):
    with pytest.raises(RuleViolation, match="already in"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=org.pim,
                            authority=org.decision, start=today() - dt.timedelta(days=90))
    assert Membership.objects.filter(person=org.pim).count() == 1


def test_it_refuses_a_backdated_second_leader(org):
    nina = newcomer(org)
    with pytest.raises(RuleViolation, match="has a leader"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=nina,
                            authority=org.decision, is_leader=True,
                            start=today() - dt.timedelta(days=90))
    assert team_leader(TeamKind.SUPPORT) == org.pia


def test_it_lets_a_team_member_join_a_team_that_is_not_critical(org):
    services.add_member(actor=org.bea, team=org.teams[TeamKind.BOARD], person=org.sam,
                        authority="SP 9.1.1")
    assert roles_of(org.sam) == {Role.SYSTEMS_ADMINISTRATOR, Role.TEAM_LEADER,
                                 Role.BOARD_MEMBER}
    assert "active in" not in findings_text()


def test_it_lets_someone_change_teams_once_the_old_membership_ended(org):
    membership = only_membership(org.sid)
    services.end_membership(actor=org.bea, membership=membership, authority=org.decision,
                            reason="moves to Access")
    services.add_member(actor=org.bea, team=org.teams[TeamKind.ACCESS], person=org.sid,
                        authority=org.decision)
    assert roles_of(org.sid) == {Role.ACCESS_ENGINEER}


def test_it_refuses_a_second_leader(org):
    nina = newcomer(org)
    with pytest.raises(RuleViolation, match="has a leader"):
        services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=nina,
                            authority=org.decision, is_leader=True)
    assert not Membership.objects.filter(person=nina).exists()


# --- leaving ------------------------------------------------------------------------------


def test_it_keeps_an_ended_membership_with_its_end_date_and_reason(org):
    membership = only_membership(org.otto)
    seq = last_seq()
    services.end_membership(actor=org.otto, membership=membership, authority="SP 9.1.7",
                            reason="Resignation")
    row = Membership.objects.get(pk=membership.pk)
    assert row.end == today()
    assert row.end_reason == "Resignation"
    assert row.end_authority.reference == "SP 9.1.7"
    assert not roles_of(org.otto)
    # Leaving a critical team opens the SM 9.1.7 checklist (secman.privileged.checklists).
    assert actions_since(seq) == ["people.team.leave", "privileged.checklist.open"]
    with pytest.raises(RuleViolation, match="ended on"):
        services.end_membership(actor=org.bea, membership=row, authority="SP 9.1.7",
                                reason="again")


def test_it_lets_the_person_their_leader_the_board_or_the_arbitrator_end_a_membership(org):
    for login in ("self", "ola", "bea", "arne"):
        nina = newcomer(org, f"Nina{login}")
        membership = services.add_member(actor=org.bea,
                                          team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                                          person=nina, authority=org.decision)
        actor = nina if login == "self" else getattr(org, login)
        services.end_membership(actor=actor, membership=membership, authority="SP 9.1.7",
                                reason="ends")
        assert Membership.objects.get(pk=membership.pk).end == today()


@pytest.mark.parametrize("login", ["sam", "pim", "aud", "nobody", "cora"])
def test_it_refuses_others_ending_a_membership(org, login):
    membership = only_membership(org.otto)
    with pytest.raises(NotAllowed, match=r"SP 9\.1\.7"):
        services.end_membership(actor=getattr(org, login), membership=membership,
                                authority="SP 9.1.7", reason="no")
    assert Membership.objects.get(pk=membership.pk).end is None


def test_it_refuses_to_end_a_membership_without_a_reason_or_before_it_started(org):
    membership = only_membership(org.otto)
    with pytest.raises(RuleViolation, match="why"):
        services.end_membership(actor=org.bea, membership=membership, authority="SP 9.1.7",
                                reason=" ")
    with pytest.raises(RuleViolation, match="before it started"):
        services.end_membership(actor=org.bea, membership=membership, authority="SP 9.1.7",
                                reason="x", end=membership.start - dt.timedelta(days=1))
    assert Membership.objects.get(pk=membership.pk).end is None


# --- leaders ------------------------------------------------------------------------------


def test_it_appoints_a_leader_and_keeps_the_old_rows(org):
    old_ola, old_otto = only_membership(org.ola), only_membership(org.otto)
    seq = last_seq()
    services.appoint_leader(actor=org.bea, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                            person=org.otto, authority=org.decision)
    assert actions_since(seq) == ["people.team.appoint_leader"]
    assert leads(org.otto, TeamKind.SOFTWARE_ASSESSMENT)
    assert not leads(org.ola, TeamKind.SOFTWARE_ASSESSMENT)
    assert roles_of(org.ola) == {Role.SOFTWARE_ASSESSOR}
    assert team_leader(TeamKind.SOFTWARE_ASSESSMENT) == org.otto

    rows = Membership.objects.filter(team__kind=TeamKind.SOFTWARE_ASSESSMENT)
    assert rows.count() == 4
    for old in (old_ola, old_otto):
        old.refresh_from_db()
        assert old.end == today()
        assert old.end_reason == "change of team leader"
    assert Membership.objects.get(pk=old_ola.pk).is_leader  # history says who led before
    event = Event.objects.get(seq=seq + 1)
    assert event.details["previous_leader"] == "Ola"
    assert event.details["leader"] == "Otto"
    assert "Software Assessment team has no team leader" not in findings_text()


def test_it_refuses_a_section_as_authority_for_a_new_leader(org):
    with pytest.raises(RuleViolation, match="board decision"):
        services.appoint_leader(actor=org.bea, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                                person=org.otto, authority="SP 9.1.2")
    assert team_leader(TeamKind.SOFTWARE_ASSESSMENT) == org.ola
    assert Membership.objects.filter(team__kind=TeamKind.SOFTWARE_ASSESSMENT).count() == 2


def test_it_refuses_to_appoint_an_outsider_or_the_current_leader(org):
    with pytest.raises(RuleViolation, match="not in"):
        services.appoint_leader(actor=org.bea, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                                person=org.pim, authority=org.decision)
    with pytest.raises(RuleViolation, match="already leads"):
        services.appoint_leader(actor=org.bea, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                                person=org.ola, authority=org.decision)
    with pytest.raises(NotAllowed):
        services.appoint_leader(actor=org.ola, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                                person=org.otto, authority=org.decision)
    assert team_leader(TeamKind.SOFTWARE_ASSESSMENT) == org.ola


# --- staffing levels are flagged, not refused ---------------------------------------------


def test_it_flags_a_team_that_falls_below_two_members(org):
    assert "Software Assessment team has 1" not in findings_text()
    services.end_membership(actor=org.otto, membership=only_membership(org.otto),
                            authority="SP 9.1.7", reason="resignation")
    text = findings_text()
    assert "SP 9.1.2 the Software Assessment team has 1 active member; it needs at least 2" \
        in text


def test_it_flags_a_critical_team_without_a_leader(org):
    services.end_membership(actor=org.ola, membership=only_membership(org.ola),
                            authority="SP 9.1.7", reason="resignation")
    text = findings_text()
    assert "the Software Assessment team has no team leader" in text
    assert "the Software Assessment team has 1 active member" in text
    services.appoint_leader(actor=org.bea, team=org.teams[TeamKind.SOFTWARE_ASSESSMENT],
                            person=org.otto, authority=org.decision)
    assert "Software Assessment team has no team leader" not in findings_text()


def test_it_does_not_ask_for_a_leader_of_the_board(org):
    assert "Board team has no team leader" not in findings_text()
    assert "Arbitration team has no team leader" not in findings_text()


def test_it_flags_a_team_with_no_members(org):
    for membership in Membership.objects.active().filter(team__kind=TeamKind.SUPPORT):
        services.end_membership(actor=org.bea, membership=membership, authority="SP 9.1.7",
                                reason="team dissolved")
    text = findings_text()
    assert "the Support team has 0 active members" in text
    assert "the Support team has no team leader" in text
