"""Computers: inventory before service, four-eyes maintenance, service risk, retirement."""

from __future__ import annotations

import pytest

from secman.authority import services as authority_services
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.physical import services
from secman.physical.models import Computer


def test_it_refuses_service_before_inventory_and_writes_nothing(org):
    computer = services.create_computer(actor=org.sam, authority="SP 2.2.1.1",
                                        asset_tag="CA-0002", vendor="Acme")
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="inventoried before being put into service") as exc:
        services.put_in_service(actor=org.axel, computer=computer, legal_owner="Foundation")
    assert exc.value.section == "SP 2.2.1"
    computer.refresh_from_db()
    assert computer.status == "acquired"
    assert Event.objects.count() == before


def test_it_names_the_missing_inventory_fields(org):
    computer = services.create_computer(actor=org.sam, authority="SP 2.2.1.1",
                                        asset_tag="CA-0003", vendor="Acme", model="R1")
    with pytest.raises(RuleViolation, match="serial_number, maintenance_contact"):
        services.inventory_computer(actor=org.axel, computer=computer)


def test_it_refuses_a_duplicate_asset_tag_or_serial(org, rack):
    with pytest.raises(RuleViolation, match="asset tag CA-0001 is already used"):
        services.create_computer(actor=org.axel, authority="SP 2.2.1", asset_tag="CA-0001")
    with pytest.raises(RuleViolation, match="serial number SN-1"):
        services.create_computer(actor=org.axel, authority="SP 2.2.1", asset_tag="CA-0009",
                                 vendor="Acme", serial_number="SN-1")
    assert Computer.objects.count() == 1


def test_it_keeps_the_inventory_from_other_roles(org):
    with pytest.raises(NotAllowed, match="Access Engineers and Systems Administrators"):
        services.create_computer(actor=org.ola, authority="SP 2.2.1", asset_tag="CA-0004")
    assert not services.may_see_inventory(org.pia)
    assert services.may_see_inventory(org.aud)


def test_it_puts_a_computer_under_maintenance_only_with_four_eyes(org, rack):
    request = services.request_maintenance(actor=org.axel, computer=rack,
                                           work="replace fan")
    rack.refresh_from_db()
    assert rack.status == "in_service"  # nothing happens on one signature
    authority_services.sign(actor=org.axel, request=request, slot="executor")
    with pytest.raises(RuleViolation, match="signed this request already"):
        authority_services.sign(actor=org.axel, request=request)
    authority_services.sign(actor=org.sue, request=request)
    rack.refresh_from_db()
    assert rack.status == "maintenance"
    event = Event.objects.filter(action="physical.computer.maintenance").get()
    assert {s["person"] for s in event.signoffs} == {"Axel", "Sue"}


def test_it_moves_a_computer_with_a_risky_service_to_must_retire(org, rack):
    from secman.physical import controls

    services.record_service_risk(actor=org.axel, computer=rack,
                                 reason="vendor wants the disks for repair")
    assert [f.section for f in controls.computers_to_retire()] == ["SP 2.2.2"]
    services.retire_computer(actor=org.axel, computer=rack, reason="service risk")
    rack.refresh_from_db()
    assert rack.status == "retired"
    assert controls.computers_to_retire() == []


def test_it_serves_the_label_sheet_with_a_qr_code_on_every_side(client, org, rack):
    client.force_login(org.axel.user)
    html = client.get(f"/physical/computers/{rack.pk}/label/").content.decode()
    assert html.count('src="data:image/svg+xml') == 5
    assert "CA-0001" in html and "signer" in html
