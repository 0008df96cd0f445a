"""Chapter 2 checks for the compliance dashboard: plain functions returning findings,
each naming its section, until the compliance app collects them."""

from __future__ import annotations

from secman.people.controls import Finding
from secman.physical.choices import ComputerStatus, MediaStatus
from secman.physical.models import Computer, Media, MediaReport
from secman.physical.services import sealed_past_expiry


def inventory_before_service() -> list[Finding]:
    findings = []
    for computer in Computer.objects.filter(status__in=[ComputerStatus.IN_SERVICE,
                                                        ComputerStatus.MAINTENANCE]):
        if missing := computer.missing_inventory():
            findings.append(Finding("SP 2.2.1", f"{computer} is in service but its inventory "
                                    f"lacks {', '.join(missing)}", computer.get_absolute_url()))
    return findings


def computers_to_retire() -> list[Finding]:
    return [Finding("SP 2.2.2", f"{c} must be retired: {c.retire_reason}", c.get_absolute_url())
            for c in Computer.objects.filter(status=ComputerStatus.MUST_RETIRE)]


def media_reports_complete() -> list[Finding]:
    findings = []
    for media in Media.objects.all():
        reports = list(media.reports.order_by("reported_at", "id"))
        if not reports or reports[-1].to_status != media.status:
            findings.append(Finding("SM 2.2.3", f"{media} is {media.get_status_display()} "
                                    "without a report of that change", media.get_absolute_url()))
    for report in MediaReport.objects.filter(present__isnull=True).select_related("media"):
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


CONTROLS = [inventory_before_service, computers_to_retire, media_reports_complete,
            media_in_retired_computers, sealed_media_past_expiry]


def findings() -> list[Finding]:
    return [finding for control in CONTROLS for finding in control()]
