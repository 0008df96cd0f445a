"""Chapter 2 controls: plain functions returning findings, each naming its section,
declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from secman.core.controls import Control, Finding
from secman.core.roles import TeamKind
from secman.physical.choices import ComputerStatus, MediaStatus
from secman.physical.models import Computer, Media, MediaReport
from secman.physical.services import sealed_past_expiry


def inventory_before_service() -> list[Finding]:
    findings = []
    # Only the computers with an empty inventory field are read (thousands are in service).
    incomplete = Q()
    for name in Computer.INVENTORY_FIELDS:
        incomplete |= Q(**{name: ""})
    for computer in Computer.objects.filter(incomplete, status__in=[
            ComputerStatus.IN_SERVICE, ComputerStatus.MAINTENANCE]):
        if missing := computer.missing_inventory():
            findings.append(Finding("SP 2.2.1", f"{computer} is in service but its inventory "
                                    f"lacks {', '.join(missing)}", computer.get_absolute_url()))
    return findings


def computers_to_retire() -> list[Finding]:
    return [Finding("SP 2.2.2", f"{c} must be retired: {c.retire_reason}", c.get_absolute_url())
            for c in Computer.objects.filter(status=ComputerStatus.MUST_RETIRE)]


def media_reports_complete() -> list[Finding]:
    findings = []
    # The register holds tens of thousands of media, nearly all in order: the database
    # finds the few whose latest report (by time, then id) does not name their status,
    # and only those are read.
    later = MediaReport.objects.filter(media=OuterRef("media")).filter(
        Q(reported_at__gt=OuterRef("reported_at"))
        | Q(reported_at=OuterRef("reported_at"), id__gt=OuterRef("id")))
    current = MediaReport.objects.filter(media=OuterRef("pk"), to_status=OuterRef("status"),
                                         ).filter(~Exists(later))
    for media in Media.objects.filter(~Exists(current)):
        findings.append(Finding("SM 2.2.3", f"{media} is {media.get_status_display()} "
                                "without a report of that change", media.get_absolute_url(),
                                subject=f"media:{media.pk}"))
    present = MediaReport.present.through.objects.filter(mediareport=OuterRef("pk"))
    for report in MediaReport.objects.filter(~Exists(present)).select_related("media"):
        findings.append(Finding("SM 2.2.3", f"a report on {report.media} names nobody present",
                                report.media.get_absolute_url()))
    return findings


def media_in_retired_computers() -> list[Finding]:
    return [Finding("SP 2.2.3.3", f"{m} is still in retired computer {m.computer}",
                    m.get_absolute_url())
            for m in Media.objects.filter(computer__status=ComputerStatus.RETIRED)
            .exclude(status=MediaStatus.RETIRED).select_related("computer")]


def sealed_media_past_expiry() -> list[Finding]:
    return [Finding("SM 2.2.3", f"{m} was sealed until {m.seal_expiry_year}: due for "
                    "destruction", m.get_absolute_url()) for m in sealed_past_expiry()]


CONTROLS = [
    Control("physical.inventory", ("SP 2.2.1",),
            "Every computer in service has a complete inventory entry.",
            TeamKind.ACCESS, check=inventory_before_service),
    Control("physical.retirement", ("SP 2.2.2",),
            "Equipment that needs a service posing a security risk is retired.",
            TeamKind.ACCESS, check=computers_to_retire),
    Control("physical.media_reports", ("SM 2.2.3",),
            "Every change of a storage medium's status has a report naming who was present.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=media_reports_complete),
    Control("physical.media_retired_computers", ("SP 2.2.3.3",),
            "No storage medium stays in a retired computer.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=media_in_retired_computers),
    Control("physical.sealed_media", ("SM 2.2.3",),
            "Sealed media are destroyed when their seal expires.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=sealed_media_past_expiry),
]
