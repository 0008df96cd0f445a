"""Chapter 3 controls (SP/SM 3.1, 3.2, 4.1.3): plain functions returning findings, each
naming its section, declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding, Kind, Status
from secman.core.roles import TeamKind
from secman.eventlog.models import Event
from secman.systems import diagram, drift, oslifecycle
from secman.systems.choices import (
    Criticality,
    Encryption,
    FlowStatus,
    PatchStatus,
    SystemStatus,
)
from secman.systems.models import Flow, Patch, System
from secman.systems.selectors import REQUEST_WAIT_DAYS

# --- the systems register (SP 1.1, 1.2, 3.2.1, 3.2.2) ---------------------------------------


def two_administrators() -> list[Finding]:
    """SP 1.2 redundancy: a system in service has two distinct administrators."""
    short = System.objects.filter(status=SystemStatus.IN_SERVICE).filter(
        Q(primary_admin__isnull=True) | Q(secondary_admin__isnull=True)
        | Q(primary_admin=F("secondary_admin")))
    findings = []
    for system in short.select_related("primary_admin", "secondary_admin"):
        named = {p.pk for p in (system.primary_admin, system.secondary_admin) if p}
        count = f"{len(named) or 'no'} administrator{'' if len(named) == 1 else 's'}"
        findings.append(Finding("SP 1.2", f"{system} is in service with {count}: two "
                                "distinct Systems Administrators are needed",
                                system.get_absolute_url(), subject=f"system:{system.name}"))
    return findings


def critical_by_board_decision() -> list[Finding]:
    """SP 1.1: a critical system is one the Board decided is critical."""
    return [Finding("SP 1.1", f"{s} is critical but no Board decision made it so",
                    s.get_absolute_url(), subject=f"system:{s.name}")
            for s in System.objects.filter(criticality=Criticality.CRITICAL)
            .exclude(status=SystemStatus.RETIRED)
            .filter(Q(critical_authority__isnull=True)
                    | ~Q(critical_authority__kind="board_decision"))]


def inspected_before_service() -> list[Finding]:
    """SP 3.2.2: a newly installed system is inspected before it serves."""
    return [Finding("SP 3.2.2", f"{s} is in service but was never inspected",
                    s.get_absolute_url(), subject=f"system:{s.name}")
            for s in System.objects.filter(status=SystemStatus.IN_SERVICE,
                                           inspected_at__isnull=True)]


def disk_encryption_enabled() -> list[Finding]:
    """SP 3.2.1: encryption enabled for all relevant disks when the OS is first installed.
    Not enabled is a finding; not known, a warning until someone looks."""
    findings = []
    for system in System.objects.filter(status=SystemStatus.IN_SERVICE).exclude(
            disk_encryption=Encryption.ENABLED):
        if system.disk_encryption == Encryption.DISABLED:
            findings.append(Finding("SP 3.2.1", f"{system} is in service without disk "
                                    "encryption", system.get_absolute_url(),
                                    subject=f"system:{system.name}"))
        else:
            findings.append(Finding("SP 3.2.1", f"whether {system}'s disks are encrypted is "
                                    "not known", system.get_absolute_url(),
                                    status=Status.WARNING, subject=f"system:{system.name}"))
    return findings


# --- flows (SP 3.1.1.1, 3.1.1.2) --------------------------------------------------------------


def temporary_access_ended() -> list[Finding]:
    """SP 3.1.1.1: a temporary access past its end is no longer in effect; one still
    approved must be ended (the firewall still carries it until then)."""
    now = timezone.now()
    return [Finding("SP 3.1.1.1", f"temporary access {f} ended "
                    f"{f.temporary_until:%Y-%m-%d %H:%M} but is still approved",
                    f.system.get_absolute_url(), subject=f"flow:{f.pk}")
            for f in Flow.objects.filter(status=FlowStatus.APPROVED,
                                         temporary_until__lte=now).select_related("system")]


def requests_decided() -> list[Finding]:
    """SP 3.1.1.2: the team leader decides requested connectivity; one waiting longer than
    REQUEST_WAIT_DAYS is a finding."""
    since = timezone.now() - dt.timedelta(days=REQUEST_WAIT_DAYS)
    return [Finding("SP 3.1.1.2", f"flow {f} has waited for the team leader since "
                    f"{f.requested_at:%Y-%m-%d}", f.system.get_absolute_url(),
                    subject=f"flow:{f.pk}")
            for f in Flow.objects.filter(status=FlowStatus.REQUESTED,
                                         requested_at__lt=since).select_related("system")]


def findings_for(system: System, findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.url == system.get_absolute_url()]


def register_findings() -> list[Finding]:
    """The findings of the register's own controls, for its pages (not the drift, patch
    or diagram controls: the pages of those show theirs, and evaluating every control on
    each request of a register page costs seconds with hundreds of systems)."""
    return [finding for c in REGISTER_CONTROLS if c.check is not None
            for finding in c.check()]


SA = TeamKind.SYSTEMS_ADMINISTRATION

REGISTER_CONTROLS: list[Control] = [
    Control("systems.two_administrators", ("SP 1.2",),
            "Every system in service has two distinct Systems Administrators as its primary "
            "and secondary administrator.", SA, check=two_administrators),
    Control("systems.critical_by_board", ("SP 1.1",),
            "Every critical system was made critical by a Board decision.", SA,
            check=critical_by_board_decision),
    Control("systems.inspected", ("SP 3.2.2",),
            "Every system in service was inspected after installation.", SA,
            check=inspected_before_service),
    Control("systems.disk_encryption", ("SP 3.2.1",),
            "Every system in service has disk encryption enabled since install.", SA,
            check=disk_encryption_enabled),
    Control("systems.temporary_access", ("SP 3.1.1.1",),
            "No temporary access is still approved after its end.", SA,
            check=temporary_access_ended),
    Control("systems.flow_requests", ("SP 3.1.1.2",),
            f"No flow request waits more than {REQUEST_WAIT_DAYS} days for the team leader.",
            SA, check=requests_decided),
]
CONTROLS: list[Control] = [*REGISTER_CONTROLS]





# --- the network diagram (SP 3.1.1) --------------------------------------------------------


def _changes_after(moment: Any) -> list[str]:
    """Approved flows and system changes newer than `moment` (cheap queries: the drawing
    itself is compared only when one exists)."""
    changes = [f"flow {f.pk} of {f.system} ({f.port_label}) approved "
               f"{f.decided_at:%Y-%m-%d %H:%M}"
               for f in Flow.objects.filter(status__in=[FlowStatus.APPROVED, FlowStatus.ENDED],
                                            decided_at__gt=moment)
               .select_related("system").order_by("decided_at")[:5]]
    changes += [f"flow {f.pk} of {f.system} ended {f.ended_at:%Y-%m-%d %H:%M}"
                for f in Flow.objects.filter(ended_at__gt=moment).select_related("system")
                .order_by("ended_at")[:5]]
    changes += [f"temporary flow {f.pk} of {f.system} expired {f.temporary_until:%Y-%m-%d %H:%M}"
                for f in Flow.objects.filter(temporary_until__gt=moment,
                                             temporary_until__lte=timezone.now())
                .select_related("system").order_by("temporary_until")[:5]]
    changes += [f"system {s} recorded {s.created_at:%Y-%m-%d %H:%M}"
                for s in System.objects.filter(created_at__gt=moment).order_by("created_at")[:5]]
    changes += [f"{e.subject_label}: {e.action} {e.recorded_at:%Y-%m-%d %H:%M}"
                for e in Event.objects.filter(subject_type__in=["systems.system",
                                                                "systems.address"],
                                              recorded_at__gt=moment).order_by("seq")[:5]]
    return changes


def diagram_up_to_date() -> list[Finding]:
    """SP 3.1.1: "diagrams must be updated when any change is made". A finding when
    systems exist and no revision was drawn, or when an approved flow or a change of a
    system is newer than the newest revision and the register now draws differently
    (a change that alters nothing drawn needs no revision)."""
    url = reverse("systems:network")
    newest = diagram.current_revision()
    if newest is None:
        if System.objects.exists():
            return [Finding("SP 3.1.1", "the register holds systems but no network diagram "
                            "has been drawn", url, subject="diagram:network")]
        return []
    changes = _changes_after(newest.created_at)
    if not changes or diagram.digest_of(diagram.dot_source()) == newest.digest:
        return []
    return [Finding("SP 3.1.1", f"the network diagram r{newest.number} "
                    f"({newest.created_at:%Y-%m-%d}) predates approved changes: "
                    f"{'; '.join(changes[:3])}", url, subject="diagram:network")]


CONTROLS.append(
    Control("systems.diagram_current", ("SP 3.1.1",),
            "The network diagram is updated whenever an approved change alters the network.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=diagram_up_to_date))


# --- the host agents' drift (systems.drift; docs/agent.md) ----------------------------------



def _drift_check(kind: str):  # type: ignore[no-untyped-def]
    def check() -> list[Finding]:
        return drift.findings(kind)

    check.__name__ = f"agent_{kind}"
    return check


CONTROLS += [
    Control("systems.agent_undocumented_ports", ("SP 3.1.2.1",),
            "Every port a system listens on beyond loopback is documented as an ingress "
            "flow in effect.", TeamKind.SYSTEMS_ADMINISTRATION,
            check=_drift_check(drift.PORT_UNDOCUMENTED)),
    Control("systems.agent_documented_ports_listening", ("SP 3.1.2.1",),
            "Every documented ingress port in effect is listening (or its flow is ended).",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.PORT_NOT_LISTENING)),
    Control("systems.agent_ruleset", ("SP 3.1.2.1",),
            "Each system enforces the nftables ruleset generated from the register.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.RULESET)),
    Control("systems.agent_disk_encryption", ("SP 3.2.1",),
            "Every mounted file system of a reporting system is on an encrypted device.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.ENCRYPTION)),
    Control("systems.agent_security_updates", ("SP 3.2.3",),
            "No security update stays pending longer than SECMAN_AGENT_UPDATE_DAYS "
            "(default 7) from the first report that showed it.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.SECURITY_UPDATES)),
    Control("systems.agent_reporting", ("SP 3.2.2",),
            "Every system with a live agent token has reported within two days.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.SILENT)),
    Control("systems.agent_recorded_changes", ("SM 4.1.3",),
            "Every change of sshd, sudoers, accounts, authorized_keys or the ruleset "
            "between two reports is covered by a recorded configuration change.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.UNRECORDED_CHANGE)),
]


# --- OS lifecycle, patches and changes (SM 3.2, SP 3.2.3, 3.2.3.1, SM 4.1.3) -------------

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
