"""Chapter 2 of the demo organisation: a facility, computers and media in every state,
all made through the services (so the Event Log tells how they came to be)."""

from __future__ import annotations

from django.utils import timezone

from secman.authority.models import SignOffRequest
from secman.authority.services import sign
from secman.people.models import Person
from secman.physical import services
from secman.physical.models import Computer, Media


def load(people: dict[str, Person]) -> None:
    ana, jonas = people["ana"], people["jonas"]
    samir, lena, piet = people["samir"], people["lena"], people["piet"]
    services.record_facility(
        actor=ana, name="Example Data Centre", authority="SP 2.1",
        hosting_provider="Example Hosting Foundation",
        contract_references="Memorandum of understanding 2024-03; hosting contract "
        "EH-2024-17 with annex B (access authorisation)",
        location_construction="Purpose-built secured hosting centre, ground level.",
        power="Two grid feeds, UPS and diesel generators.",
        network_connectivity="Two geographically separated fibre connections.",
        catastrophic_event_mitigation="12 m above sea level; gas fire suppression.",
        rating="BORG class 4 (fictional)")

    def computer(tag: str, nickname: str, use: str, serial: str) -> Computer:
        return services.create_computer(
            actor=samir, authority="SP 2.2.1.1", asset_tag=tag, nickname=nickname,
            vendor="Example Systems", model="ES-200", serial_number=serial,
            maintenance_contact="Example Systems support, contract 4411",
            rack_location=f"Cage 2, rack A, U{serial[-2:]}", intended_use=use,
            acquisition_notes="Ordered from stock through two people; sealed boxes "
            "checked on delivery.")

    signer = computer("SEC-0001", "signer", "signing server", "ES-10")
    services.inventory_computer(actor=ana, computer=signer)
    signer = services.put_in_service(actor=ana, computer=signer,
                                     legal_owner="Example Hosting Foundation")
    web = computer("SEC-0002", "webdb", "web and database server", "ES-11")
    services.inventory_computer(actor=jonas, computer=web)
    web = services.put_in_service(actor=jonas, computer=web,
                                  legal_owner="Example Hosting Foundation")
    spare = computer("SEC-0003", "spare", "cold spare", "ES-12")
    services.inventory_computer(actor=ana, computer=spare)
    computer("SEC-0004", "", "replacement signer (just delivered)", "ES-13")
    old = computer("SEC-0005", "oldweb", "former web server", "ES-09")
    services.inventory_computer(actor=ana, computer=old)
    services.put_in_service(actor=ana, computer=old, legal_owner="Example Hosting Foundation")
    services.record_service_risk(actor=ana, computer=old,
                                 reason="the vendor wants the whole unit for a board repair")
    request = services.request_maintenance(actor=jonas, computer=web,
                                           work="replace a failed fan")
    sign(actor=jonas, request=request, slot="executor")

    def medium(serial: str, critical: bool = False) -> Media:
        return services.register_media(
            actor=samir, serial_number=serial, media_type="ssd", capacity_gb=960,
            location="Safe 1, shelf 2", present=[samir, lena],
            steps_taken="ATA secure erase verified, new partition table",
            erased_and_reformatted=True, critical_data=critical)

    medium("SSD-1001")  # provisioned, waiting
    in_use = medium("SSD-1002")
    services.change_media_status(actor=samir, media=in_use, to_status="in_use",
                                 present=[samir, lena], steps_taken="installed in bay 1",
                                 location="Cage 2, rack A", computer=signer)
    stored = medium("SSD-1003")
    services.change_media_status(actor=lena, media=stored, to_status="in_use",
                                 present=[lena], steps_taken="installed in bay 2",
                                 location="Cage 2, rack A", computer=web)
    services.change_media_status(actor=lena, media=stored, to_status="stored",
                                 present=[lena, piet], steps_taken="removed, erased",
                                 location="Safe 1, shelf 3", erased=True)
    reused = medium("SSD-1004")
    services.change_media_status(actor=piet, media=reused, to_status="stored",
                                 present=[piet], steps_taken="erased for storage",
                                 location="Safe 1", erased=True)
    services.change_media_status(actor=piet, media=reused, to_status="reused",
                                 present=[piet, samir], steps_taken="installed as spare",
                                 location="Cage 2, rack A", computer=spare)
    sealed = medium("SSD-0990")
    services.change_media_status(
        actor=samir, media=sealed, to_status="retired", present=[samir, lena],
        steps_taken="erased, sealed in bag 0042", location="Vault, box 7",
        method="sealed", expiry_year=timezone.localdate().year, erased=True)
    destroyed = medium("SSD-0991")
    services.change_media_status(actor=samir, media=destroyed, to_status="retired",
                                 present=[samir, piet], steps_taken="shredded on site",
                                 location="shredder", method="destroyed")
    critical = medium("SSD-2001", critical=True)
    waiting = services.change_media_status(
        actor=samir, media=critical, to_status="in_use", present=[samir],
        steps_taken="install in the signer's mirror", location="Cage 2, rack A",
        computer=signer)
    # Media with critical data move only under two Systems Administrators: a request.
    assert isinstance(waiting, SignOffRequest)
    sign(actor=samir, request=waiting)  # the second Systems Administrator has not yet signed
