"""Visits under SP/SM 2.3 and 4.2.4, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority import arbitration
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.visits import controls, services
from secman.visits.choices import OnSiteRole, VisitStatus
from secman.visits.models import Participant, Visit


def entries(action: str) -> int:
    return Event.objects.filter(action=action).count()


def test_it_walks_a_visit_from_request_to_close(physical, authorised_visit):
    org = physical
    assert authorised_visit.status == VisitStatus.AUTHORISED
    assert authorised_visit.authorisation_reference == "MoU Appendix B, 2026-07 access list"
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.sue])
    services.check_out(actor=org.sue, visit=authorised_visit, people=[org.sue])
    services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    services.file_report(actor=org.sam, visit=authorised_visit, kind="accessor",
                         text="Swapped disk 2; resync started.")
    services.file_report(actor=org.axel, visit=authorised_visit, kind="access_engineer",
                         text="Opened rack 12 for Sam, closed it at 11:05.")
    visit = services.close_visit(actor=org.sam, visit=authorised_visit)
    assert visit.status == VisitStatus.CLOSED
    axel = Participant.objects.get(visit=visit, person=org.axel)
    assert axel.role == OnSiteRole.ACCESS_ENGINEER and axel.accesses_data is False
    assert Participant.objects.get(visit=visit, person=org.sam).accesses_data is True
    close = Event.objects.get(action="visits.visit.close")
    assert close.authority == "SM 2.3.3"
    assert {r["text"] for r in close.details["reports"]} >= {"Swapped disk 2; resync started."}
    assert controls.visit_findings() == []


def test_it_refuses_a_visit_with_one_person(physical, authorised_visit):
    with pytest.raises(RuleViolation) as refused:
        services.check_in(actor=physical.axel, visit=authorised_visit, people=[physical.axel])
    assert refused.value.section == "SP 2.3"
    assert "at least 2 authorised persons" in str(refused.value)
    assert not Participant.objects.exists()
    assert entries("visits.visit.check_in") == 0
    assert Visit.objects.get().status == VisitStatus.AUTHORISED


def test_it_refuses_a_check_in_without_an_access_engineer_or_sysadmin(physical, authorised_visit):
    with pytest.raises(NotAllowed):
        services.check_in(actor=physical.sam, visit=authorised_visit,
                          people=[physical.sam, physical.sue])
    with pytest.raises(RuleViolation) as refused:
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.abby])
    assert refused.value.section == "SM 2.3.2"
    assert "no Systems Administrator" in str(refused.value)
    assert entries("visits.visit.check_in") == 0


def test_it_refuses_to_check_in_someone_not_authorised(physical, authorised_visit):
    with pytest.raises(RuleViolation) as refused:
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.sam, physical.sid])
    assert "Sid is on neither the Physical Access List nor the Physical Control List" in str(
        refused.value)
    assert refused.value.section == "SM 2.3.1"
    assert not Participant.objects.exists()
    assert entries("visits.visit.check_in") == 0


def test_it_refuses_a_check_in_before_authorisation(physical):
    now = timezone.now()
    visit = services.request_visit(actor=physical.sam, purpose="Look", systems="rack",
                                   window_start=now, window_end=now + dt.timedelta(hours=1))
    with pytest.raises(RuleViolation, match="“check in” is only for a visit that is authorised"):
        services.check_in(actor=physical.axel, visit=visit, people=[physical.axel, physical.sam])


def test_it_only_lets_the_physical_lists_request_visits(physical):
    now = timezone.now()
    with pytest.raises(NotAllowed) as refused:
        services.request_visit(actor=physical.sid, purpose="x", systems="y",
                               window_start=now, window_end=now + dt.timedelta(hours=1))
    assert refused.value.section == "SM 2.3.1"
    assert not Visit.objects.exists()


def test_it_does_not_let_the_requester_authorise(physical):
    now = timezone.now()
    visit = services.request_visit(actor=physical.axel, purpose="Rack audit", systems="rack",
                                   window_start=now, window_end=now + dt.timedelta(hours=1))
    with pytest.raises(NotAllowed, match="four eyes"):
        services.authorise_visit(actor=physical.axel, visit=visit, reference="MoU B")
    services.authorise_visit(actor=physical.abby, visit=visit, reference="MoU B")


def test_it_keeps_dual_control_when_people_leave(physical, authorised_visit):
    org = physical
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    with pytest.raises(RuleViolation, match="check them out together"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel])
    assert Participant.objects.filter(checked_out_at__isnull=True).count() == 2


def test_it_closes_only_with_both_reports(physical, visited):
    services.file_report(actor=physical.sam, visit=visited, kind="accessor", text="Done.")
    with pytest.raises(RuleViolation) as refused:
        services.close_visit(actor=physical.sam, visit=visited)
    assert refused.value.section == "SP 4.2.4"
    assert "report by the access engineer" in str(refused.value)
    assert entries("visits.visit.close") == 0
    assert [f.section for f in controls.visit_findings()] == ["SP 4.2.4"]


def test_it_takes_each_report_from_the_right_person(physical, visited):
    with pytest.raises(NotAllowed, match="not by the Access Engineer"):
        services.file_report(actor=physical.axel, visit=visited, kind="accessor", text="x")
    with pytest.raises(NotAllowed):
        services.file_report(actor=physical.sam, visit=visited, kind="access_engineer",
                             text="x")
    with pytest.raises(NotAllowed):
        services.file_report(actor=physical.sue, visit=visited, kind="accessor", text="x")


def test_it_files_a_dispute_for_an_emergency_access(physical, org):
    now = timezone.now()
    visit = services.record_emergency(
        actor=physical.sam, purpose="Power supply on fire", systems="signer1",
        circumstances="Smoke alarm in the rack at 03:10; the hosting staff called us.",
        started_at=now - dt.timedelta(hours=2), ended_at=now - dt.timedelta(hours=1),
        people=[physical.sam, physical.sid],
    )
    assert visit.status == VisitStatus.AWAITING_RULING
    assert visit.case.number == f"a{timezone.localdate():%Y%m%d}.1"
    assert "Power supply on fire" in visit.case.title
    filed = Event.objects.get(action="authority.case.file", subject_id=str(visit.case.pk))
    assert filed.authority == visit.case.number and "Smoke alarm" in filed.canonical
    sid = Participant.objects.get(visit=visit, person=physical.sid)
    assert sid.role == OnSiteRole.UNAUTHORISED
    assert [f.section for f in controls.emergency_findings()] == ["SP 2.3.4"]
    with pytest.raises(RuleViolation, match=r"possible now: .*link the Arbitrator's ruling"):
        services.close_visit(actor=physical.sam, visit=visit)
    with pytest.raises(RuleViolation, match="not ruled"):
        services.link_ruling(actor=physical.sam, visit=visit, case=visit.case.number)

    arbitration.update_case(actor=org.cora, case=visit.case, status="running",
                                   arbitrator=org.arne, case_manager=org.cora)
    visit.case.refresh_from_db()
    arbitration.update_case(
        actor=org.arne, case=visit.case, status="ruled", arbitrator=org.arne,
        case_manager=org.cora, ruled_on=timezone.localdate(),
        ruling_summary="The access averted a greater harm; authorised after the fact.")
    visit = services.link_ruling(actor=physical.sam, visit=visit, case=visit.case.number)
    assert visit.status == VisitStatus.LEFT
    assert controls.emergency_findings() == []
    assert Event.objects.filter(action="visits.visit.link_ruling",
                                authority=visit.case.number).exists()


def test_it_refuses_an_emergency_without_circumstances(physical):
    now = timezone.now()
    with pytest.raises(RuleViolation, match="circumstances"):
        services.record_emergency(actor=physical.sam, purpose="x", systems="y",
                                  circumstances=" ", started_at=now - dt.timedelta(hours=1),
                                  ended_at=now, people=[physical.sam])
    assert not Visit.objects.exists()
    from secman.authority.models import ArbitrationCase

    assert not ArbitrationCase.objects.exists()
