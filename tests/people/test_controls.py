"""people.controls: what time breaks (someone leaves, a role changes) is flagged, with the
section behind it, until someone acts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority.services import resolve_authority
from secman.core.controls import Status
from secman.core.roles import Role, TeamKind
from secman.people import services
from secman.people.choices import ListKind
from secman.people.controls import list_findings, staffing_findings
from secman.people.models import Membership

pytestmark = pytest.mark.django_db


def messages(findings) -> list[str]:
    return [f"{f.section}: {f.message}" for f in findings]


def leave(org, person) -> None:
    membership = Membership.objects.active().get(person=person)
    services.end_membership(actor=org.bea, membership=membership, authority="SP 9.1.7",
                            reason="resignation")


def test_it_finds_nothing_on_a_well_staffed_organisation(org, approve):
    services.add_member(actor=org.bea, team=org.teams[TeamKind.AUDIT],
                        person=services.create_person(actor=org.bea, authority="SP 1.2",
                                                      name="Aude", email="aude@example.org"),
                        authority=org.decision)
    # Two people on every list (SP 1.2 redundancy).
    for kind, people in [(ListKind.PHYSICAL_CONTROL, (org.abby, org.axel)),
                         (ListKind.PHYSICAL_ACCESS, (org.sue, org.sam)),
                         (ListKind.SSH_ACCESS, (org.sid,)),  # and, by default, the PAL's
                         (ListKind.REPOSITORY_ACCESS, (org.otto, org.ola)),
                         (ListKind.SUPPORT_ACCESS, (org.pim, org.pia)),
                         (ListKind.CONSOLE_ACCESS, (org.sue, org.sam))]:
        for person in people:
            approve(kind, person)
    # Teams of two meet the policy (SP 9.1.2) and are only warned about (SM 9.1.2: three).
    assert [f for f in staffing_findings() if f.status != Status.WARNING] == []
    assert sorted(f.subject for f in staffing_findings()) == [
        "team:access", "team:software_assessment", "team:support"]


def test_it_flags_someone_on_a_list_who_no_longer_holds_its_role(org, approve):
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    assert list_findings() == []
    leave(org, org.otto)
    found = messages(list_findings())
    assert found == ["SP 3.4.2: Otto is on the Repository Access List but is no longer a "
                     "Software Assessor: propose their removal"]
    assert found[0] in messages(staffing_findings())
    assert list_findings()[0].url == org.lists[ListKind.REPOSITORY_ACCESS].get_absolute_url()


def test_it_stops_flagging_once_the_board_removes_them(org, approve):
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    leave(org, org.otto)
    approve(ListKind.REPOSITORY_ACCESS, org.otto, change="remove")
    assert list_findings() == []


def test_it_flags_an_old_entry_after_a_change_of_team(org, approve):
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    leave(org, org.sue)
    services.add_member(actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=org.sue,
                        authority=org.decision)
    found = messages(list_findings())
    assert found == ["SP 3.4.2: Sue is on the Physical Access List but is no longer a "
                     "Systems Administrator: propose their removal"]


def test_it_flags_an_excluded_role_and_both_lists_of_a_clash(org, approve):
    # Rows written directly, as an import from an older register might: the services
    # refuse them, the controls still find them.
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    authority = resolve_authority(org.decision)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Membership.objects.create(team=org.teams[TeamKind.ACCESS], person=org.sue,
                              role=Role.ACCESS_ENGINEER, start=yesterday, authority=authority)
    found = messages(list_findings())
    assert found == ["SP 3.4.2: Sue is on the Physical Access List and is also Access "
                     "Engineer (exclusive with Access Engineers and Software Assessors)"]
    staffing = messages(staffing_findings())
    assert ("SP 9.1.2: Sue is active in 2 teams (Access, Critical System Administration); "
            "an individual is active in at most one") in staffing


def test_it_flags_both_lists_when_someone_is_on_two_that_exclude_each_other(org, approve):
    from secman.people.models import ListChangeProposal, ListEntry

    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    proposal = ListChangeProposal.objects.get(person=org.sue)
    ListEntry.objects.create(access_list=org.lists[ListKind.REPOSITORY_ACCESS], person=org.sue,
                             added_by=proposal)
    found = messages(list_findings())
    assert ("SP 3.4.2: Sue is on both the Physical Access List and the Repository Access "
            "List, which exclude each other") in found
    assert sum("which exclude each other" in text for text in found) == 1


# --- SP 9.1.5: Board members active in the area abstain ------------------------------------


def board_member_in_systems_administration(org) -> None:
    """Bea (Board) also active in Systems Administration since yesterday, after the
    staffing decision she voted on (made directly: the services allow a second team only
    where it is not a critical one)."""
    Membership.objects.create(team=org.teams[TeamKind.SYSTEMS_ADMINISTRATION], person=org.bea,
                              role=Role.SYSTEMS_ADMINISTRATOR,
                              start=timezone.localdate() - dt.timedelta(days=1),
                              authority=resolve_authority("SP 9.1.1"))


def decision(org, number: int, bea_votes: str):
    from secman.authority.services import confirm_board_decision, record_board_decision

    decision = record_board_decision(
        actor=org.tom, minute_id=f"m{timezone.localdate():%Y%m%d}.{number}",
        decided_on=timezone.localdate(), title="Access", text="t",
        votes={org.bea: bea_votes, org.tom: "aye", org.ida: "aye"})
    return confirm_board_decision(actor=org.ida, decision=decision)


def test_a_board_member_active_in_the_area_should_abstain(org):
    from secman.authority.controls import abstention_findings

    assert abstention_findings() == []
    board_member_in_systems_administration(org)
    voted = decision(org, 2, "aye")
    proposal = services.propose_list_change(actor=org.sam, access_list=org.lists["ssh_access"],
                                            person=org.sid, change="add", reason="r")
    services.approve_proposal(actor=org.tom, proposal=proposal, decision=voted)
    [finding] = abstention_findings()
    assert finding.status == Status.WARNING and finding.section == "SP 9.1.5"
    assert finding.message == (
        f"Bea voted aye on {voted.minute_id}, which approved adding Sid to the SSH Access "
        "List, while active in Critical System Administration: Board members active in "
        "the area should abstain")
    # Abstaining is what SP 9.1.5 asks: no finding for that decision.
    abstained = decision(org, 3, "abstain")
    nia = services.create_person(actor=None, authority="SP 9.1.3", name="Nia",
                                 email="nia@example.org")
    services.add_member(actor=org.tom, team=org.teams[TeamKind.SYSTEMS_ADMINISTRATION],
                        person=nia, role=Role.SYSTEMS_ADMINISTRATOR, authority=abstained)
    assert len(abstention_findings()) == 1
    # A team joined on a decision she voted on is found too.
    services.add_member(actor=org.tom, team=org.teams[TeamKind.SYSTEMS_ADMINISTRATION],
                        person=org.nobody, role=Role.SYSTEMS_ADMINISTRATOR, authority=voted)
    assert len(abstention_findings()) == 2


def test_votes_before_joining_the_area_are_not_found(org):
    from secman.authority.controls import abstention_findings

    voted = decision(org, 2, "aye")
    proposal = services.propose_list_change(actor=org.sam, access_list=org.lists["ssh_access"],
                                            person=org.sid, change="add", reason="r")
    services.approve_proposal(actor=org.tom, proposal=proposal, decision=voted)
    Membership.objects.create(team=org.teams[TeamKind.SYSTEMS_ADMINISTRATION], person=org.bea,
                              role=Role.SYSTEMS_ADMINISTRATOR,
                              start=timezone.localdate() + dt.timedelta(days=1),
                              authority=resolve_authority("SP 9.1.1"))
    assert abstention_findings() == []
