"""Computers and storage media move only along their lifecycle tables: a move the table
does not have is refused with the states named, and nothing (row or entry) is written."""

from __future__ import annotations

import re

import pytest

from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.physical import services
from secman.physical.lifecycles import COMPUTER, MEDIA
from secman.physical.models import Computer, Media, MediaReport

STEPS = {
    "maintenance": lambda org, c: services.request_maintenance(actor=org.axel, computer=c,
                                                               work="new fan"),
    "service_risk": lambda org, c: services.record_service_risk(actor=org.axel, computer=c,
                                                                reason="vendor repair"),
    "retire": lambda org, c: services.retire_computer(actor=org.axel, computer=c,
                                                      reason="old"),
    "inventory": lambda org, c: services.inventory_computer(actor=org.axel, computer=c),
}


def computer_in(org, status: str) -> Computer:
    computer = services.create_computer(
        actor=org.axel, authority="SP 2.2.1.1", asset_tag="CA-0100", nickname="spare",
        vendor="Acme",
        model="R1", serial_number="SN-100", maintenance_contact="Acme",
        rack_location="Rack 1", intended_use="signing")
    Computer.objects.filter(pk=computer.pk).update(status=status)
    return Computer.objects.get(pk=computer.pk)


@pytest.mark.parametrize(("status", "step"), [
    ("inventoried", "maintenance"),   # maintenance is for a computer in service
    ("acquired", "service_risk"),     # not inventoried: nothing to serve yet
    ("retired", "retire"),            # a retired computer does not change any more
    ("in_service", "inventory"),      # inventoried once, on acquisition
])
def test_a_computer_refuses_a_move_its_table_lacks_and_writes_nothing(org, status, step):
    computer = computer_in(org, status)
    assert not any(t.name == step for t in COMPUTER.moves_from(status))
    before = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        STEPS[step](org, computer)
    assert refused.value.message.startswith(f"this computer is {COMPUTER.label(status)}; "
                                            "it cannot become")
    assert refused.value.section
    assert Computer.objects.get(pk=computer.pk).status == status
    assert Event.objects.count() == before


def medium_in(org, status: str) -> Media:
    media = services.register_media(
        actor=org.sam, serial_number="D-100", media_type="ssd", capacity_gb=512,
        location="safe A", present=[org.sam], steps_taken="secure erase",
        erased_and_reformatted=True, critical_data=False)
    Media.objects.filter(pk=media.pk).update(status=status)
    return Media.objects.get(pk=media.pk)


@pytest.mark.parametrize(("status", "to"), [
    ("stored", "in_use"),        # a stored drive is reused, not put into use afresh
    ("in_use", "reused"),        # stored (and erased) first
    ("retired", "stored"),       # a retired medium does not come back
    ("in_use", "provisioned"),   # provisioning happens once, on acquisition
])
def test_a_medium_refuses_a_move_its_table_lacks_and_writes_nothing(org, rack, status, to):
    media = medium_in(org, status)
    assert not MEDIA.allowed(status, to)
    before, reports = Event.objects.count(), MediaReport.objects.count()
    with pytest.raises(RuleViolation) as refused:
        services.change_media_status(actor=org.sam, media=media, to_status=to,
                                     present=[org.sam], steps_taken="moved",
                                     location="rack", computer=rack, erased=True)
    assert refused.value.message.startswith(f"this medium is {MEDIA.label(status)}; it "
                                            f"cannot become {MEDIA.label(to)}")
    assert Media.objects.get(pk=media.pk).status == status
    assert (Event.objects.count(), MediaReport.objects.count()) == (before, reports)


def offered(client, url: str, field: str) -> set[str]:
    """The values the page's select `field` offers."""
    page = client.get(url).content.decode()
    select = re.search(rf'<select name="{field}".*?</select>', page, re.S)
    return set(re.findall(r'<option value="([^"]*)"', select.group(0))) if select else set()


def test_the_pages_offer_only_the_moves_the_tables_allow(client, org, rack):
    client.force_login(org.axel.user)
    url = rack.get_absolute_url()
    assert offered(client, url, "step") == {"maintenance", "service_risk", "retire"}
    services.record_service_risk(actor=org.axel, computer=rack, reason="vendor repair")
    assert offered(client, url, "step") == {"retire"}
    services.retire_computer(actor=org.axel, computer=rack, reason="service risk")
    assert offered(client, url, "step") == set()
    assert "Next step" not in client.get(url).content.decode()

    media = medium_in(org, "stored")
    url = media.get_absolute_url()
    assert offered(client, url, "to_status") == {"reused", "retired"}
    Media.objects.filter(pk=media.pk).update(status="retired", retirement_method="sealed",
                                             seal_expiry_year=2030)
    assert offered(client, url, "to_status") == {"destroyed"}
    Media.objects.filter(pk=media.pk).update(retirement_method="destroyed")
    assert offered(client, url, "to_status") == set()
