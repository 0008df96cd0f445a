"""Every rule of SP/SM chapter 2.1-2.2 that secman.physical enforces: one test breaks it
and checks the refusal (its type, its section, nothing written: no row, no Event Log
entry), one follows it and checks the entry it writes (action, authority, sign-offs).

Test                                                   Section
--------------------------------------------------------------------------------------
test_facility_is_described_by_access_engineers_or_the_board     SP 2.1
test_facility_names_its_provider_and_contract                    SP 2.1
test_facility_revision_keeps_the_history_and_refuses_no_change   SP 2.1
test_facility_refuses_unknown_fields_and_long_names              SP 2.1
test_hardware_is_recorded_by_the_hardware_roles_only             SP 2.2.1
test_each_unit_is_uniquely_identified                            SP 2.2.1, SM 2.2.1
test_a_vendor_change_cannot_duplicate_a_serial_number            SM 2.2.1
test_inventory_needs_every_sm_field                              SM 2.2.1
test_inventory_happens_once_from_acquired                        SP 2.2.1
test_service_needs_inventory_and_a_legal_owner                   SP 2.2.1, SM 2.2.1
test_an_inventoried_computer_keeps_its_inventory                 SM 2.2.1 (change control)
test_maintenance_needs_four_eyes_with_an_access_engineer         SP 4.1 (SP 2.2.2)
test_maintenance_refused_before_anyone_is_asked_to_sign          SP 4.1
test_maintenance_signature_refused_when_the_computer_moved_on    SP 2.2.1
test_service_risk_means_the_computer_must_retire                 SP 2.2.2
test_retirement_needs_a_reason_and_empty_bays                    SP 2.2.2, SP 2.2.3.3
test_text_no_column_can_hold_is_refused                          (bad input, SP 2.2.1)
test_media_are_inventoried_by_the_hardware_roles                 SP 2.2.3.1
test_new_media_are_erased_and_reformatted_before_use             SP 2.2.3.1
test_media_inventory_refuses_bad_values                          SP 2.2.3.1, SM 2.2.3
test_every_change_of_status_is_a_report                          SM 2.2.3
test_media_follow_their_lifecycle                                SP 2.2.3
test_media_are_used_and_reused_only_in_critical_systems          SP 2.2.3.2
test_media_are_erased_before_storage                             SP 2.2.3.2
test_retirement_methods_each_need_their_record                   SP 2.2.3.3, SM 2.2.3
test_retirement_in_each_method_is_recorded                       SP 2.2.3.3, SM 2.2.3
test_critical_media_need_two_systems_administrators              SP 2.2.3.3
test_a_waiting_critical_step_is_checked_again_at_the_last_signature  SP 2.2.3.3
test_only_sealed_media_are_destroyed_later_and_only_once         SM 2.2.3
test_free_text_is_no_authority                                   SP 1.2
test_csv_import_is_all_or_nothing                                SP 2.2.1 (change control)
test_csv_dry_run_writes_nothing                                  SP 2.2.1
test_csv_media_import_refuses_capacities_it_cannot_store         SP 2.2.3.1
test_csv_media_import_never_crashes_on_hostile_input             SP 2.2.3.1
test_csv_computer_import_never_crashes_on_hostile_cells          SP 2.2.1
test_api_lets_the_board_read_but_not_write                       SP 2.2.1
test_api_refuses_what_the_services_refuse                        SP 2.2.1, SP 2.2.3.2
test_api_opens_sign_offs_for_maintenance_and_critical_media      SP 4.1, SP 2.2.3.3
test_cli_refuses_what_the_services_refuse                        SP 2.2.1, SP 2.2.2, SP 2.2.3
test_cli_media_import_names_only_recorded_people                 SP 2.2.3.1
test_a_holder_who_leaves_the_team_may_no_longer_change_the_inventory  SP 2.2.1
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from secman.authority import services as authority_services
from secman.authority.models import SignOff, SignOffRequest
from secman.cli import main
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.physical import controls, csvio, services
from secman.physical.models import Computer, Facility, FacilityRevision, Media, MediaReport
from tests.refusals import actions_since, entries_since, last_seq, refused, snapshot

TABLES = (Computer, Media, MediaReport, Facility, FacilityRevision, SignOffRequest, SignOff)
THIS_YEAR = timezone.localdate().year
INVENTORY = {"nickname": "vault", "vendor": "Acme", "model": "R2", "serial_number": "SN-2",
             "maintenance_contact": "Acme support", "rack_location": "Rack 3, U14",
             "intended_use": "backup"}


def no_change(exc_type, match, section=None):
    return refused(exc_type, match, *TABLES, section=section)


def acquired(org, tag="CA-0002", **fields):
    return services.create_computer(actor=org.axel, authority="SP 2.2.1.1", asset_tag=tag,
                                    **fields)


def inventoried(org, tag="CA-0002"):
    computer = acquired(org, tag, **INVENTORY)
    return services.inventory_computer(actor=org.axel, computer=computer)


def provision(org, serial="D-1", critical=False, **extra):
    return services.register_media(
        actor=org.sam, serial_number=serial, media_type="ssd", capacity_gb=512,
        location="safe A", present=[org.sam], steps_taken="ATA secure erase, new GPT",
        erased_and_reformatted=True, critical_data=critical, **extra)


def step(org, media, to, **kwargs):
    args = {"present": [org.sam], "steps_taken": f"to {to}", "location": "safe B", **kwargs}
    return services.change_media_status(actor=org.sam, media=media, to_status=to, **args)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- facility (SP/SM 2.1) ------------------------------------------------------------------

FACILITY = {"hosting_provider": "Example Hosting", "contract_references": "MoU 2026, annex B",
            "rating": "BORG class 4"}


@pytest.mark.parametrize("login", ["sam", "ola", "aud", "nobody"])
def test_facility_is_described_by_access_engineers_or_the_board(org, login):
    with no_change(NotAllowed, "Access Engineers or the Board", section="SP 2.1"):
        services.record_facility(actor=org.people[login], name="Ede", authority="SP 2.1",
                                 **FACILITY)
    for person in (org.axel, org.bea):
        mark = last_seq()
        revision = services.record_facility(actor=person, name=f"Ede {person}",
                                            authority="SP 2.1", **FACILITY)
        [entry] = entries_since(mark)
        assert (entry.action, entry.authority, entry.actor) == (
            "physical.facility.record", "SP 2.1", person)
        assert entry.details["new"] is True and entry.details["values"]["rating"] == (
            "BORG class 4")
        assert revision.recorded_by == person


@pytest.mark.parametrize("missing", ["hosting_provider", "contract_references"])
def test_facility_names_its_provider_and_contract(org, missing):
    fields = {**FACILITY, missing: "   "}
    with no_change(RuleViolation, "hosting provider and the contract", section="SP 2.1"):
        services.record_facility(actor=org.axel, name="Ede", authority="SP 2.1", **fields)


def test_facility_revision_keeps_the_history_and_refuses_no_change(org):
    first = services.record_facility(actor=org.axel, name="Ede", authority="SP 2.1",
                                     **FACILITY)
    with no_change(RuleViolation, "nothing changed"):
        services.record_facility(actor=org.abby, name="Ede", authority="SP 2.1", **FACILITY)
    mark = last_seq()
    services.record_facility(actor=org.abby, name="Ede", authority="SP 2.1",
                             **{**FACILITY, "power": "1.2 MW, twin UPS"})
    [entry] = entries_since(mark)
    assert entry.details["changed"] == ["power"] and entry.details["new"] is False
    facility = Facility.objects.get(name="Ede")
    assert facility.revisions.count() == 2 and facility.current.power == "1.2 MW, twin UPS"
    assert FacilityRevision.objects.get(pk=first.pk).power == ""  # never overwritten


def test_facility_refuses_unknown_fields_and_long_names(org):
    with no_change(RuleViolation, "unknown facility fields: owner"):
        services.record_facility(actor=org.axel, name="Ede", authority="SP 2.1",
                                 owner="me", **FACILITY)
    with no_change(RuleViolation, "at most 120 characters"):
        services.record_facility(actor=org.axel, name="E" * 121, authority="SP 2.1",
                                 **FACILITY)
    with no_change(RuleViolation, "rating is longer than 200"):
        services.record_facility(actor=org.axel, name="Ede", authority="SP 2.1",
                                 **{**FACILITY, "rating": "x" * 201})


# --- computers (SP/SM 2.2.1, 2.2.2) ----------------------------------------------------------


@pytest.mark.parametrize("login", ["ola", "pia", "bea", "aud", "nobody"])
def test_hardware_is_recorded_by_the_hardware_roles_only(org, login):
    with no_change(NotAllowed, "Access Engineers and Systems Administrators",
                   section="SP 2.2.1"):
        services.create_computer(actor=org.people[login], authority="SP 2.2.1.1",
                                 asset_tag="CA-0002")
    for person in (org.abby, org.sid):
        mark = last_seq()
        computer = services.create_computer(actor=person, authority="SP 2.2.1.1",
                                            asset_tag=f"CA-{person}", vendor="Acme",
                                            acquisition_notes="bought from stock")
        [entry] = entries_since(mark)
        assert (entry.action, entry.authority, entry.actor) == (
            "physical.computer.acquire", "SP 2.2.1.1", person)
        assert entry.details == {"asset_tag": f"CA-{person}", "vendor": "Acme",
                                 "acquisition_notes": "bought from stock"}
        assert computer.status == "acquired"


@pytest.mark.parametrize(("fields", "message", "section"), [
    ({"asset_tag": "CA-0001"}, "asset tag CA-0001 is already used", "SP 2.2.1"),
    ({"asset_tag": " CA-0001 "}, "asset tag CA-0001 is already used", "SP 2.2.1"),
    ({"asset_tag": "CA-0009", "nickname": "signer"}, "nickname signer is already used",
     "SP 2.2.1"),
    ({"asset_tag": "CA-0009", "vendor": "Acme", "serial_number": "SN-1"},
     "serial number SN-1 is already in the inventory", "SM 2.2.1"),
    ({"asset_tag": "  "}, "needs an asset tag", "SP 2.2.1"),
])
def test_each_unit_is_uniquely_identified(org, rack, fields, message, section):
    tag = fields.pop("asset_tag")
    with no_change(RuleViolation, message, section=section):
        services.create_computer(actor=org.axel, authority="SP 2.2.1", asset_tag=tag,
                                 **fields)
    other = acquired(org, "CA-0010", nickname="other")
    with no_change(RuleViolation, "is already used"):
        services.update_computer(actor=org.axel, computer=other, authority="SP 2.2.1",
                                 nickname="signer")


def test_a_vendor_change_cannot_duplicate_a_serial_number(org, rack):
    other = acquired(org, "CA-0010", vendor="Other", serial_number="SN-1")
    with no_change(RuleViolation, "serial number SN-1 is already in the inventory",
                   section="SM 2.2.1"):
        services.update_computer(actor=org.axel, computer=other, authority="SP 2.2.1",
                                 vendor="Acme")


def test_inventory_needs_every_sm_field(org):
    computer = acquired(org, vendor="Acme", model="R1")
    with no_change(RuleViolation, "lacks serial_number, maintenance_contact, rack_location, "
                   "intended_use, nickname", section="SM 2.2.1") as info:
        services.inventory_computer(actor=org.axel, computer=computer)
    assert info.value.field == "serial_number"
    services.update_computer(actor=org.axel, computer=computer, authority="SM 2.2.1",
                             **{k: v for k, v in INVENTORY.items() if k not in ("vendor",
                                                                               "model")})
    mark = last_seq()
    services.inventory_computer(actor=org.sue, computer=computer)
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.computer.inventory", "SM 2.2.1", org.sue)
    assert entry.details == {"from": "acquired", "to": "inventoried"}


def test_inventory_happens_once_from_acquired(org, rack):
    with no_change(RuleViolation, "only a computer that is acquired can", section="SM 2.2.1"):
        services.inventory_computer(actor=org.axel, computer=rack)
    computer = acquired(org, **INVENTORY)
    with no_change(NotAllowed, "Access Engineers and Systems Administrators"):
        services.inventory_computer(actor=org.bea, computer=computer)


def test_service_needs_inventory_and_a_legal_owner(org):
    computer = acquired(org, **INVENTORY)
    with no_change(RuleViolation, "inventoried before being put into service",
                   section="SP 2.2.1"):
        services.put_in_service(actor=org.axel, computer=computer, legal_owner="Foundation")
    services.inventory_computer(actor=org.axel, computer=computer)
    with no_change(RuleViolation, "name the legal owner", section="SM 2.2.1"):
        services.put_in_service(actor=org.axel, computer=computer, legal_owner=" ")
    mark = last_seq()
    services.put_in_service(actor=org.abby, computer=computer, legal_owner=" Foundation ")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.computer.in_service", "SP 2.2.1", org.abby)
    assert entry.details == {"from": "inventoried", "to": "in_service",
                             "legal_owner": "Foundation"}
    assert reload(computer).legal_owner == "Foundation"
    with no_change(RuleViolation, "only a computer that is inventoried"):
        services.put_in_service(actor=org.abby, computer=computer, legal_owner="Foundation")


def test_an_inventoried_computer_keeps_its_inventory(org, rack):
    with no_change(RuleViolation, "keeps its rack_location", section="SM 2.2.1"):
        services.update_computer(actor=org.axel, computer=rack, authority="SP 2.2.1",
                                 rack_location="")
    with no_change(RuleViolation, "nothing to change"):
        services.update_computer(actor=org.axel, computer=rack, authority="SP 2.2.1",
                                 rack_location="Rack 3, U12")
    with no_change(RuleViolation, "cannot change status"):
        services.update_computer(actor=org.axel, computer=rack, authority="SP 2.2.1",
                                 status="retired")
    with no_change(NotAllowed, "Access Engineers and Systems Administrators"):
        services.update_computer(actor=org.pia, computer=rack, authority="SP 2.2.1",
                                 rack_location="Rack 4")
    mark = last_seq()
    services.update_computer(actor=org.axel, computer=rack, authority="SP 2.2.1",
                             rack_location="Rack 4, U1")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority) == ("physical.computer.update", "SP 2.2.1")
    assert entry.details == {"before": {"rack_location": "Rack 3, U12"},
                             "after": {"rack_location": "Rack 4, U1"}}
    services.retire_computer(actor=org.axel, computer=rack, reason="end of life")
    with no_change(RuleViolation, "retired computer's record is kept"):
        services.update_computer(actor=org.axel, computer=reload(rack), authority="SP 2.2.1",
                                 rack_location="Rack 9")


def test_maintenance_needs_four_eyes_with_an_access_engineer(org, rack):
    mark = last_seq()
    request = services.request_maintenance(actor=org.sam, computer=rack, work="replace fan")
    assert actions_since(mark) == ["signoff.request"]
    assert reload(rack).status == "in_service"
    authority_services.sign(actor=org.sam, request=request)  # the observer's slot
    with no_change(NotAllowed, "hold none of the roles", section="SP 1.2"):
        authority_services.sign(actor=org.sue, request=request)  # executor: an AE only
    with no_change(RuleViolation, "signed this request already", section="SP 1.2"):
        authority_services.sign(actor=org.sam, request=request)
    assert reload(rack).status == "in_service"
    mark = last_seq()
    authority_services.sign(actor=org.abby, request=request)
    assert actions_since(mark) == ["signoff.sign", "physical.computer.maintenance",
                                   "signoff.complete"]
    entry = Event.objects.get(action="physical.computer.maintenance")
    assert entry.authority == "SP 4.1" and entry.actor is None
    assert entry.actor_label == "secman (last sign-off given)"
    assert {(s["slot"], s["person"]) for s in entry.signoffs} == {
        ("observer", "Sam"), ("executor", "Abby")}
    assert entry.details["work"] == "replace fan"
    assert reload(rack).status == "maintenance"
    services.put_in_service(actor=org.abby, computer=rack, legal_owner="Hosting Foundation")
    assert reload(rack).status == "in_service"


def test_maintenance_refused_before_anyone_is_asked_to_sign(org, rack):
    with no_change(RuleViolation, "say what maintenance"):
        services.request_maintenance(actor=org.axel, computer=rack, work="  ")
    with no_change(NotAllowed, "Access Engineers and Systems Administrators"):
        services.request_maintenance(actor=org.bea, computer=rack, work="fan")
    computer = inventoried(org)
    with no_change(RuleViolation, "only a computer that is in service can"):
        services.request_maintenance(actor=org.axel, computer=computer, work="fan")


def test_maintenance_signature_refused_when_the_computer_moved_on(org, rack):
    request = services.request_maintenance(actor=org.axel, computer=rack, work="fan")
    authority_services.sign(actor=org.axel, request=request, slot="executor")
    services.record_service_risk(actor=org.axel, computer=rack, reason="vendor keeps disks")
    with no_change(RuleViolation, "must retire .*only a computer that is in service can",
                   section="SP 4.1"):
        authority_services.sign(actor=org.sam, request=request)
    assert reload(request).status == "pending"


def test_service_risk_means_the_computer_must_retire(org, rack):
    with no_change(RuleViolation, "describe the service and its security risk"):
        services.record_service_risk(actor=org.axel, computer=rack, reason="")
    new = acquired(org)
    with no_change(RuleViolation, "only a computer that is"):
        services.record_service_risk(actor=org.axel, computer=new, reason="risk")
    mark = last_seq()
    services.record_service_risk(actor=org.sue, computer=rack,
                                 reason="vendor repair needs the disks")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.computer.service_risk", "SP 2.2.2", org.sue)
    assert entry.details == {"from": "in_service", "to": "must_retire",
                             "reason": "vendor repair needs the disks"}
    assert [f.section for f in controls.computers_to_retire()] == ["SP 2.2.2"]
    # SP 2.2.2: it is retired, never serviced or put back into service
    with no_change(RuleViolation, "only a computer that is in service can"):
        services.request_maintenance(actor=org.axel, computer=rack, work="repair")
    with no_change(RuleViolation, "only a computer that is inventoried or under service"):
        services.put_in_service(actor=org.axel, computer=rack, legal_owner="Foundation")
    with no_change(RuleViolation, "only a computer that is"):
        services.record_service_risk(actor=org.axel, computer=rack, reason="again")
    mark = last_seq()
    services.retire_computer(actor=org.axel, computer=rack, reason="service risk")
    assert actions_since(mark) == ["physical.computer.retire"]
    assert controls.computers_to_retire() == []


def test_retirement_needs_a_reason_and_empty_bays(org, rack):
    media = provision(org)
    step(org, media, "in_use", computer=rack)
    with no_change(RuleViolation, "say why"):
        services.retire_computer(actor=org.axel, computer=rack, reason=" ")
    with no_change(RuleViolation, "still holds storage media", section="SP 2.2.3.3"):
        services.retire_computer(actor=org.axel, computer=rack, reason="old")
    with no_change(NotAllowed, "Access Engineers and Systems Administrators"):
        services.retire_computer(actor=org.bea, computer=rack, reason="old")
    step(org, media, "stored", erased=True)
    mark = last_seq()
    services.retire_computer(actor=org.axel, computer=rack, reason="old")
    [entry] = entries_since(mark)
    assert entry.details == {"from": "in_service", "to": "retired", "reason": "old"}
    with no_change(RuleViolation, "only a computer that is"):
        services.retire_computer(actor=org.axel, computer=rack, reason="again")
    assert controls.media_in_retired_computers() == []


@pytest.mark.parametrize(("call", "message", "field"), [
    ("computer", "asset tag contains a NUL character", "asset_tag"),
    ("notes", "acquisition notes is longer than 10000 characters", "acquisition_notes"),
    ("facility", "name contains a NUL character", "name"),
    ("media", "serial number contains a NUL character", "serial_number"),
    ("step", "steps taken contains a NUL character", "steps_taken"),
    ("certificate", "certificate contains a NUL character", "certificate"),
])
def test_text_no_column_can_hold_is_refused(org, rack, call, message, field):
    media = provision(org)
    calls = {
        "computer": lambda: acquired(org, "CA\x0009"),
        "notes": lambda: acquired(org, "CA-0009", acquisition_notes="n" * 10_001),
        "facility": lambda: services.record_facility(actor=org.axel, name="Ede\x00",
                                                     authority="SP 2.1", **FACILITY),
        "media": lambda: provision(org, "D\x002"),
        "step": lambda: step(org, media, "stored", erased=True, steps_taken="wiped\x00"),
        "certificate": lambda: step(org, media, "retired", method="licensed_disposal",
                                    certificate="W\x00"),
    }
    with no_change(RuleViolation, message) as info:
        calls[call]()
    assert info.value.field == field


# --- storage media (SP/SM 2.2.3) -----------------------------------------------------------


@pytest.mark.parametrize("login", ["ola", "pia", "bea", "aud"])
def test_media_are_inventoried_by_the_hardware_roles(org, login):
    with no_change(NotAllowed, "Access Engineers and Systems Administrators",
                   section="SP 2.2.1"):
        services.register_media(
            actor=org.people[login], serial_number="D-1", media_type="hdd", capacity_gb=1,
            location="safe", present=[org.sam], steps_taken="wiped",
            erased_and_reformatted=True)


def test_new_media_are_erased_and_reformatted_before_use(org):
    with no_change(RuleViolation, "securely erased and reformatted before use",
                   section="SP 2.2.3.1"):
        services.register_media(actor=org.sam, serial_number="D-9", media_type="hdd",
                                capacity_gb=1000, location="safe", present=[org.sam],
                                steps_taken="none", erased_and_reformatted=False)
    mark = last_seq()
    media = provision(org, critical=True, description="spare for signer")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.media.provision", "SP 2.2.3.1", org.sam)
    assert entry.details == {"serial_number": "D-1", "type": "ssd", "capacity_gb": 512,
                             "location": "safe A", "critical_data": True,
                             "present": ["Sam"], "steps": "ATA secure erase, new GPT"}
    [report] = media.reports.all()
    assert (report.from_status, report.to_status, report.erased) == ("", "provisioned", True)
    assert media.last_erased_at is not None


@pytest.mark.parametrize(("change", "message", "field"), [
    ({"serial_number": " "}, "needs its serial number", "serial_number"),
    ({"serial_number": "S" * 121}, "is longer than 120 characters", "serial_number"),
    ({"media_type": "floppy"}, "'floppy' is not a media type", "media_type"),
    ({"capacity_gb": 0}, "whole number of gigabytes above 0", "capacity_gb"),
    ({"capacity_gb": "12"}, "whole number of gigabytes above 0", "capacity_gb"),
    ({"capacity_gb": 2**31}, "whole number of gigabytes", "capacity_gb"),
    ({"present": []}, "name the Systems Administrators present", "present"),
    ({"steps_taken": "\n"}, "describe the steps taken", "steps_taken"),
    ({"location": ""}, "say where the medium is now", "location"),
    ({"location": "L" * 201}, "longer than 200 characters", "location"),
])
def test_media_inventory_refuses_bad_values(org, change, message, field):
    args = {"serial_number": "D-1", "media_type": "hdd", "capacity_gb": 1, "location": "safe",
            "present": [org.sam], "steps_taken": "wiped", "erased_and_reformatted": True,
            **change}
    with no_change(RuleViolation, message) as info:
        services.register_media(actor=org.sam, **args)
    assert info.value.field == field
    provision(org, "D-2")
    with no_change(RuleViolation, "D-2 is already in the inventory", section="SP 2.2.3.1"):
        provision(org, "D-2")


@pytest.mark.parametrize(("change", "message"), [
    ({"present": []}, "name the Systems Administrators present"),
    ({"steps_taken": " "}, "describe the steps taken"),
    ({"location": " "}, "say where the medium is now"),
    ({"location": "L" * 201}, "longer than 200 characters"),
])
def test_every_change_of_status_is_a_report(org, rack, change, message):
    media = provision(org)
    with no_change(RuleViolation, message, section="SM 2.2.3"):
        step(org, media, "in_use", computer=rack, **change)
    mark = last_seq()
    step(org, media, "in_use", computer=rack, present=[org.sam, org.axel],
         steps_taken="installed in bay 2", location="Rack 3")
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.media.step", "SP 2.2.3", org.sam)
    assert entry.signoffs == []
    assert entry.details["from"] == "provisioned" and entry.details["to"] == "in_use"
    assert entry.details["present"] == ["Axel", "Sam"]
    assert entry.details["computer"] == str(rack)
    report = media.reports.first()
    assert (report.from_status, report.to_status, report.location) == (
        "provisioned", "in_use", "Rack 3")
    assert controls.media_reports_complete() == []


@pytest.mark.parametrize(("path", "refused_to"), [
    ([], "reused"),
    (["in_use"], "reused"),
    (["in_use"], "in_use"),
    (["stored"], "in_use"),
    (["stored"], "stored"),
    (["retired"], "stored"),
    (["retired"], "retired"),
])
def test_media_follow_their_lifecycle(org, rack, path, refused_to):
    media = provision(org)
    moves = {"in_use": {"computer": rack}, "stored": {"erased": True},
             "reused": {"computer": rack},
             "retired": {"method": "destroyed"}}
    for status in path:
        step(org, media, status, **moves[status])
    with no_change(RuleViolation, "cannot become", section="SP 2.2.3"):
        step(org, media, refused_to, **moves[refused_to])


def test_media_are_used_and_reused_only_in_critical_systems(org, rack):
    media = provision(org)
    with no_change(RuleViolation, "reuse only within critical systems",
                   section="SP 2.2.3.2") as info:
        step(org, media, "in_use")
    assert info.value.field == "computer"
    new = acquired(org, "CA-NEW")
    with no_change(RuleViolation, "an inventoried computer that is not retired"):
        step(org, media, "in_use", computer=new)
    old = inventoried(org, "CA-OLD")
    services.retire_computer(actor=org.axel, computer=old, reason="end of life")
    with no_change(RuleViolation, "not retired"):
        step(org, media, "in_use", computer=old)
    step(org, media, "stored", erased=True)
    with no_change(RuleViolation, "reuse only within critical systems"):
        step(org, media, "reused")
    mark = last_seq()
    step(org, media, "reused", computer=rack)
    [entry] = entries_since(mark)
    assert entry.details["to"] == "reused" and entry.details["computer"] == str(rack)
    assert reload(media).computer == rack


def test_media_are_erased_before_storage(org, rack):
    media = provision(org)
    step(org, media, "in_use", computer=rack)
    with no_change(RuleViolation, "erased securely before storage",
                   section="SP 2.2.3.2") as info:
        step(org, media, "stored")
    assert info.value.field == "erased"
    before = reload(media).last_erased_at
    step(org, media, "stored", erased=True)
    media = reload(media)
    assert media.status == "stored" and media.computer is None
    assert media.last_erased_at > before


@pytest.mark.parametrize(("extra", "message", "section"), [
    ({}, "choose how it is retired", "SP 2.2.3.3"),
    ({"method": "burnt"}, "choose how it is retired", "SP 2.2.3.3"),
    ({"method": "licensed_disposal", "certificate": "  "}, "certificate reference",
     "SP 2.2.3.3"),
    ({"method": "licensed_disposal", "certificate": "C" * 201}, "longer than 200",
     "SP 2.2.3.3"),
    ({"method": "sealed", "erased": True}, "year the data expires", "SM 2.2.3"),
    ({"method": "sealed", "erased": True, "expiry_year": THIS_YEAR - 1},
     "year the data expires", "SM 2.2.3"),
    ({"method": "sealed", "erased": True, "expiry_year": str(THIS_YEAR)},
     "year the data expires", "SM 2.2.3"),
    ({"method": "sealed", "erased": True, "expiry_year": 10_000}, "year the data expires",
     "SM 2.2.3"),
    ({"method": "sealed", "expiry_year": THIS_YEAR}, "securely erased first", "SP 2.2.3.3"),
])
def test_retirement_methods_each_need_their_record(org, extra, message, section):
    media = provision(org)
    with no_change(RuleViolation, message, section=section):
        step(org, media, "retired", **extra)
    critical = provision(org, "D-C", critical=True)
    with no_change(RuleViolation, message, section=section):  # refused before any sign-off
        step(org, critical, "retired", **extra)


@pytest.mark.parametrize(("extra", "kept"), [
    ({"method": "destroyed"}, {"retirement_method": "destroyed"}),
    ({"method": "licensed_disposal", "certificate": "WEEE-2026-118"},
     {"retirement_method": "licensed_disposal", "disposal_certificate": "WEEE-2026-118"}),
    ({"method": "sealed", "erased": True, "expiry_year": THIS_YEAR + 5},
     {"retirement_method": "sealed", "seal_expiry_year": THIS_YEAR + 5}),
])
def test_retirement_in_each_method_is_recorded(org, extra, kept):
    media = provision(org)
    mark = last_seq()
    step(org, media, "retired", **extra)
    [entry] = entries_since(mark)
    assert entry.action == "physical.media.step" and entry.details["to"] == "retired"
    assert entry.details["method"] == extra["method"]
    media = reload(media)
    assert media.status == "retired"
    assert {k: getattr(media, k) for k in kept} == kept
    assert (media.destroyed_at is not None) == (extra["method"] == "destroyed")


def test_critical_media_need_two_systems_administrators(org):
    media = provision(org, critical=True)
    mark = last_seq()
    request = services.change_media_status(
        actor=org.axel, media=media, to_status="retired", present=[org.axel],
        steps_taken="shredded", location="shredder", method="destroyed")
    assert isinstance(request, SignOffRequest)
    assert actions_since(mark) == ["signoff.request"]
    assert reload(media).status == "provisioned" and media.reports.count() == 1
    with no_change(NotAllowed, "hold none of the roles", section="SP 1.2"):
        authority_services.sign(actor=org.axel, request=request)  # an Access Engineer
    authority_services.sign(actor=org.sam, request=request)
    assert reload(media).status == "provisioned"  # one Systems Administrator is not enough
    with no_change(RuleViolation, "signed this request already"):
        authority_services.sign(actor=org.sam, request=request)
    mark = last_seq()
    authority_services.sign(actor=org.sue, request=request)
    assert actions_since(mark) == ["signoff.sign", "physical.media.step", "signoff.complete"]
    entry = Event.objects.get(action="physical.media.step")
    assert entry.authority == "SP 2.2.3" and entry.actor is None
    assert [(s["person"], s["role"]) for s in entry.signoffs] == [
        ("Sam", "systems_administrator"), ("Sue", "systems_administrator")]
    assert entry.details["present"] == ["Axel", "Sam", "Sue"]
    media = reload(media)
    assert media.status == "retired" and media.retirement_method == "destroyed"
    report = media.reports.first()
    assert report.signoff == request and report.to_status == "retired"


def test_a_waiting_critical_step_is_checked_again_at_the_last_signature(org, rack):
    media = provision(org, critical=True)
    store = step(org, media, "stored", erased=True)
    retire = step(org, media, "retired", method="destroyed")
    for request in (retire, store):
        authority_services.sign(actor=org.sam, request=request)
    authority_services.sign(actor=org.sue, request=retire)
    with no_change(RuleViolation, "it does not change any more", section="SP 2.2.3"):
        authority_services.sign(actor=org.sue, request=store)
    assert reload(media).status == "retired"


def test_only_sealed_media_are_destroyed_later_and_only_once(org):
    destroyed = provision(org, "D-X")
    step(org, destroyed, "retired", method="destroyed")
    with no_change(RuleViolation, "retired already and not sealed"):
        step(org, destroyed, "destroyed")
    fresh = provision(org, "D-Y")
    with no_change(RuleViolation, "only a sealed, retired medium is destroyed later",
                   section="SP 2.2.3.3"):
        step(org, fresh, "destroyed")
    sealed = provision(org, "D-S")
    step(org, sealed, "retired", method="sealed", erased=True, expiry_year=THIS_YEAR)
    assert controls.sealed_media_past_expiry() == []
    Media.objects.filter(pk=sealed.pk).update(seal_expiry_year=THIS_YEAR - 1)  # time passes
    assert [f.section for f in controls.sealed_media_past_expiry()] == ["SM 2.2.3"]
    mark = last_seq()
    step(org, sealed, "destroyed", steps_taken="shredded", location="shredder")
    [entry] = entries_since(mark)
    assert (entry.details["from"], entry.details["to"]) == ("retired", "destroyed")
    sealed = reload(sealed)
    assert sealed.retirement_method == "destroyed" and sealed.destroyed_at is not None
    assert controls.sealed_media_past_expiry() == []
    with no_change(RuleViolation, "retired already and not sealed"):
        step(org, sealed, "destroyed")


@pytest.mark.parametrize("authority", ["because Sam said so", "SP", "m20261340.1",
                                       "a20260101.99"])
def test_free_text_is_no_authority(org, rack, authority):
    with no_change(RuleViolation, "authority|not recorded|real date|not an"):
        services.create_computer(actor=org.axel, authority=authority, asset_tag="CA-0009")
    with no_change(RuleViolation, "authority|not recorded|real date|not an"):
        services.record_service_risk(actor=org.axel, computer=rack, reason="r",
                                     authority=authority)
    media = provision(org, critical=True)
    with no_change(RuleViolation, "authority|not recorded|real date|not an"):
        step(org, media, "stored", erased=True, authority=authority)


# --- CSV import (all or nothing, dry run) ----------------------------------------------------

MEDIA_HEADER = ",".join(csvio.IMPORT_MEDIA)
COMPUTER_HEADER = ",".join(csvio.IMPORT_COMPUTER)


def media_rows(*lines: str) -> bytes:
    return ("\n".join([MEDIA_HEADER, *lines]) + "\n").encode()


def test_csv_import_is_all_or_nothing(org):
    provision(org, "M-OLD")
    before = snapshot(*TABLES)
    report = csvio.import_media(media_rows("M-1,hdd,100,,safe,yes", "M-OLD,ssd,10,,safe,no",
                                           "M-3,tape,2000,,vault,no"),
                                actor=org.sam, present=[org.sam])
    assert report.errors == ["line 3: serial number M-OLD is already in the inventory "
                             "(SP 2.2.3.1)"]
    assert report.created == 0 and snapshot(*TABLES) == before
    report = csvio.import_media(media_rows("M-1,hdd,100,,safe,yes"), actor=org.pia,
                                present=[org.sam])
    assert report.errors and "Access Engineers and Systems Administrators" in report.errors[0]
    assert snapshot(*TABLES) == before
    mark = last_seq()
    report = csvio.import_media(media_rows("M-1,hdd,100,,safe,yes", "M-2,usb,32,,safe,no"),
                                actor=org.sam, present=[org.sam, org.sue])
    assert report.ok and report.created == 2
    assert actions_since(mark) == ["physical.media.provision"] * 2 + ["physical.media.import"]
    assert Media.objects.get(serial_number="M-1").critical_data is True
    assert {p.name for p in Media.objects.get(serial_number="M-2").reports.get()
            .present.all()} == {"Sam", "Sue"}


def test_csv_dry_run_writes_nothing(org):
    before = snapshot(*TABLES)
    report = csvio.import_media(media_rows("M-1,hdd,100,,safe,yes"), actor=org.sam,
                                present=[org.sam], dry_run=True)
    assert report.ok and report.created == 1 and report.dry_run
    report = csvio.import_computers(
        (COMPUTER_HEADER + "\nCA-1,a,Acme,R1,S1,c,r,u,,\n").encode(), actor=org.axel,
        authority="SP 2.2.1", dry_run=True)
    assert report.ok and report.created == 1
    assert snapshot(*TABLES) == before


@pytest.mark.parametrize("capacity", ["²", "\uff11\uff12", "2147483648", "-1", "1.5", " "])
def test_csv_media_import_refuses_capacities_it_cannot_store(org, capacity):
    before = snapshot(*TABLES)
    report = csvio.import_media(media_rows(f"M-1,hdd,{capacity},,safe,yes"), actor=org.sam,
                                present=[org.sam])
    assert report.errors == [f"line 2: capacity_gb {capacity!r} is not a whole number "
                             "above 0"]
    assert snapshot(*TABLES) == before


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL, CELL), min_size=1, max_size=4),
       raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_csv_media_import_never_crashes_on_hostile_input(cells, raw):
    import csv
    import io

    if raw is not None:
        data = raw
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(csvio.IMPORT_MEDIA)
        writer.writerows(cells)
        data = out.getvalue().encode()
    events = Event.objects.count()
    report = csvio.import_media(data, actor=None, present=[], dry_run=True)
    assert isinstance(report.errors, list)
    assert not Media.objects.exists() and Event.objects.count() == events


@pytest.mark.django_db
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(*[st.text(st.characters(blacklist_categories=("Cs",)),
                                          max_size=320)] * len(csvio.IMPORT_COMPUTER)),
                      min_size=1, max_size=3))
def test_csv_computer_import_never_crashes_on_hostile_cells(cells):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csvio.IMPORT_COMPUTER)
    writer.writerows(cells)
    before = Computer.objects.count()
    report = csvio.import_computers(out.getvalue().encode(), actor=None,
                                    authority="SP 2.2.1")
    if report.ok:
        assert Computer.objects.count() == before + len(cells)
        Computer.objects.all().delete()  # the next example starts empty
    else:
        assert Computer.objects.count() == before


# --- through the API and the command line ----------------------------------------------------


@pytest.fixture
def api():
    def signed_in(person):
        client = APIClient()
        client.force_login(person.user)
        return client

    return signed_in


def test_api_lets_the_board_read_but_not_write(org, rack, api):
    assert api(org.bea).get("/api/computers/").status_code == 200
    before = snapshot(*TABLES)
    answer = api(org.bea).post("/api/computers/", {"asset_tag": "CA-9",
                                                   "authority": "SP 2.2.1"}, format="json")
    assert answer.status_code == 403 and answer.json()["section"] == "SP 2.2.1"
    answer = api(org.bea).post(f"/api/computers/{rack.pk}/step/", {
        "step": "retire", "note": "old", "authority": "SP 2.2.2"}, format="json")
    assert answer.status_code == 403
    answer = api(org.pia).get("/api/media/")
    assert answer.status_code == 403 and answer.json()["section"] == "SP 2.2.1"
    assert snapshot(*TABLES) == before


def test_api_refuses_what_the_services_refuse(org, rack, api):
    computer = acquired(org, **INVENTORY)
    before = snapshot(*TABLES)
    answer = api(org.axel).post(f"/api/computers/{computer.pk}/step/", {
        "step": "in_service", "note": "Foundation", "authority": "SP 2.2.1"}, format="json")
    assert answer.status_code == 400 and answer.json()["section"] == "SP 2.2.1"
    assert "inventoried before being put into service" in answer.json()["detail"]
    answer = api(org.axel).post(f"/api/computers/{computer.pk}/step/", {
        "step": "inventory", "authority": "because"}, format="json")
    assert answer.status_code == 400 and answer.json()["section"] == "SP 1.2"
    answer = api(org.sam).post("/api/media/", {
        "serial_number": "API-1", "media_type": "usb", "capacity_gb": 32, "location": "safe",
        "erased_and_reformatted": False, "steps_taken": "x", "present": [org.sam.pk]},
        format="json")
    assert answer.status_code == 400 and answer.json()["section"] == "SP 2.2.3.1"
    answer = api(org.sam).post("/api/media/", {
        "serial_number": "API-1", "media_type": "usb", "capacity_gb": 2**40,
        "location": "safe", "erased_and_reformatted": True, "steps_taken": "x",
        "present": [org.sam.pk]}, format="json")
    assert answer.status_code == 400
    assert snapshot(*TABLES) == before
    answer = api(org.axel).post(f"/api/computers/{computer.pk}/step/", {
        "step": "inventory", "authority": "SM 2.2.1"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "inventoried"
    assert Event.objects.filter(action="physical.computer.inventory", actor=org.axel,
                                subject_id=str(computer.pk)).count() == 1


def test_api_opens_sign_offs_for_maintenance_and_critical_media(org, rack, api):
    answer = api(org.axel).post(f"/api/computers/{rack.pk}/step/", {
        "step": "maintenance", "note": "fan", "authority": "SP 4.1"}, format="json")
    assert answer.status_code == 202
    assert SignOffRequest.objects.get(pk=answer.json()["signoff_request"]).action == (
        services.MAINTENANCE)
    media = provision(org, critical=True)
    before = snapshot(Media, MediaReport)
    answer = api(org.sam).post(f"/api/media/{media.pk}/step/", {
        "to_status": "retired", "present": [org.sam.pk], "steps_taken": "shred",
        "location": "shredder", "method": "destroyed"}, format="json")
    assert answer.status_code == 202
    assert snapshot(Media, MediaReport)["physical.Media"] == before["physical.Media"]
    assert reload(media).reports.count() == 1


def cli(*args):
    return CliRunner().invoke(main, ["physical", *args])


def test_cli_refuses_what_the_services_refuse(org, rack):
    acquired(org, **INVENTORY)
    before = snapshot(*TABLES)
    result = cli("computer-step", "CA-0002", "in_service", "--as", "axel", "--note", "F")
    assert result.exit_code == 1 and "(SP 2.2.1)" in result.output
    result = cli("computer-step", "CA-0001", "retire", "--as", "pia", "--note", "old")
    assert result.exit_code == 1 and "Access Engineers and Systems Administrators" in (
        result.output)
    result = cli("computer-step", "CA-0001", "service_risk", "--as", "axel")
    assert result.exit_code == 1 and "describe the service" in result.output
    result = cli("computer-step", "CA-0001", "retire", "--as", "nosuchlogin", "--note", "x")
    assert result.exit_code == 1 and "no person has the login" in result.output
    media = provision(org)
    before = snapshot(*TABLES)
    result = cli("media-step", media.serial_number, "retired", "--as", "sam", "--present",
                 "sam", "--steps", "bagged", "--location", "vault", "--method", "sealed",
                 "--expiry-year", str(THIS_YEAR + 3))
    assert result.exit_code == 1 and "securely erased first (SP 2.2.3.3)" in result.output
    result = cli("media-step", media.serial_number, "in_use", "--as", "sam", "--present",
                 "sam", "--steps", "in", "--location", "rack", "--computer", "CA-0002")
    assert result.exit_code == 1 and "(SP 2.2.3.2)" in result.output
    assert snapshot(*TABLES) == before
    mark = last_seq()
    result = cli("media-step", media.serial_number, "retired", "--as", "sam", "--present",
                 "sam", "--present", "sue", "--steps", "wiped, bagged", "--location",
                 "vault", "--method", "sealed", "--expiry-year", str(THIS_YEAR + 3),
                 "--erased", "--authority", "SM 2.2.3")
    assert result.exit_code == 0, result.output
    [entry] = entries_since(mark)
    assert (entry.action, entry.authority, entry.actor) == (
        "physical.media.step", "SM 2.2.3", org.sam)
    assert entry.details["expiry_year"] == THIS_YEAR + 3


def test_cli_media_import_names_only_recorded_people(org, tmp_path):
    path = tmp_path / "media.csv"
    path.write_bytes(media_rows("M-1,hdd,100,,safe,yes"))
    before = snapshot(*TABLES)
    result = cli("import-media", str(path), "--present", "sam", "--present", "ghost")
    assert result.exit_code == 1 and "no person has the login or email 'ghost'" in result.output
    result = cli("import-media", str(path), "--present", "sam", "--authority", "whim")
    assert result.exit_code == 1 and "Nothing was written" in result.output
    assert snapshot(*TABLES) == before
    mark = last_seq()
    result = cli("import-media", str(path), "--present", "sam")
    assert result.exit_code == 0, result.output
    entry, summary = entries_since(mark)
    assert (entry.action, entry.actor, entry.actor_label) == (
        "physical.media.provision", None, "secman command line")
    assert (summary.action, summary.actor, summary.actor_label) == (
        "physical.media.import", None, "secman command line")


def test_a_holder_who_leaves_the_team_may_no_longer_change_the_inventory(org, rack):
    membership = org.abby.memberships.get()
    people_services.end_membership(actor=org.axel, membership=membership,
                                   authority="SP 9.1.7", reason="resignation",
                                   end=timezone.localdate())
    with no_change(NotAllowed, "Access Engineers and Systems Administrators"):
        services.record_service_risk(actor=org.abby, computer=rack, reason="r")
