"""One predicate per rule (issue 12): a page offers an action exactly when the service
would accept it from that person. For each action, a few people of different roles open
the page that offers it, and the same people try the service itself (in a transaction
that is rolled back, so each try starts from the same state): the button is shown to
those the service accepts and to nobody it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from secman.authority import arbitration
from secman.authority import services as authority
from secman.authority.signoff import TASK, four_eyes
from secman.compliance import services as compliance
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.core.errors import NotAllowed
from secman.core.roles import Role, TeamKind
from secman.documents import services as documents
from secman.eventlog import verification
from secman.people import services as people
from secman.people.models import Membership, Person
from secman.physical import services as physical
from secman.visits import devices
from secman.visits import services as visits
from tests.conftest import Org

# A Board member, the Arbitrator, an Access Engineer (team leader), a Systems
# Administrator (team leader) and one who is not, an auditor and the administrator.
EVERYONE = ["bea", "arne", "axel", "sam", "sue", "aud", "admin"]


@dataclass
class Action:
    url: str                       # the page that offers it
    marker: str                    # what the page shows when it offers it
    attempt: Callable[[Person], Any]  # the service call, as that person
    people: list[str]


class _RolledBack(Exception):
    pass


def accepted(attempt: Callable[[], Any]) -> bool:
    """Whether the service accepts the call; whatever it writes is rolled back. Any other
    refusal than NotAllowed (a RuleViolation) fails the test: the case would be badly
    set up, testing the input instead of the person."""
    try:
        with transaction.atomic():
            attempt()
            raise _RolledBack
    except _RolledBack:
        return True
    except NotAllowed:
        return False


def offered(client: Client, person: Person, action: Action) -> bool:
    client.force_login(person.user)
    response = client.get(action.url)
    if response.status_code == 403:  # the page itself is not for them
        return False
    assert response.status_code == 200, (action.url, response.status_code)
    return action.marker in response.content.decode()


# --- the actions --------------------------------------------------------------------------


def record_person(org: Org) -> Action:
    return Action("/people/", "Record a person", lambda me: people.create_person(
        actor=me, authority="SP 9.1.3", name="New Person", email="new@example.org"),
        EVERYONE)


def edit_person(org: Org) -> Action:
    # Fetched afresh for each try: the service changes the object it is given.
    return Action(f"/people/{org.sue.pk}/", f"/people/{org.sue.pk}/edit/",
                  lambda me: people.update_person(
                      actor=me, person=Person.objects.get(pk=org.sue.pk),
                      authority="SP 9.1.3", phone="+00 555 9999"),
                  [*EVERYONE, "sid"])


def add_member(org: Org) -> Action:
    team = org.teams[TeamKind.SUPPORT]
    return Action(f"/people/teams/{team.kind}/", "Add a member", lambda me: people.add_member(
        actor=me, team=team, person=org.nobody, role=Role.SUPPORT_ENGINEER,
        authority=org.decision), EVERYONE)


def end_membership(org: Org) -> Action:
    membership = Membership.objects.active().get(person=org.pim)
    marker = f'name="end-membership" value="{membership.pk}"'
    return Action(f"/people/teams/{TeamKind.SUPPORT}/", marker,
                  lambda me: people.end_membership(
                      actor=me, membership=Membership.objects.get(pk=membership.pk),
                      authority="SP 9.1.7", reason="resigned"),
                  [*EVERYONE, "pia", "pim"])


def propose_list_change(org: Org) -> Action:
    access_list = org.lists["ssh_access"]
    return Action(f"/people/lists/{access_list.kind}/", "Propose to the Board",
                  lambda me: people.propose_list_change(
                      actor=me, access_list=access_list, person=org.sid, change="add",
                      reason="on call"), EVERYONE)


def _proposal(org: Org) -> Any:
    return people.propose_list_change(actor=org.sam, access_list=org.lists["ssh_access"],
                                      person=org.sid, change="add", reason="on call")


def approve_proposal(org: Org) -> Action:
    proposal = _proposal(org)
    return Action(f"/people/proposals/{proposal.pk}/", 'id="approve"',
                  lambda me: people.approve_proposal(actor=me, proposal=proposal,
                                                     decision=org.decision), EVERYONE)


def withdraw_proposal(org: Org) -> Action:
    proposal = _proposal(org)
    return Action(f"/people/proposals/{proposal.pk}/", f"/people/proposals/{proposal.pk}/withdraw/",
                  lambda me: people.withdraw_proposal(actor=me, proposal=proposal,
                                                      reason="not needed"), EVERYONE)


def record_decision(org: Org) -> Action:
    day = timezone.localdate() - dt.timedelta(days=1)
    return Action("/authority/decisions/", "/authority/decisions/new/",
                  lambda me: authority.record_board_decision(
                      actor=me, minute_id=f"m{day:%Y%m%d}.7", decided_on=day, title="Budget",
                      text="The budget is approved.", votes={org.bea: "aye", org.tom: "aye"}),
                  EVERYONE)


def record_case(org: Org) -> Action:
    day = timezone.localdate()
    return Action("/authority/cases/", "/authority/cases/new/",
                  lambda me: arbitration.file_case(actor=me, number=f"a{day:%Y%m%d}.7",
                                                 title="A dispute", filed_on=day), EVERYONE)


def rule_case(org: Org) -> Action:
    day = timezone.localdate()
    case = arbitration.file_case(actor=org.cora, number=f"a{day:%Y%m%d}.8", title="A dispute",
                               filed_on=day, arbitrator=org.arne, case_manager=org.cora)
    return Action(f"/authority/cases/{case.number}/", '<option value="ruled"',
                  lambda me: arbitration.update_case(
                      actor=me, case=type(case).objects.get(pk=case.pk), status="ruled",
                      arbitrator=org.arne, case_manager=org.cora, ruled_on=day,
                      ruling_summary="The access was needed."), [*EVERYONE, "cora"])


def request_signoff(org: Org) -> Action:
    return Action("/authority/signoffs/", "/authority/signoffs/new/",
                  lambda me: authority.request_signoff(
                      actor=me, action=TASK, title="Swap a disk", authority="SP 1.2",
                      requirement=four_eyes(Role.SYSTEMS_ADMINISTRATOR,
                                            Role.SYSTEMS_ADMINISTRATOR)), EVERYONE)


def attest(org: Org) -> Action:
    control_id = "staffing.background_checks"
    return Action(f"/compliance/controls/{control_id}/", f"/{control_id}/attest/",
                  lambda me: compliance.attest(actor=me, control_id=control_id,
                                               statement="All checks on file.",
                                               authority="SP 9.1.4.2"), EVERYONE)


def _overdue(control_id: str) -> Occurrence:
    started = timezone.now() - dt.timedelta(days=10)
    compliance.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    compliance.generate_occurrences()
    occurrence = Occurrence.objects.filter(duty__control_id=control_id,
                                           status=OccurrenceStatus.OPEN,
                                           due_at__lte=timezone.now()).first()
    assert occurrence is not None
    return occurrence


def complete_occurrence(org: Org) -> Action:
    """A duty performed by its designated person: the rest of the team may not."""
    occurrence = _overdue("logs.anomaly_examination")
    compliance.designate(actor=org.sam, duty=occurrence.duty, person=org.sue,
                         authority="SM 5.2")
    return Action(f"/compliance/occurrences/{occurrence.pk}/", 'id="complete"',
                  lambda me: compliance.complete_occurrence(actor=me, occurrence=occurrence,
                                                            note="Examined, none found."),
                  [*EVERYONE, "sid"])


def skip_occurrence(org: Org) -> Action:
    occurrence = _overdue("logs.automated_review")
    return Action(f"/compliance/occurrences/{occurrence.pk}/", 'value="skip"',
                  lambda me: compliance.skip_occurrence(
                      actor=me, occurrence=occurrence, reason="The server was moved.",
                      authority=org.decision), EVERYONE)


def revoke_delegation(org: Org) -> Action:
    delegation = documents.delegate_editing(actor=org.sam, team=TeamKind.SYSTEMS_ADMINISTRATION,
                                            person=org.sue)
    return Action("/documents/", f"/documents/delegations/{delegation.pk}/revoke/",
                  lambda me: documents.revoke_delegation(actor=me, delegation=delegation),
                  [*EVERYONE, "sid"])


def record_computer(org: Org) -> Action:
    return Action("/physical/computers/", "/physical/computers/new/",
                  lambda me: physical.create_computer(actor=me, authority="SP 2.2.1",
                                                      asset_tag="CA-0042"), EVERYONE)


def describe_facility(org: Org) -> Action:
    return Action("/physical/facilities/", "Describe a facility",
                  lambda me: physical.record_facility(
                      actor=me, name="Main site", authority="SP 2.1",
                      hosting_provider="Hoster", contract_references="MoU 2026"), EVERYONE)


def _physical_lists(org: Org) -> None:
    def approve(kind: str, person: Person) -> None:
        proposal = people.propose_list_change(actor=org.bea, access_list=org.lists[kind],
                                              person=person, change="add", reason="test")
        people.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)

    approve("physical_control", org.axel)
    approve("physical_control", org.abby)
    approve("physical_access", org.sam)


def _visit(org: Org) -> Any:
    now = timezone.now()
    return visits.request_visit(actor=org.sam, purpose="Replace a disk", systems="signer1",
                                window_start=now - dt.timedelta(hours=1),
                                window_end=now + dt.timedelta(hours=3))


def request_visit(org: Org) -> Action:
    _physical_lists(org)
    now = timezone.now()
    return Action("/visits/", "/visits/new/", lambda me: visits.request_visit(
        actor=me, purpose="Look at the rack", systems="rack 1",
        window_start=now + dt.timedelta(hours=1), window_end=now + dt.timedelta(hours=2)),
        [*EVERYONE, "abby"])


def authorise_visit(org: Org) -> Action:
    _physical_lists(org)
    visit = _visit(org)
    return Action(f"/visits/{visit.pk}/", f"/visits/{visit.pk}/authorise/",
                  lambda me: visits.authorise_visit(actor=me, visit=visit,
                                                    reference="MoU Appendix B"),
                  [*EVERYONE, "abby"])


def check_in(org: Org) -> Action:
    _physical_lists(org)
    visit = visits.authorise_visit(actor=org.axel, visit=_visit(org), reference="MoU B")
    return Action(f"/visits/{visit.pk}/", f"/visits/{visit.pk}/check_in/",
                  lambda me: visits.check_in(actor=me, visit=visit, people=[me, org.sam]),
                  [*EVERYONE, "abby"])


def _visited(org: Org) -> Any:
    """A visit axel and sam checked in to and out of."""
    _physical_lists(org)
    visit = visits.authorise_visit(actor=org.axel, visit=_visit(org), reference="MoU B")
    visits.check_in(actor=org.axel, visit=visit, people=[org.axel, org.sam])
    visits.check_out(actor=org.axel, visit=visit, people=[org.axel, org.sam])
    return visit


def check_out(org: Org) -> Action:
    _physical_lists(org)
    visit = visits.authorise_visit(actor=org.axel, visit=_visit(org), reference="MoU B")
    visits.check_in(actor=org.axel, visit=visit, people=[org.axel, org.sam])
    return Action(f"/visits/{visit.pk}/", f"/visits/{visit.pk}/check_out/",
                  lambda me: visits.check_out(actor=me, visit=visit, people=[org.axel, org.sam]),
                  [*EVERYONE, "abby"])


def file_report(org: Org) -> Action:
    visit = _visited(org)

    def either_report(me: Person) -> Any:
        """Accepted if the service takes one of the two reports from this person."""
        try:
            return visits.file_report(actor=me, visit=visit, kind="accessor", text="Disk swapped.")
        except NotAllowed:
            return visits.file_report(actor=me, visit=visit, kind="access_engineer",
                                      text="Watched the disk swap.")

    return Action(f"/visits/{visit.pk}/", f"/visits/{visit.pk}/report/", either_report,
                  [*EVERYONE, "abby"])


def close_visit(org: Org) -> Action:
    visit = _visited(org)
    visits.file_report(actor=org.sam, visit=visit, kind="accessor", text="Disk swapped.")
    visits.file_report(actor=org.axel, visit=visit, kind="access_engineer", text="Watched.")
    return Action(f"/visits/{visit.pk}/", f"/visits/{visit.pk}/close/",
                  lambda me: visits.close_visit(actor=me, visit=visit), [*EVERYONE, "abby"])


def return_device(org: Org) -> Action:
    _physical_lists(org)
    device = devices.register_device(actor=org.axel, kind="rack_key", label="Rack 1 key",
                                    controlling_party="Hoster")
    holding = devices.issue_device(actor=org.axel, device=device, holder=org.sam,
                                  reference="MoU B")
    return Action(f"/visits/devices/{device.pk}/", f"/visits/holdings/{holding.pk}/return/",
                  lambda me: devices.return_device(actor=me, holding=holding),
                  [*EVERYONE, "abby"])


def verify_log(org: Org) -> Action:
    return Action("/events/", "Verify now", lambda me: verification.run(by=me), EVERYONE)


ACTIONS = [record_person, edit_person, add_member, end_membership, propose_list_change,
           approve_proposal, withdraw_proposal, record_decision, record_case, rule_case,
           request_signoff, attest, complete_occurrence, skip_occurrence, revoke_delegation,
           record_computer, describe_facility, request_visit, authorise_visit, check_in,
           check_out, file_report, close_visit, return_device, verify_log]


@pytest.mark.parametrize("make", ACTIONS, ids=[make.__name__ for make in ACTIONS])
def test_the_page_offers_an_action_exactly_to_those_the_service_accepts(org, client, make):
    action = make(org)
    seen = {}
    for login in dict.fromkeys(action.people):
        person = org.people[login]
        shown = offered(client, person, action)
        allowed = accepted(lambda person=person: action.attempt(person))
        assert shown is allowed, (
            f"{login}: the page {'offers' if shown else 'hides'} it, the service "
            f"{'accepts' if allowed else 'refuses'}")
        seen[login] = allowed
    # Both answers occur, so the case tells the people apart.
    assert set(seen.values()) == {True, False}, seen
