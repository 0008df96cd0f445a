"""Storage media: provisioning, reports, two Systems Administrators for critical data,
retirement in the manual's order of preference, sealed media due for destruction."""

from __future__ import annotations

import pytest

from secman.authority import services as authority_services
from secman.authority.models import SignOffRequest
from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.physical import controls, services
from secman.physical.models import Media


def provision(org, serial="D-1", critical=False):
    return services.register_media(
        actor=org.sam, serial_number=serial, media_type="ssd", capacity_gb=512,
        location="safe A", present=[org.sam], steps_taken="ATA secure erase, new GPT",
        erased_and_reformatted=True, critical_data=critical)


def test_it_refuses_media_that_were_not_erased_and_reformatted(org):
    with pytest.raises(RuleViolation, match="securely erased and reformatted") as exc:
        services.register_media(actor=org.sam, serial_number="D-9", media_type="hdd",
                                capacity_gb=1000, location="safe", present=[org.sam],
                                steps_taken="none", erased_and_reformatted=False)
    assert exc.value.section == "SP 2.2.3.1"
    assert not Media.objects.exists()


def test_it_refuses_a_duplicate_serial_number(org):
    provision(org)
    with pytest.raises(RuleViolation, match="already in the inventory"):
        provision(org)


def test_it_reports_every_change_of_status(org, rack):
    media = provision(org)
    services.change_media_status(actor=org.sam, media=media, to_status="in_use",
                                 present=[org.sam], steps_taken="installed in bay 2",
                                 location="rack 3", computer=rack)
    services.change_media_status(actor=org.sam, media=media, to_status="stored",
                                 present=[org.sam, org.sue], steps_taken="removed, wiped",
                                 location="safe B", erased=True)
    media.refresh_from_db()
    assert media.status == "stored" and media.computer is None
    assert [r.to_status for r in media.reports.order_by("reported_at", "id")] == [
        "provisioned", "in_use", "stored"]
    assert controls.media_reports_complete() == []


def test_it_refuses_storage_without_erasure(org):
    media = provision(org)
    with pytest.raises(RuleViolation, match="erased securely before storage"):
        services.change_media_status(actor=org.sam, media=media, to_status="stored",
                                     present=[org.sam], steps_taken="removed",
                                     location="safe")


def test_it_needs_two_systems_administrators_to_destroy_critical_media(org):
    media = provision(org, critical=True)
    before = Event.objects.count()
    request = services.change_media_status(
        actor=org.sam, media=media, to_status="retired", present=[org.sam],
        steps_taken="shredded", location="shredder", method="destroyed")
    assert isinstance(request, SignOffRequest)
    authority_services.sign(actor=org.sam, request=request)
    media.refresh_from_db()
    assert media.status == "provisioned"  # one Systems Administrator is not enough
    with pytest.raises(Exception, match="roles the open slots need"):
        authority_services.sign(actor=org.axel, request=request)  # an Access Engineer
    authority_services.sign(actor=org.sue, request=request)
    media.refresh_from_db()
    assert media.status == "retired" and media.retirement_method == "destroyed"
    report = media.reports.first()
    assert {p.name for p in report.present.all()} == {"Sam", "Sue"}
    assert Event.objects.filter(action="physical.media.step").count() == 1
    assert Event.objects.count() > before


def test_it_shows_sealed_media_past_their_expiry_as_due_for_destruction(org):
    from django.utils import timezone

    media = provision(org)
    year = timezone.localdate().year
    services.change_media_status(actor=org.sam, media=media, to_status="retired",
                                 present=[org.sam], steps_taken="wiped, sealed bag 42",
                                 location="vault", method="sealed", expiry_year=year,
                                 erased=True)
    assert controls.sealed_media_past_expiry() == []
    Media.objects.filter(pk=media.pk).update(seal_expiry_year=year - 1)  # time passes
    assert [f.section for f in controls.sealed_media_past_expiry()] == ["SM 2.2.3"]
    services.change_media_status(actor=org.sam, media=media, to_status="destroyed",
                                 present=[org.sam, org.sue], steps_taken="shredded",
                                 location="shredder")
    assert controls.sealed_media_past_expiry() == []


@pytest.mark.parametrize(("method", "extra", "message"), [
    ("licensed_disposal", {}, "certificate reference"),
    ("sealed", {"erased": True}, "year the data expires"),
    ("", {}, "choose how it is retired"),
])
def test_it_asks_for_what_each_retirement_method_needs(org, method, extra, message):
    media = provision(org)
    with pytest.raises(RuleViolation, match=message):
        services.change_media_status(actor=org.sam, media=media, to_status="retired",
                                     present=[org.sam], steps_taken="x", location="y",
                                     method=method, **extra)
