"""Every rule of SP/SM 2.3 (and SP 4.2.4) that secman.visits enforces: one test breaks it
and checks the refusal (its type, its section, nothing written: no row, no Event Log
entry), one follows it and checks the entry it writes (action, authority, actor).

Test                                                     Section
--------------------------------------------------------------------------------------
test_visits_are_requested_from_the_physical_lists                SM 2.3.1
test_a_person_on_a_list_who_left_their_team_may_not_request      SM 2.3.1, SP 3.4.2
test_a_request_says_what_where_and_when_before_it_happens        SM 2.3.1
test_visits_are_authorised_by_an_access_engineer_or_the_board    SM 2.3.1
test_the_requester_does_not_authorise_their_own_visit            SP 1.2 (four eyes)
test_authorisation_has_a_reference_and_happens_once              SM 2.3.1, SP 1.2
test_check_in_needs_two_persons_on_site                          SP 2.3
test_check_in_needs_a_systems_administrator_for_logical_access   SM 2.3.2
test_a_visit_without_logical_access_needs_no_sysadmin            SM 2.3.2
test_check_in_is_recorded_by_an_access_engineer_on_site          SM 2.3.2
test_only_authorised_people_check_in                             SM 2.3.1
test_check_in_only_to_an_authorised_visit_within_its_window      SM 2.3.1
test_check_in_times_are_real                                     SM 2.3.1
test_nobody_checks_in_twice                                      SP 2.3
test_those_who_stay_keep_dual_control                            SP 2.3, SM 2.3.2
test_check_out_refusals                                          SM 2.3.2, SM 2.3.3
test_access_engineers_do_not_access_the_data                     SM 2.3.2
test_each_report_comes_from_the_right_person_once                SP 4.2.4
test_reports_are_filed_once_people_have_been_on_site             SP 4.2.4
test_a_visit_closes_with_two_reports_once_everyone_left          SP 4.2.4, SM 2.3.3
test_the_close_is_reported_to_the_sysadmin_list                  SM 2.3.3, SP 2.3.3
test_the_controls_find_what_time_breaks                          SM 2.3.1, SP 2.3
test_emergency_access_is_recorded_by_a_sysadmin_or_access_engineer  SP 2.3.4
test_emergency_access_needs_its_circumstances_and_real_times     SP 2.3.4
test_emergency_access_files_a_dispute_and_waits_for_a_ruling     SP 2.3.4, SM 2.3.4
test_only_a_ruling_authorises_an_emergency_after_the_fact        SP 2.3.4
test_the_register_is_kept_by_its_managers                        SM 2.3.5
test_a_device_is_registered_with_what_it_is_and_who_controls_it  SM 2.3.5
test_a_code_is_never_stored                                      SM 2.3.5
test_rack_keys_are_not_copied                                    SM 2.3.5
test_codes_and_devices_go_to_authorised_people_only              SP 2.3.5
test_a_device_that_may_be_copied_goes_to_several_holders         SM 2.3.5
test_returns_are_recorded_once_by_the_holder_or_a_manager        SP 2.3.5
test_unauthorised_holders_are_flagged_everywhere                 SP 2.3.5
test_free_text_is_no_authority                                   SP 1.2
test_hostile_free_text_is_refused_or_kept_exactly                SM 2.3.1 (free text)
test_hostile_labels_of_codes_never_hold_a_code                   SM 2.3.5
test_api_refuses_what_the_services_refuse                        SM 2.3.1, 2.3.5,
                                                                 SP 1.2, 2.3.4, 4.2.4
test_cli_refuses_what_the_services_refuse                        SM 2.3.1, 2.3.2, 2.3.5,
                                                                 SP 2.3.4, 4.2.4
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from secman.authority import arbitration
from secman.authority.models import ArbitrationCase
from secman.cli import main
from secman.core.errors import NotAllowed, Refused, RuleViolation
from secman.core.validation import forbidden_character
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.models import Membership
from secman.visits import controls, devices, services
from secman.visits.models import Device, Holding, Participant, Visit, VisitReport
from tests.refusals import actions_since, entries_since, last_seq, refused, snapshot

TABLES = (Visit, Participant, VisitReport, Device, Holding, ArbitrationCase)
HOUR = dt.timedelta(hours=1)


def no_change(exc_type, match, section=None):
    return refused(exc_type, match, *TABLES, section=section)


def window(start=-1, end=3):
    now = timezone.now()
    return {"window_start": now + start * HOUR, "window_end": now + end * HOUR}


def requested(org, actor=None, logical_access=True, **times):
    return services.request_visit(actor=actor or org.sam, purpose="Swap disk",
                                  systems="signer1", logical_access=logical_access,
                                  **(times or window()))


def authorised(org, **kwargs):
    return services.authorise_visit(actor=org.axel, visit=requested(org, **kwargs),
                                    reference="MoU B #1")


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def leave_team(org, person):
    membership = Membership.objects.active().get(person=person)
    people_services.end_membership(actor=person, membership=membership, authority="SP 9.1.7",
                                   reason="resignation", end=timezone.localdate())


def ruled(org, case):
    arbitration.update_case(actor=org.cora, case=case, status="running",
                                   arbitrator=org.arne, case_manager=org.cora)
    arbitration.update_case(
        actor=org.arne, case=reload(case), status="ruled", arbitrator=org.arne,
        case_manager=org.cora, ruled_on=timezone.localdate(),
        ruling_summary="Authorised after the fact.")
    return reload(case)


# --- request and authorisation (SM 2.3.1) ----------------------------------------------------


@pytest.mark.parametrize("login", ["sid", "pia", "bea", "aud", "nobody"])
def test_visits_are_requested_from_the_physical_lists(physical, login):
    with no_change(NotAllowed, "only people on the Physical Access List or the Physical "
                   "Control List request visits", section="SM 2.3.1"):
        requested(physical, actor=physical.people[login])
    for person in (physical.sam, physical.abby):
        mark = last_seq()
        visit = requested(physical, actor=person)
        [entry] = entries_since(mark)
        assert (entry.action, entry.authority, entry.actor) == (
            "visits.visit.request", "SM 2.3.1", person)
        assert entry.details["purpose"] == "Swap disk"
        assert entry.details["logical_access"] is True
        assert visit.status == "requested"


def test_a_person_on_a_list_who_left_their_team_may_not_request(physical):
    leave_team(physical, physical.sue)
    with no_change(NotAllowed, "Sue is on the Physical Access List but is no longer a "
                   "Systems Administrator in a team", section="SM 2.3.1"):
        requested(physical, actor=physical.sue)


@pytest.mark.parametrize(("change", "message", "section"), [
    ({"purpose": "  "}, "give the purpose", None),
    ({"systems": "\n"}, "give the systems concerned", None),
    ({"window_start": 2, "window_end": 1}, "must end after it starts", None),
    ({"window_start": 1, "window_end": 1}, "must end after it starts", None),
    ({"window_start": -3, "window_end": -1}, "the time window has passed", "SM 2.3.1"),
    ({"window_start": "naive", "window_end": 1}, "time zone", None),
    ({"purpose": "Swap\x00disk"}, "NUL character", None),
])
def test_a_request_says_what_where_and_when_before_it_happens(physical, change, message,
                                                               section):
    now = timezone.now()
    args = {"purpose": "Swap disk", "systems": "signer1", **window()}
    for key, value in change.items():
        if key.startswith("window"):
            args[key] = (now.replace(tzinfo=None) if value == "naive" else now + value * HOUR)
        else:
            args[key] = value
    with no_change(RuleViolation, message, section=section):
        services.request_visit(actor=physical.sam, **args)


@pytest.mark.parametrize("login", ["sam", "sue", "sid", "pia", "arne"])
def test_visits_are_authorised_by_an_access_engineer_or_the_board(physical, login):
    visit = requested(physical)
    with no_change(NotAllowed, "authorised by an Access Engineer on the Physical Control "
                   "List or by the Board", section="SM 2.3.1"):
        services.authorise_visit(actor=physical.people[login], visit=visit, reference="B")
    for person in (physical.bea, physical.abby):
        visit = requested(physical)
        mark = last_seq()
        services.authorise_visit(actor=person, visit=visit, reference=" MoU B #7 ")
        [entry] = entries_since(mark)
        assert (entry.action, entry.authority, entry.actor) == (
            "visits.visit.authorise", "SM 2.3.1", person)
        assert entry.details == {"reference": "MoU B #7"}
        visit = reload(visit)
        assert (visit.status, visit.authorised_by, visit.authorisation_reference) == (
            "authorised", person, "MoU B #7")


def test_the_requester_does_not_authorise_their_own_visit(physical):
    visit = requested(physical, actor=physical.axel)
    with no_change(NotAllowed, "does not authorise it", section="SP 1.2"):
        services.authorise_visit(actor=physical.axel, visit=visit, reference="MoU B")


def test_authorisation_has_a_reference_and_happens_once(physical):
    visit = requested(physical)
    with no_change(RuleViolation, "give the authorisation reference"):
        services.authorise_visit(actor=physical.axel, visit=visit, reference=" ")
    with no_change(RuleViolation, "longer than 200"):
        services.authorise_visit(actor=physical.axel, visit=visit, reference="r" * 201)
    mark = last_seq()
    services.authorise_visit(actor=physical.axel, visit=visit, reference="MoU B",
                             authority=physical.decision)
    [entry] = entries_since(mark)
    assert entry.authority == physical.decision.minute_id
    with no_change(RuleViolation, "only a visit that is requested"):
        services.authorise_visit(actor=physical.abby, visit=visit, reference="again")


# --- check-in and check-out (SP 2.3, SM 2.3.2) ----------------------------------------------


def test_check_in_needs_two_persons_on_site(physical, authorised_visit):
    with no_change(RuleViolation, "1 person on site: dual control needs at least 2",
                   section="SP 2.3"):
        services.check_in(actor=physical.axel, visit=authorised_visit, people=[physical.axel])
    with no_change(RuleViolation, "at least 2", section="SP 2.3"):  # one person named twice
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.axel])
    with no_change(RuleViolation, "name the people"):
        services.check_in(actor=physical.axel, visit=authorised_visit, people=[])
    mark = last_seq()
    services.check_in(actor=physical.axel, visit=authorised_visit,
                      people=[physical.axel, physical.sam])
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.check_in", "SP 2.3", physical.axel)
    assert [(p["person"], p["role"], p["accesses_data"]) for p in entry.details["people"]] == [
        ("Axel", "access_engineer", False), ("Sam", "systems_administrator", True)]
    assert reload(authorised_visit).status == "on_site"


def test_check_in_needs_a_systems_administrator_for_logical_access(physical, authorised_visit):
    with no_change(RuleViolation, "no Systems Administrator on site", section="SM 2.3.2"):
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.abby])


def test_a_visit_without_logical_access_needs_no_sysadmin(physical):
    visit = authorised(physical, logical_access=False)
    services.check_in(actor=physical.axel, visit=visit, people=[physical.axel, physical.abby])
    assert not Participant.objects.filter(visit=visit, accesses_data=True).exists()
    other = authorised(physical, logical_access=False)
    services.check_in(actor=physical.axel, visit=other, people=[physical.axel, physical.sam])
    # SM 2.3.2: without logical access nobody is recorded as accessing the data
    assert Participant.objects.get(visit=other, person=physical.sam).accesses_data is False


def test_check_in_is_recorded_by_an_access_engineer_on_site(physical, authorised_visit):
    with no_change(NotAllowed, "recorded by an Access Engineer", section="SM 2.3.2"):
        services.check_in(actor=physical.sam, visit=authorised_visit,
                          people=[physical.axel, physical.sam])
    with no_change(NotAllowed, "who records a check-in is on site", section="SM 2.3.2"):
        services.check_in(actor=physical.abby, visit=authorised_visit,
                          people=[physical.axel, physical.sam])
    leave_team(physical, physical.axel)  # on the list, but no longer an Access Engineer
    with no_change(NotAllowed, "recorded by an Access Engineer", section="SM 2.3.2"):
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.sam])


@pytest.mark.parametrize(("login", "why"), [
    ("sid", "Sid is on neither the Physical Access List nor the Physical Control List"),
    ("pia", "Pia is on neither"),
    ("bea", "Bea is on neither"),
])
def test_only_authorised_people_check_in(physical, authorised_visit, login, why):
    with no_change(RuleViolation, why, section="SM 2.3.1") as info:
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.sam, physical.people[login]])
    assert info.value.field == "people"
    leave_team(physical, physical.sue)
    with no_change(RuleViolation, "no longer a Systems Administrator", section="SM 2.3.1"):
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.axel, physical.sue])


def test_check_in_only_to_an_authorised_visit_within_its_window(physical, visited):
    requested_only = requested(physical)
    with no_change(RuleViolation, "“check in” is only for a visit that is authorised",
                   section="SM 2.3.1"):
        services.check_in(actor=physical.axel, visit=requested_only,
                          people=[physical.axel, physical.sam])
    with no_change(RuleViolation, "“check in” is only for a visit that is authorised",
                   section="SM 2.3.1"):
        services.check_in(actor=physical.axel, visit=visited,  # everyone has left
                          people=[physical.abby, physical.sue])
    later = authorised(physical, **window(2, 4))
    with no_change(RuleViolation, "is outside it", section="SM 2.3.1") as info:
        services.check_in(actor=physical.axel, visit=later,
                          people=[physical.axel, physical.sam])
    assert info.value.field == "at"
    now = timezone.now()
    short = services.request_visit(actor=physical.sam, purpose="p", systems="s",
                                   window_start=now - 2 * HOUR,
                                   window_end=now + dt.timedelta(minutes=1))
    services.authorise_visit(actor=physical.axel, visit=short, reference="MoU B")
    with no_change(RuleViolation, "is outside it", section="SM 2.3.1"):
        services.check_in(actor=physical.axel, visit=short, at=now - 3 * HOUR,
                          people=[physical.axel, physical.sam])


def test_check_in_times_are_real(physical, authorised_visit):
    now = timezone.now()
    with no_change(RuleViolation, "cannot lie in the future"):
        services.check_in(actor=physical.axel, visit=authorised_visit, at=now + HOUR,
                          people=[physical.axel, physical.sam])
    with no_change(RuleViolation, "time zone"):
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          at=now.replace(tzinfo=None), people=[physical.axel, physical.sam])
    [axel, _sam] = services.check_in(actor=physical.axel, visit=authorised_visit,
                                     at=now - dt.timedelta(minutes=10),
                                     people=[physical.axel, physical.sam])
    assert axel.checked_in_at == now - dt.timedelta(minutes=10)


def test_nobody_checks_in_twice(physical, authorised_visit):
    services.check_in(actor=physical.axel, visit=authorised_visit,
                      people=[physical.axel, physical.sam])
    with no_change(RuleViolation, "Sam checked in at .* already"):
        services.check_in(actor=physical.axel, visit=authorised_visit,
                          people=[physical.sue, physical.sam])
    services.check_out(actor=physical.axel, visit=authorised_visit,
                       people=[physical.axel, physical.sam])
    with no_change(RuleViolation, "“check in” is only for a visit that is authorised"):
        services.check_in(actor=physical.abby, visit=authorised_visit,
                          people=[physical.abby, physical.sam])


def test_those_who_stay_keep_dual_control(physical, authorised_visit):
    org = physical
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam,
                                                                      org.sue])
    with no_change(RuleViolation, "those who would stay break the rule: no Access Engineer",
                   section="SM 2.3.2"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel])
    services.check_out(actor=org.sue, visit=authorised_visit, people=[org.sue])
    with no_change(RuleViolation, "1 person on site", section="SP 2.3"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.sam])
    mark = last_seq()
    services.check_out(actor=org.sam, visit=authorised_visit, people=[org.sam, org.axel])
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.check_out", "SM 2.3.3", org.sam)
    assert entry.details["people"] == ["Axel", "Sam"] and entry.details["everyone_left"]
    assert reload(authorised_visit).status == "left"


def test_check_out_refusals(physical, authorised_visit):
    org = physical
    with no_change(RuleViolation, "“check out” is only for a visit that is on site"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel])
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    with no_change(NotAllowed, "recorded by someone on the visit or an Access Engineer",
                   section="SM 2.3.2"):
        services.check_out(actor=org.sue, visit=authorised_visit, people=[org.axel, org.sam])
    with no_change(RuleViolation, "Sue is not on site"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.sue])
    with no_change(RuleViolation, "a check-out cannot be earlier"):
        services.check_out(actor=org.axel, visit=authorised_visit,
                           at=timezone.now() - HOUR / 2, people=[org.axel, org.sam])
    with no_change(RuleViolation, "cannot lie in the future"):
        services.check_out(actor=org.axel, visit=authorised_visit,
                           at=timezone.now() + HOUR, people=[org.axel, org.sam])
    services.check_out(actor=org.abby, visit=authorised_visit, people=[org.axel, org.sam])
    with no_change(RuleViolation, "“check out” is only for a visit that is on site"):
        services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel])


def test_access_engineers_do_not_access_the_data(physical, authorised_visit):
    from django.db import IntegrityError, transaction

    services.check_in(actor=physical.axel, visit=authorised_visit,
                      people=[physical.axel, physical.sam])
    assert Participant.objects.get(person=physical.axel).accesses_data is False
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses too
        Participant.objects.filter(person=physical.axel).update(accesses_data=True)


# --- reports and close (SP 4.2.4, SM 2.3.3) -----------------------------------------------


def test_each_report_comes_from_the_right_person_once(physical, visited):
    org = physical
    with no_change(NotAllowed, "not by the Access Engineer", section="SP 4.2.4"):
        services.file_report(actor=org.axel, visit=visited, kind="accessor", text="x")
    with no_change(NotAllowed, "filed by an Access Engineer who was on this visit",
                   section="SP 4.2.4"):
        services.file_report(actor=org.sam, visit=visited, kind="access_engineer", text="x")
    with no_change(NotAllowed, "filed by an Access Engineer who was on this visit"):
        services.file_report(actor=org.abby, visit=visited, kind="access_engineer", text="x")
    with no_change(NotAllowed, "by someone on this visit", section="SP 4.2.4"):
        services.file_report(actor=org.sue, visit=visited, kind="accessor", text="x")
    with no_change(RuleViolation, "'summary' is not a report"):
        services.file_report(actor=org.sam, visit=visited, kind="summary", text="x")
    with no_change(RuleViolation, "give the report"):
        services.file_report(actor=org.sam, visit=visited, kind="accessor", text=" \t")
    mark = last_seq()
    services.file_report(actor=org.sam, visit=visited, kind="accessor", text=" Swapped. ")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.report", "SP 4.2.4", org.sam)
    assert entry.details == {"kind": "accessor", "text": "Swapped."}
    with no_change(RuleViolation, "is filed already"):
        services.file_report(actor=org.sam, visit=visited, kind="accessor", text="again")


def test_reports_are_filed_once_people_have_been_on_site(physical, authorised_visit):
    with no_change(RuleViolation, "“file a report” is only for a visit that is on site"):
        services.file_report(actor=physical.sam, visit=authorised_visit, kind="accessor",
                             text="nothing yet")


def test_a_visit_closes_with_two_reports_once_everyone_left(physical, authorised_visit):
    org = physical
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    services.file_report(actor=org.sam, visit=authorised_visit, kind="accessor", text="a")
    services.file_report(actor=org.axel, visit=authorised_visit, kind="access_engineer",
                         text="b")
    with no_change(RuleViolation, "only a visit that is left the site"):
        services.close_visit(actor=org.sam, visit=authorised_visit)
    services.check_out(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    with no_change(NotAllowed, "closed by someone who was on it or an Access Engineer",
                   section="SM 2.3.3"):
        services.close_visit(actor=org.sue, visit=authorised_visit)
    mark = last_seq()
    services.close_visit(actor=org.abby, visit=authorised_visit)  # an AE not on the visit
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.close", "SM 2.3.3", org.abby)
    assert entry.details["authorisation"] == "MoU Appendix B, 2026-07 access list"
    assert {r["kind"] for r in entry.details["reports"]} == {"accessor", "access_engineer"}
    assert [p["person"] for p in entry.details["people"]] == ["Axel", "Sam"]
    with no_change(RuleViolation, "it does not change any more"):
        services.close_visit(actor=org.sam, visit=authorised_visit)
    requested_only = requested(org)
    with no_change(RuleViolation, "only a visit that is left the site"):
        services.close_visit(actor=org.axel, visit=requested_only)


@pytest.mark.parametrize("missing", ["accessor", "access_engineer"])
def test_the_close_is_reported_to_the_sysadmin_list(physical, visited, settings, missing):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@lists.example.org"
    authors = {"accessor": physical.sam, "access_engineer": physical.axel}
    for kind, author in authors.items():
        if kind != missing:
            services.file_report(actor=author, visit=visited, kind=kind, text="done")
    with no_change(RuleViolation, "a visit is closed with both reports", section="SP 4.2.4"):
        services.close_visit(actor=physical.sam, visit=visited)
    services.file_report(actor=authors[missing], visit=visited, kind=missing, text="done")
    services.close_visit(actor=physical.sam, visit=visited)
    entry = Event.objects.get(action="visits.visit.close")
    assert entry.details["mailed_to"] == "sysadmins@lists.example.org"


def test_the_controls_find_what_time_breaks(physical, authorised_visit):
    org = physical
    services.check_in(actor=org.axel, visit=authorised_visit, people=[org.axel, org.sam])
    assert controls.visit_findings() == []
    Visit.objects.filter(pk=authorised_visit.pk).update(  # the window ends, nobody left
        window_end=timezone.now() - dt.timedelta(minutes=1))
    assert [f.section for f in controls.visit_findings()] == ["SM 2.3.1"]
    alone = emergency(org, people=[org.sam])  # an emergency may have one person on site
    findings = {(f.section, f.url) for f in controls.visit_findings()}
    assert ("SP 2.3", alone.get_absolute_url()) in findings


# --- emergency access (SP/SM 2.3.4) ---------------------------------------------------------


def emergency(org, actor=None, **change):
    now = timezone.now()
    args = {"purpose": "Cooling failure", "systems": "signer1",
            "circumstances": "Rack at 41 degrees; nobody else reachable.",
            "started_at": now - 2 * HOUR, "ended_at": now - HOUR,
            "people": [org.sam, org.axel], **change}
    return services.record_emergency(actor=actor or org.sam, **args)


@pytest.mark.parametrize("login", ["pia", "ola", "aud", "bea", "nobody"])
def test_emergency_access_is_recorded_by_a_sysadmin_or_access_engineer(physical, login):
    with no_change(NotAllowed, "recorded by a Systems Administrator, an Access Engineer or "
                   "someone on the physical lists", section="SP 2.3.4"):
        emergency(physical, actor=physical.people[login])
    emergency(physical, actor=physical.sid)  # a Systems Administrator on no list


@pytest.mark.parametrize(("change", "message"), [
    ({"circumstances": " "}, "give the circumstances"),
    ({"purpose": ""}, "give the purpose"),
    ({"systems": ""}, "give the systems"),
    ({"people": []}, "name the people"),
    ({"ended_at": "start"}, "must end after it started"),
    ({"ended_at": "future"}, "cannot lie in the future"),
    ({"started_at": "naive"}, "time zone"),
])
def test_emergency_access_needs_its_circumstances_and_real_times(physical, change, message):
    now = timezone.now()
    values = {"start": now - 2 * HOUR, "future": now + HOUR,
              "naive": (now - 2 * HOUR).replace(tzinfo=None)}
    change = {k: values.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    with no_change(RuleViolation, message):
        emergency(physical, **change)


def test_emergency_access_files_a_dispute_and_waits_for_a_ruling(physical, settings):
    settings.SECMAN_DISPUTE_ADDRESS = "dispute@example.org"
    org = physical
    mark = last_seq()
    visit = emergency(org, people=[org.sam, org.axel, org.sid])
    assert actions_since(mark) == ["authority.case.file", "visits.visit.emergency"]
    filed, entry = entries_since(mark)
    assert filed.authority == visit.case.number and filed.details["dispute"] is True
    assert (entry.authority, entry.actor) == (visit.case.number, org.sam)
    assert entry.details["case"] == visit.case.number
    roles = {p["person"]: p["role"] for p in entry.details["people"]}
    assert roles == {"Sam": "systems_administrator", "Axel": "access_engineer",
                     "Sid": "unauthorised"}
    assert visit.status == "awaiting_ruling" and visit.case.status == "filed"
    assert [f.section for f in controls.emergency_findings()] == ["SP 2.3.4"]
    services.file_report(actor=org.sam, visit=visit, kind="accessor", text="Shut down.")
    services.file_report(actor=org.axel, visit=visit, kind="access_engineer", text="Seen.")
    with no_change(RuleViolation, "possible now: file a report or link the Arbitrator's ruling",
                   section="SM 2.3.3"):
        services.close_visit(actor=org.sam, visit=visit)
    with no_change(RuleViolation, "“check in” is only for a visit that is authorised"):
        services.check_in(actor=org.axel, visit=visit, people=[org.axel, org.sue])
    with no_change(RuleViolation, "only a visit that is requested"):
        services.authorise_visit(actor=org.abby, visit=visit, reference="after the fact")


def test_only_a_ruling_authorises_an_emergency_after_the_fact(physical):
    org = physical
    visit = emergency(org)
    with no_change(RuleViolation, "not ruled: only a ruling authorises", section="SP 2.3.4"):
        services.link_ruling(actor=org.sam, visit=visit, case=visit.case.number)
    with no_change(RuleViolation, "is not recorded in secman"):
        services.link_ruling(actor=org.sam, visit=visit, case="a20000101.9")
    case = ruled(org, visit.case)
    with no_change(NotAllowed, "linked by the Arbitration team, the Board", section="SP 2.3.4"):
        services.link_ruling(actor=org.pia, visit=visit, case=case)
    ordinary = authorised(org)
    with no_change(RuleViolation,
                   "is only for a visit that is awaiting after-the-fact authorisation"):
        services.link_ruling(actor=org.arne, visit=ordinary, case=case)
    mark = last_seq()
    services.link_ruling(actor=org.arne, visit=visit, case=f" {case.number.upper()} ")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.link_ruling", case.number, org.arne)
    assert entry.details["ruling"] == "Authorised after the fact."
    visit = reload(visit)
    assert (visit.status, visit.ruling) == ("left", case)
    assert controls.emergency_findings() == []
    with no_change(RuleViolation,
                   "is only for a visit that is awaiting after-the-fact authorisation"):
        services.link_ruling(actor=org.arne, visit=visit, case=case)
    services.file_report(actor=org.sam, visit=visit, kind="accessor", text="Shut down.")
    services.file_report(actor=org.axel, visit=visit, kind="access_engineer", text="Seen.")
    services.close_visit(actor=org.sam, visit=visit)
    close = Event.objects.get(action="visits.visit.close")
    assert close.details["emergency"] is True and close.details["authorisation"] == (
        case.number)


# --- codes and devices (SP/SM 2.3.5) --------------------------------------------------------


def device(org, actor=None, **change):
    args = {"kind": "rack_key", "label": "Rack 12 key #1", "controlling_party": "BIT",
            **change}
    return devices.register_device(actor=actor or org.axel, **args)


@pytest.mark.parametrize("login", ["sue", "sid", "pia", "aud", "arne", "nobody"])
def test_the_register_is_kept_by_its_managers(physical, login):
    with no_change(NotAllowed, "kept by Access Engineers, the Critical System "
                   "Administration team leader and the Board", section="SM 2.3.5"):
        device(physical, actor=physical.people[login])
    for person in (physical.abby, physical.sam, physical.bea):  # sam leads the sysadmins
        mark = last_seq()
        key = device(physical, actor=person, label=f"Key of {person}")
        [entry] = entries_since(mark)
        assert (entry.action, entry.authority, entry.actor) == (
            "visits.device.register", "SM 2.3.5", person)
        assert entry.details == {"kind": "rack_key", "label": key.label,
                                 "controlling_party": "BIT", "copies_permitted": False}


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "dongle"}, "'dongle' is not a kind of device"),
    ({"label": " "}, "give a label"),
    ({"notes": "kept by BIT\x00"}, "NUL character"),
    ({"label": "L" * 121}, "longer than 120"),
    ({"controlling_party": ""}, "give the controlling party"),
    ({"controlling_party": "C" * 201}, "longer than 200"),
])
def test_a_device_is_registered_with_what_it_is_and_who_controls_it(physical, change,
                                                                     message):
    with no_change(RuleViolation, message):
        device(physical, **change)
    device(physical, label="Rack 12 key #1")
    with no_change(RuleViolation, "registered already"):
        device(physical, label="RACK 12 KEY #1")


@pytest.mark.parametrize(("field", "text"), [
    ("label", "Cage door 4821"), ("notes", "changed to 90210 in May"),
    ("label", "PIN 0000"),
])
def test_a_code_is_never_stored(physical, field, text):
    change = {"label": "Cage door code", field: text}
    with no_change(RuleViolation, "never the code itself", section="SM 2.3.5") as info:
        device(physical, kind="code", copies_permitted=True, **change)
    assert info.value.field == field
    code = device(physical, kind="code", copies_permitted=True, label="Cage door code",
                  notes="changed in May")
    assert code.notes == "changed in May"


def test_rack_keys_are_not_copied(physical):
    with no_change(RuleViolation, "not permitted to be copied", section="SM 2.3.5"):
        device(physical, copies_permitted=True)


def test_codes_and_devices_go_to_authorised_people_only(physical):
    org = physical
    key = device(org)
    for login in ("sid", "pia", "bea"):
        with no_change(RuleViolation, "everyone who holds codes and devices is to be "
                       "authorised", section="SP 2.3.5"):
            devices.issue_device(actor=org.axel, device=key, holder=org.people[login],
                                  reference="MoU B")
    with no_change(NotAllowed, "the register is kept by"):
        devices.issue_device(actor=org.sue, device=key, holder=org.sue, reference="MoU B")
    with no_change(RuleViolation, "give the authorisation reference"):
        devices.issue_device(actor=org.axel, device=key, holder=org.sue, reference="")
    mark = last_seq()
    devices.issue_device(actor=org.axel, device=key, holder=org.sue, reference="MoU B")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.device.issue", "SM 2.3.5", org.axel)
    assert entry.details == {"holder": "Sue", "holder_id": org.sue.pk, "reference": "MoU B"}
    with no_change(RuleViolation, "Sue holds Rack 12 key #1 already"):
        devices.issue_device(actor=org.axel, device=key, holder=org.sue, reference="MoU B")
    with no_change(RuleViolation, "copies of Rack 12 key #1 are not permitted and Sue holds "
                   "it", section="SM 2.3.5"):
        devices.issue_device(actor=org.axel, device=key, holder=org.sam, reference="MoU B")


def test_a_device_that_may_be_copied_goes_to_several_holders(physical):
    card = device(physical, kind="access_card", label="Card 0A", copies_permitted=True)
    for person in (physical.sam, physical.sue, physical.abby):
        devices.issue_device(actor=physical.axel, device=card, holder=person,
                              reference="MoU B")
    assert Holding.objects.current().filter(device=card).count() == 3


def test_returns_are_recorded_once_by_the_holder_or_a_manager(physical):
    org = physical
    key = device(org)
    holding = devices.issue_device(actor=org.axel, device=key, holder=org.sue,
                                    reference="MoU B")
    with no_change(NotAllowed, "the register is kept by"):
        devices.return_device(actor=org.sid, holding=holding)
    mark = last_seq()
    devices.return_device(actor=org.sue, holding=holding)
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.device.return", "SM 2.3.5", org.sue)
    with no_change(RuleViolation, "Sue returned Rack 12 key #1 on"):
        devices.return_device(actor=org.axel, holding=holding)
    again = devices.issue_device(actor=org.axel, device=key, holder=org.sam,
                                  reference="MoU B")
    devices.return_device(actor=org.bea, holding=again)  # the Board manages the register
    assert not Holding.objects.current().exists()


def test_unauthorised_holders_are_flagged_everywhere(physical, approve, monkeypatch):
    org = physical
    key = device(org)
    devices.issue_device(actor=org.axel, device=key, holder=org.sue, reference="MoU B")
    assert controls.holder_findings() == []
    approve("physical_access", org.sue, change="remove")
    [finding] = controls.holder_findings()
    assert finding.section == "SP 2.3.5" and "Sue is on neither" in finding.message
    client = APIClient()
    client.force_login(org.axel.user)
    [holding] = client.get(f"/api/devices/{key.pk}/").json()["holdings"]
    assert holding["not_authorised"].startswith("Sue is on neither")
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    listed = CliRunner().invoke(main, ["visits", "devices", "list"])
    assert "Sue [NOT AUTHORISED]" in listed.output
    other = device(org, label="Rack 12 key #2")
    with no_change(RuleViolation, "to be authorised", section="SP 2.3.5"):
        devices.issue_device(actor=org.axel, device=other, holder=org.sue, reference="MoU B")


# --- authority, hostile input ---------------------------------------------------------------


@pytest.mark.parametrize("authority", ["because Axel said so", "SP", "m20261340.1",
                                       "a20260101.99"])
def test_free_text_is_no_authority(physical, authority):
    visit = requested(physical)
    with no_change(RuleViolation, "authority|not recorded|real date|not an"):
        services.authorise_visit(actor=physical.axel, visit=visit, reference="MoU B",
                                 authority=authority)
    with no_change(RuleViolation, "authority|not recorded|real date|not an"):
        device(physical, authority=authority)


FREE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(purpose=FREE_TEXT, systems=FREE_TEXT)
def test_hostile_free_text_is_refused_or_kept_exactly(physical, purpose, systems):
    before = snapshot(*TABLES)
    try:
        visit = services.request_visit(actor=physical.sam, purpose=purpose, systems=systems,
                                       **window())
    except Refused:
        assert snapshot(*TABLES) == before
        # Empty, or a character a field of its kind does not take (core.validation).
        assert not purpose.strip() or not systems.strip() or any(
            forbidden_character(text.strip(), multiline=True) is not None
            for text in (purpose, systems))
        return
    entry = Event.objects.order_by("-seq").first()
    assert (visit.purpose, visit.systems) == (purpose.strip(), systems.strip())
    assert (entry.details["purpose"], entry.details["systems"]) == (
        purpose.strip(), systems.strip())


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60),
       digits=st.from_regex(r"[0-9]{4,8}", fullmatch=True))
def test_hostile_labels_of_codes_never_hold_a_code(physical, label, digits):
    before = snapshot(*TABLES)
    with pytest.raises(RuleViolation):
        devices.register_device(actor=physical.axel, kind="code", label=f"{label}{digits}",
                                 controlling_party="BIT", copies_permitted=True)
    assert snapshot(*TABLES) == before


# --- through the API and the command line ----------------------------------------------------


@pytest.fixture
def api(physical):
    def signed_in(person):
        client = APIClient()
        client.force_login(person.user)
        return client

    return signed_in


def test_api_refuses_what_the_services_refuse(physical, api, visited):
    org = physical
    before = snapshot(*TABLES)
    times = {k: v.isoformat() for k, v in window().items()}
    answer = api(org.sid).post("/api/visits/", {"purpose": "p", "systems": "s", **times},
                               format="json")
    assert answer.status_code == 403 and answer.json()["section"] == "SM 2.3.1"
    visit = requested(org, actor=org.axel)
    before = snapshot(*TABLES)
    answer = api(org.axel).post(f"/api/visits/{visit.pk}/authorise/", {"reference": "B"},
                                format="json")
    assert answer.status_code == 403 and answer.json()["section"] == "SP 1.2"
    answer = api(org.axel).post(f"/api/visits/{visited.pk}/report/",
                                {"kind": "accessor", "text": "x"}, format="json")
    assert answer.status_code == 403 and answer.json()["section"] == "SP 4.2.4"
    answer = api(org.sam).post(f"/api/visits/{visited.pk}/close/", format="json")
    assert answer.status_code == 400 and answer.json()["section"] == "SP 4.2.4"
    now = timezone.now()
    answer = api(org.pia).post("/api/visits/emergency/", {
        "purpose": "p", "systems": "s", "circumstances": "c",
        "started_at": (now - 2 * HOUR).isoformat(), "ended_at": (now - HOUR).isoformat(),
        "people": [org.sam.pk]}, format="json")
    assert answer.status_code == 403 and answer.json()["section"] == "SP 2.3.4"
    answer = api(org.axel).post("/api/devices/", {
        "kind": "rack_key", "label": "Rack 1 key", "controlling_party": "BIT",
        "copies_permitted": True}, format="json")
    assert answer.status_code == 400 and answer.json()["section"] == "SM 2.3.5"
    answer = api(org.axel).post("/api/devices/", {
        "kind": "code", "label": "Door 4711", "controlling_party": "BIT"}, format="json")
    assert answer.status_code == 400 and answer.json()["field"] == "label"
    assert snapshot(*TABLES) == before
    answer = api(org.sam).post("/api/visits/emergency/", {
        "purpose": "p", "systems": "s", "circumstances": "c",
        "started_at": (now - 2 * HOUR).isoformat(), "ended_at": (now - HOUR).isoformat(),
        "people": [org.sam.pk, org.axel.pk]}, format="json")
    assert answer.status_code == 201
    assert answer.json()["status"] == "awaiting_ruling" and answer.json()["case"]


def cli(*args):
    return CliRunner().invoke(main, ["visits", *args])


def test_cli_refuses_what_the_services_refuse(physical, visited):
    org = physical
    fmt = "%Y-%m-%d %H:%M"
    now = timezone.now()
    before = snapshot(*TABLES)
    result = cli("request", "--as", "sid", "--purpose", "p", "--systems", "s",
                 "--from", f"{now + HOUR:{fmt}}", "--until", f"{now + 2 * HOUR:{fmt}}")
    assert result.exit_code == 1 and "(SM 2.3.1)" in result.output
    result = cli("request", "--as", "sam", "--purpose", "p", "--systems", "s",
                 "--from", f"{now - 3 * HOUR:{fmt}}", "--until", f"{now - 2 * HOUR:{fmt}}")
    assert result.exit_code == 1 and "the time window has passed" in result.output
    pk = str(visited.pk)
    result = cli("report", pk, "--as", "sue", "--kind", "accessor", "--text", "x")
    assert result.exit_code == 1 and "(SP 4.2.4)" in result.output
    result = cli("close", pk, "--as", "sam")
    assert result.exit_code == 1 and "a visit is closed with both reports (SP 4.2.4)" in (
        result.output)
    result = cli("emergency", "--as", "pia", "--purpose", "p", "--systems", "s",
                 "--circumstances", "c", "--started", f"{now - 2 * HOUR:{fmt}}",
                 "--ended", f"{now - HOUR:{fmt}}", "--person", "sam")
    assert result.exit_code == 1 and "(SP 2.3.4)" in result.output
    result = cli("devices", "add", "--as", "sue", "--kind", "other", "--label", "Torch",
                 "--controlling-party", "BIT")
    assert result.exit_code == 1 and "(SM 2.3.5)" in result.output
    assert snapshot(*TABLES) == before
    visit = authorised(org)
    before = snapshot(*TABLES)
    result = cli("check-in", str(visit.pk), "--as", "axel", "--person", "axel", "--person",
                 "abby")
    assert result.exit_code == 1 and "no Systems Administrator on site" in result.output
    assert "(SM 2.3.2)" in result.output
    result = cli("check-in", str(visit.pk), "--as", "axel", "--person", "axel", "--person",
                 "sid")
    assert result.exit_code == 1 and "(SM 2.3.1)" in result.output
    assert snapshot(*TABLES) == before
    mark = last_seq()
    result = cli("check-in", str(visit.pk), "--as", "axel", "--person", "axel", "--person",
                 "sam@example.org")
    assert result.exit_code == 0, result.output
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "visits.visit.check_in", "SP 2.3", org.axel)
