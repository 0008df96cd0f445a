"""Chapter 3 controls (SP/SM 3.1, 3.2, 4.1.3): plain functions returning findings, each
naming its section, declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

from secman.core.controls import Control

CONTROLS: list[Control] = []


# --- OS lifecycle, patches and changes (SM 3.2, SP 3.2.3, 3.2.3.1, SM 4.1.3) -------------
# Appended by the patches work; the imports sit here so the register's part above stays
# as it was.

import datetime as dt  # noqa: E402

from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from secman.core.controls import Finding, Kind, Status  # noqa: E402
from secman.core.roles import TeamKind  # noqa: E402
from secman.systems import oslifecycle  # noqa: E402
from secman.systems.choices import PatchStatus, SystemStatus  # noqa: E402
from secman.systems.models import Patch, System  # noqa: E402

# After this long an applied patch without its backup is overdue, not merely due.
BACKUP_AFTER_PATCH = dt.timedelta(days=3)


def system_subject(system: System) -> str:
    """The subject an accepted exception names for one system ("system:signer")."""
    return f"system:{system.name}"


def os_lifecycle_findings(day: dt.date | None = None) -> list[Finding]:
    """SM 3.2: each system in service runs a Debian release with security support; one on
    oldstable shows the date its support ends, and is upgraded before it."""
    day = day or timezone.localdate()
    try:
        releases = oslifecycle.read_releases()
    except oslifecycle.DistroInfoError as exc:
        return [Finding("SM 3.2", str(exc), status=Status.WARNING, subject="distro-info")]
    lead = settings.SECMAN_OS_UPGRADE_LEAD_DAYS
    findings = []
    for system in System.objects.filter(status__in=[SystemStatus.INSTALLED,
                                                     SystemStatus.IN_SERVICE]):
        finding = _lifecycle_finding(system, day, releases, lead)
        if finding is not None:
            findings.append(finding)
    return findings


def _lifecycle_finding(system: System, day: dt.date, releases: list, lead: int
                       ) -> Finding | None:
    # The OS lifecycle page's row for the system (the register's own page may not say
    # when its release's support ends).
    url, subject = f"{reverse('systems:os')}#system-{system.name}", system_subject(system)
    if not oslifecycle.is_debian(system.os_name):
        return Finding("SM 3.2", f"{system} runs {system.os_name}: no release calendar "
                       "says when its support ends", url, Status.WARNING, subject)
    state = oslifecycle.lifecycle(system.os_release, day, releases)
    release = state.release
    if state.support == oslifecycle.Support.UNKNOWN:
        said = f"release {system.os_release!r}" if system.os_release else "no release"
        return Finding("SM 3.2", f"{system} records {said}: not a Debian release secman "
                       "knows, so nobody can tell when its support ends", url,
                       Status.WARNING, subject)
    if state.support == oslifecycle.Support.UNRELEASED:
        return Finding("SM 3.2", f"{system} runs {release}, not yet released: the SM "
                       "prefers the Stable release", url, Status.WARNING, subject)
    days = state.days_left
    if state.support == oslifecycle.Support.UNSUPPORTED or not state.supported:
        kind = "oldstable, and its" if state.support == oslifecycle.Support.OLDSTABLE else (
            "whose")
        return Finding("SM 3.2", f"{system} runs {release}, {kind} security support ended on "
                       f"{state.support_ends}: upgrade it", url, Status.VIOLATED, subject)
    if state.support == oslifecycle.Support.OLDSTABLE:
        status = Status.DUE_SOON if days is not None and days <= lead else Status.OK
        return Finding("SM 3.2", f"{system} runs {release}, oldstable: security support ends "
                       f"on {state.support_ends} ({days} days): upgrade it before then", url,
                       status, subject)
    return None


def patches_reported() -> list[Finding]:
    """SP 3.2.3: an applied patch is reported by email to the Systems Administration
    list on completion."""
    return [Finding("SP 3.2.3", f"patch {p.advisory} was applied on "
                    f"{p.applied_at:%Y-%m-%d %H:%M} UTC and is not reported to the Systems "
                    "Administration list", p.get_absolute_url(), Status.VIOLATED,
                    f"patch:{p.pk}")
            for p in Patch.objects.filter(status=PatchStatus.APPLIED, reported_at__isnull=True)]


def backups_after_patches(now: dt.datetime | None = None) -> list[Finding]:
    """SM 3.2.3: following any substantive patch, a full encrypted backup of the patched
    machine; a finding until the backup is recorded."""
    now = now or timezone.now()
    findings = []
    for patch in (Patch.objects.filter(applied_at__isnull=False,
                                       backup_recorded_at__isnull=True)
                  .prefetch_related("systems")):
        names = ", ".join(s.name for s in patch.systems.all())
        overdue = patch.applied_at is not None and now - patch.applied_at > BACKUP_AFTER_PATCH
        findings.append(Finding(
            "SM 3.2.3", f"a full encrypted backup of each patched system is due after "
            f"{patch.advisory} ({names})", patch.get_absolute_url(),
            Status.OVERDUE if overdue else Status.DUE_SOON, f"patch:{patch.pk}"))
    return findings


def emergency_patches_decided() -> list[Finding]:
    """SP 3.2.3.1: after an emergency patch, the team leader approves it or instructs
    remedial action, and refers the case to dispute resolution."""
    findings = []
    for patch in Patch.objects.filter(emergency=True, applied_at__isnull=False):
        url, subject = patch.get_absolute_url(), f"patch:{patch.pk}"
        if patch.approved_at is None and patch.remedial_at is None:
            findings.append(Finding("SP 3.2.3.1", f"emergency patch {patch.advisory} was "
                                    "applied and the team leader has neither approved it nor "
                                    "instructed remedial action", url, Status.VIOLATED,
                                    subject))
        elif patch.case_id is None:
            findings.append(Finding("SP 3.2.3.1", f"emergency patch {patch.advisory} is not "
                                    "referred to dispute resolution", url, Status.VIOLATED,
                                    subject))
    return findings


BOARD_SUMMARY = "systems.board_summary"

CONTROLS += [
    Control("systems.os_lifecycle", ("SM 3.2",),
            "Every system runs a Debian release with security support; one on oldstable is "
            "upgraded before its support ends (the signing server's exception is accepted "
            "by the Board).",
            TeamKind.SYSTEMS_ADMINISTRATION, check=os_lifecycle_findings),
    Control("systems.patch_reported", ("SP 3.2.3",),
            "Every applied patch is reported by email to the Systems Administration list.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=patches_reported),
    Control("systems.backup_after_patch", ("SM 3.2.3",),
            "A full encrypted backup of each patched system follows every patch.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=backups_after_patches),
    Control("systems.emergency_patch", ("SP 3.2.3.1",),
            "Every emergency patch is approved by the team leader (or remedial action "
            "instructed) and referred to dispute resolution.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=emergency_patches_decided),
    Control(BOARD_SUMMARY, ("SP 3.2.3.1",),
            "The Systems Administration team leader's regular summary to the Board lists "
            "the period's patches, emergency patches with their cases, and configuration "
            "changes.",
            TeamKind.SYSTEMS_ADMINISTRATION, Kind.DUTY, schedule="quarterly",
            evidence="The summary of the quarter (/systems/summary/ or `secman systems "
                     "summary --json`) as sent to the Board, and the Board's minute."),
]
