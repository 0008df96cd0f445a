"""The controls of backups (SP/SM 4.3), each naming its section, declared in CONTROLS for
the compliance app to collect."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from secman.authority.choices import CaseStatus
from secman.backups.choices import (
    BackupKind,
    EnvelopeStatus,
    ExaminationStatus,
    RetentionDirection,
    SetStatus,
)
from secman.backups.models import (
    BackupCheck,
    BackupJob,
    BackupSet,
    Examination,
    RetentionDecision,
    SealedEnvelope,
)
from secman.backups.services import CARRY_OUT_DAYS
from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.privileged.models import Secret
from secman.systems.choices import Criticality, SystemStatus
from secman.systems.models import System

_SA = TeamKind.SYSTEMS_ADMINISTRATION
# A set made but not verified after this many days: its verification is late (SP 4.3.6
# gives no deadline; a backup carried around unverified for more than a week is chased).
VERIFY_DAYS = 7
# "Due soon" this many days before a job's next set or check (a quarter of the period for
# jobs of less than 8 days: a daily job is due soon in its last 6 hours).
DUE_SOON_DAYS = 2


def _newest_evidence(job: BackupJob) -> tuple[str, object] | None:
    """A job's newest evidence: a passing check of an operational job, or a set made by
    two people of any job."""
    times = []
    passed = job.checks.filter(ok=True).order_by("-ran_at").values_list("ran_at", flat=True)[:1]
    times += [("check", t) for t in passed]
    made = job.sets.exclude(status=SetStatus.AWAITING_SECOND).order_by("-made_at") \
        .values_list("made_at", flat=True)[:1]
    times += [("set", t) for t in made]
    return max(times, key=lambda pair: pair[1]) if times else None


def jobs_on_schedule() -> list[Finding]:
    """SP 4.3.2: each job has a set (or a passing check) within its frequency."""
    now = timezone.now()
    found = []
    for job in BackupJob.objects.filter(retired_at__isnull=True).select_related("system"):
        url = reverse("backups:job", args=[job.pk])
        newest = _newest_evidence(job)
        if newest is None:
            found.append(Finding("SP 4.3.2", f"{job}: no backup set or passing check is "
                                 "recorded yet", url, Status.NOT_EVIDENCED, f"job:{job.pk}"))
            continue
        kind, when = newest
        age = (now - when).total_seconds() / 86400  # type: ignore[operator]
        if age > job.frequency_days:
            found.append(Finding(
                "SP 4.3.2", f"{job}: the newest {kind} is {int(age)} days old; one is due every "
                f"{job.frequency_days} days", url, Status.OVERDUE, f"job:{job.pk}"))
        elif age > job.frequency_days - min(DUE_SOON_DAYS, job.frequency_days / 4):
            left = job.frequency_days - age
            found.append(Finding("SP 4.3.2", f"{job}: the next backup is due in "
                                 + (f"{left:.0f} days" if left >= 1.5 else
                                    f"{left * 24:.0f} hours"),
                                 url, Status.DUE_SOON, f"job:{job.pk}"))
    return found


def checks_pass() -> list[Finding]:
    """SP 4.3.6: an operational job whose newest restic check failed."""
    found = []
    for job in BackupJob.objects.filter(retired_at__isnull=True, kind=BackupKind.OPERATIONAL):
        newest = BackupCheck.objects.filter(job=job).order_by("-ran_at", "-id").first()
        if newest is not None and not newest.ok:
            found.append(Finding("SP 4.3.6", f"{job}: the newest check failed: "
                                 f"{newest.problem[:200]}",
                                 reverse("backups:job", args=[job.pk]), Status.VIOLATED,
                                 f"job:{job.pk}"))
    return found


def sets_verified() -> list[Finding]:
    """SP 4.3.6: a set made and not verified by two sysadmins within a week."""
    now = timezone.now()
    found = []
    for backup_set in BackupSet.objects.filter(
            status__in=(SetStatus.MADE, SetStatus.VERIFYING)).select_related("job__system"):
        days = (now - backup_set.made_at).days
        if days >= VERIFY_DAYS:
            found.append(Finding("SP 4.3.6", f"{backup_set} was made {days} days ago and is "
                                 "not verified by two Systems Administrators",
                                 reverse("backups:set", args=[backup_set.pk]),
                                 Status.OVERDUE, f"set:{backup_set.pk}"))
    return found


def reference_backups() -> list[Finding]:
    """SM 3.2.2, 5.5.2: every critical system in service has a full reference job."""
    with_reference = set(BackupJob.objects.filter(kind=BackupKind.REFERENCE,
                                                  retired_at__isnull=True)
                         .values_list("system_id", flat=True))
    return [Finding("SM 3.2.2", f"{system.name} has no full reference backup job",
                    reverse("systems:system", args=[system.name]), Status.NOT_EVIDENCED,
                    f"system:{system.pk}")
            for system in System.objects.filter(criticality=Criticality.CRITICAL,
                                                status=SystemStatus.IN_SERVICE)
            if system.pk not in with_reference]


# SM 4.3.7 "at the earliest practical moment": a new envelope is due within a week of the
# change of a secret it holds, overdue after.
ENVELOPE_DAYS = 7
# SM 4.3.7 names root passwords, backup keys and their passphrases as escrowed.
ESCROWED_KINDS = ("root_password", "backup_key")


def envelopes_current() -> list[Finding]:
    """SM 4.3.7: every sealed envelope holds the current value of each secret in it (a
    secret changed after the sealing makes a new envelope due); every root password and
    backup key in use is in a sealed envelope; an envelope found broken is a violation."""
    now = timezone.now()
    url = reverse("backups:envelopes")
    found = []
    for envelope in SealedEnvelope.objects.filter(status=EnvelopeStatus.BROKEN):
        found.append(Finding("SM 4.3.7", f"{envelope} was found with its seal broken: seal a "
                             "new one (and change what it held)", url, Status.VIOLATED,
                             f"envelope:{envelope.pk}"))
    sealed = SealedEnvelope.objects.filter(status=EnvelopeStatus.SEALED).prefetch_related(
        "secrets")
    covered = set()
    for envelope in sealed:
        for secret in envelope.secrets.all():
            covered.add(secret.pk)
            changed = secret.last_rotated_at
            if changed is None or changed <= envelope.sealed_at:
                continue
            days = (now - changed).days
            found.append(Finding(
                "SM 4.3.7", f"{secret.name} changed "
                + ("today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago")
                + f", after {envelope} was sealed: a new envelope is due", url,
                Status.OVERDUE if days >= ENVELOPE_DAYS else Status.DUE_SOON,
                f"envelope:{envelope.pk}:{secret.pk}"))
    for secret in Secret.objects.filter(kind__in=ESCROWED_KINDS, retired_at__isnull=True):
        if secret.pk not in covered:
            found.append(Finding("SM 4.3.7", f"{secret.name} is in no sealed envelope", url,
                                 Status.NOT_EVIDENCED, f"secret:{secret.pk}"))
    return found


def examinations_cleaned() -> list[Finding]:
    """SM 4.3.8: the data extracted from a backup is cleaned at the end of the exception:
    an examination still open once its case is ruled or closed is a violation."""
    found = []
    for examination in Examination.objects.filter(
            status=ExaminationStatus.OPEN).select_related("case", "backup_set"):
        ended = examination.case.status in (CaseStatus.RULED, CaseStatus.CLOSED,
                                            CaseStatus.WITHDRAWN)
        found.append(Finding(
            "SM 4.3.8", f"{examination}: data extracted to {examination.extracted_to} is not "
            f"marked cleaned" + (f", and case {examination.case.number} is "
                                 f"{examination.case.get_status_display().lower()}"
                                 if ended else f" (case {examination.case.number} runs)"),
            examination.get_absolute_url(), Status.VIOLATED if ended else Status.DUE_SOON,
            f"examination:{examination.pk}"))
    return found


def retention_carried_out() -> list[Finding]:
    """SM 4.4.1: a direction to delete is carried out within a week of being recorded,
    or of its 'retain until' date."""
    today = timezone.localdate()
    found = []
    for decision in RetentionDecision.objects.filter(carried_out_at__isnull=True).exclude(
            direction=RetentionDirection.RETAIN).select_related("case"):
        due = decision.retain_until or decision.recorded_at.date()
        if due > today:
            continue
        days = (today - due).days
        found.append(Finding(
            "SM 4.4.1", f"{decision}: the Arbitrator's direction to delete is not carried "
            f"out ({'due today' if days == 0 else f'{days} days since it was due'})",
            decision.get_absolute_url(),
            Status.OVERDUE if days >= CARRY_OUT_DAYS else Status.DUE_SOON,
            f"retention:{decision.pk}"))
    return found


CONTROLS = [
    Control("backups.jobs_on_schedule", ("SP 4.3.2",),
            "Every backup job has a set made by two people, or for an operational job a "
            "passing restic check, within its frequency.", _SA, check=jobs_on_schedule),
    Control("backups.checks_pass", ("SP 4.3.6",),
            "The newest restic check of every operational job passed: the repository "
            "checked and a sample of files restored with the snapshot's content.", _SA,
            check=checks_pass),
    Control("backups.sets_verified", ("SP 4.3.6", "SM 4.3.6"),
            f"Every backup set is verified by two Systems Administrators within "
            f"{VERIFY_DAYS} days of being made, before it goes to storage.", _SA,
            check=sets_verified),
    Control("backups.reference_backups", ("SM 3.2.2", "SM 5.5.2"),
            "Every critical system in service has a full reference backup job (a known-good "
            "backup when it enters service and after a substantive patch).", _SA,
            check=reference_backups),
    Control("backups.envelopes_current", ("SM 4.3.7",),
            "Every root password and backup key in use is in a sealed envelope with a Board "
            f"member; a new envelope follows within {ENVELOPE_DAYS} days of a change of a "
            "secret in one; no envelope is found broken.", _SA, check=envelopes_current),
    Control("backups.examinations_cleaned", ("SM 4.3.8",),
            "Data extracted from a backup under an Arbitration case is cleaned by the end "
            "of the exception.", _SA, check=examinations_cleaned),
    Control("backups.retention_carried_out", ("SM 4.4.1",),
            "A terminated account's user data is deleted as the Arbitrator directed, within "
            "a week of the direction or of its date.", TeamKind.SUPPORT,
            check=retention_carried_out),
]
