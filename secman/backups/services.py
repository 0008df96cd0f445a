"""Every change the backups chapter makes, each with its Event Log entry in the same
transaction; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secman.authority.arbitration import file_dispute
from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase, SignOffRequest
from secman.authority.services import (
    AuthorityLike,
    request_signoff,
    resolve_authority,
    sign,
    signoff_summary,
)
from secman.authority.signoff import dual_control, register
from secman.backups import openpgp, own, restic
from secman.backups.choices import (
    BackupKind,
    Encryption,
    EnvelopeStatus,
    ExaminationStatus,
    RetentionDirection,
    SetStatus,
)
from secman.backups.lifecycles import SET
from secman.backups.models import (
    BackupCheck,
    BackupJob,
    BackupSet,
    Examination,
    RetentionDecision,
    SealedEnvelope,
)
from secman.core.authorities import AuthorityKind
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.selectors import require_sysadmin
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any
from secman.physical.choices import MediaStatus
from secman.physical.models import Media
from secman.privileged.models import Secret
from secman.systems.models import System

OWN_BACKUP_SECTION = "SP 4.3"


def create_own_backup(output: Path, *, actor: Any = None,
                      progress: own.Progress = lambda step: None) -> own.Created:
    """secman's own backup (own.create), recorded with the archive's SHA-256 and
    recipients; a failure is recorded too (the operator's schedule must notice it)."""
    require_sysadmin(actor, "secman's backup (it holds every record and the signing keys)")
    try:
        created = own.create(output, progress=progress)
    except own.BackupError as exc:
        with transaction.atomic():
            record("backup.own_failed", actor=actor,
                   authority=resolve_authority(OWN_BACKUP_SECTION),
                   retention_class=RetentionClass.SYSTEM,
                   details={"file": output.name, "reason": str(exc)[:500]})
        raise
    with transaction.atomic():
        record("backup.own_created", actor=actor,
               authority=resolve_authority(OWN_BACKUP_SECTION),
               retention_class=RetentionClass.SYSTEM,
               details={"file": created.path.name, "sha256": created.sha256,
                        "bytes": created.size, "database": created.manifest["database"],
                        "eventlog_entries": created.manifest["eventlog"]["entries"],
                        "files": len(created.manifest["files"]),
                        "recipients": created.manifest["recipients"]})
    return created


# --- the backup register (SP/SM 4.3) --------------------------------------------------------

MAKE = "backups.set.make"
VERIFY = "backups.set.verify"
# A check reads at most this share of the repository's data (restic --read-data-subset).
DEFAULT_READ_SUBSET = "10%"


def may_read_register(person: Person | None) -> bool:
    """The register (jobs, sets, checks; no secret is in it): the critical teams, the
    Board and auditors."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.ACCESS_ENGINEER,
                     Role.BOARD_MEMBER, Role.AUDITOR, Role.ARBITRATOR)


def may_change_register(person: Person | None) -> bool:
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def _require_sysadmin(actor: Person | None, what: str, section: str) -> None:
    if actor is not None and not may_change_register(actor):
        raise NotAllowed(f"{what} is done by Systems Administrators", section=section)


def _check_frequency(days: int) -> None:
    if not 1 <= days <= 3660:
        raise RuleViolation("a backup is due every 1 to 3660 days", field="frequency_days",
                            section="SP 4.3.2")


def add_job(*, actor: Person | None, system: System, name: str, kind: str,
            frequency_days: int, authority: AuthorityLike, restic_repository: str = "",
            restic_password_file: str = "", storage: str = "") -> BackupJob:
    """A backup job of a system, with its frequency under an authority (SP 4.3.2)."""
    _require_sysadmin(actor, "adding a backup job", "SP 4.3")
    values = {"name": " ".join(name.split()), "restic_repository": restic_repository.strip(),
              "restic_password_file": restic_password_file.strip(), "storage": storage.strip()}
    if not values["name"]:
        raise RuleViolation("name the job (what is backed up: 'database')", field="name")
    if kind not in BackupKind.values:
        raise RuleViolation(f"{kind!r} is not a kind of backup: one of "
                            f"{', '.join(BackupKind.values)}", field="kind")
    _check_frequency(frequency_days)
    if kind == BackupKind.OPERATIONAL and bool(values["restic_repository"]) != bool(
            values["restic_password_file"]):
        raise RuleViolation("a restic repository needs its password file, and a password "
                            "file its repository", field="restic_password_file")
    if values["restic_password_file"] and not values["restic_password_file"].startswith("/"):
        raise RuleViolation("the password file is an absolute path on the secman server",
                            field="restic_password_file")
    check_text(BackupJob, values)
    with transaction.atomic():
        if BackupJob.objects.filter(system=system, name=values["name"]).exists():
            raise RuleViolation(f"{system.name} has a job called {values['name']!r} already",
                                field="name")
        authority_row = resolve_authority(authority)
        job = BackupJob.objects.create(system=system, kind=kind, frequency_days=frequency_days,
                                       schedule_authority=authority_row, created_by=actor,
                                       **values)
        record("backups.job.add", actor=actor, authority=authority_row, subject=job,
               retention_class=RetentionClass.CONFIGURATION,
               details={"system": system.name, "name": job.name, "kind": kind,
                        "frequency_days": frequency_days,
                        "restic_repository": job.restic_repository})
    return job


def change_schedule(*, actor: Person | None, job: BackupJob, frequency_days: int,
                    authority: AuthorityLike) -> BackupJob:
    """SP 4.3.2: the frequency of a job, changed only with an authority."""
    _require_sysadmin(actor, "changing a backup schedule", "SP 4.3.2")
    _check_frequency(frequency_days)
    with transaction.atomic():
        job = BackupJob.objects.select_for_update().get(pk=job.pk)
        if job.frequency_days == frequency_days:
            raise RuleViolation(f"the job is due every {frequency_days} days already",
                                field="frequency_days")
        authority_row = resolve_authority(authority)
        before = job.frequency_days
        job.frequency_days, job.schedule_authority = frequency_days, authority_row
        job.save(update_fields=["frequency_days", "schedule_authority"])
        record("backups.job.schedule", actor=actor, authority=authority_row, subject=job,
               retention_class=RetentionClass.CONFIGURATION,
               details={"job": str(job), "from_days": before, "to_days": frequency_days})
    return job


def record_set(*, actor: Person, job: BackupJob, label: str, methods: list[str],
               media: list[Media] | None = None, note: str = "") -> BackupSet:
    """A set made of the job, by `actor` and a second Systems Administrator who signs
    (SM 4.3.7 "At least two must conduct the backup"): until then it waits."""
    _require_sysadmin(actor, "recording a backup set", "SM 4.3.7")
    if actor is None:
        raise NotAllowed("a backup set is made by two named people", section="SM 4.3.7")
    label = " ".join(label.split())
    if not label:
        raise RuleViolation("give the set's label, as written on its media", field="label")
    unknown = [m for m in methods if m not in Encryption.values]
    if unknown:
        raise RuleViolation(f"{', '.join(unknown)}: not an encryption method secman knows "
                            f"({', '.join(Encryption.values)})", field="methods")
    if job.retired_at is not None:
        raise RuleViolation(f"the job {job} is retired", field="job")
    check_text(BackupSet, {"label": label, "note": note.strip()})
    media = list(media or [])
    retired = [str(m) for m in media if m.status == MediaStatus.RETIRED]
    if retired:
        raise RuleViolation(f"{', '.join(retired)}: retired media hold no backup (SP 2.2.3)",
                            field="media")
    with transaction.atomic():
        request = request_signoff(
            actor=actor, action=MAKE, authority="SM 4.3.7",
            title=f"Backup set {label} of {job}"[:300],
            description="At least two must conduct the backup (SM 4.3.7).",
            requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
            payload={"job": job.pk}, expires_in=dt.timedelta(days=2))
        backup_set = BackupSet.objects.create(job=job, label=label, made_signoff=request,
                                              methods=sorted(set(methods)),
                                              note=note.strip())
        backup_set.media.set(media)
        record("backups.set.record", actor=actor, authority=request.authority,
               subject=backup_set, details={"job": str(job), "label": label,
                                            "methods": backup_set.methods,
                                            "media": [str(m) for m in media]})
        sign(actor=actor, request=request, slot="person 1")
    return backup_set


def _made(request: SignOffRequest) -> None:
    backup_set = BackupSet.objects.select_for_update().get(made_signoff=request)
    SET.check(backup_set.status, SetStatus.MADE, step="made")
    backup_set.status = SetStatus.MADE
    backup_set.save(update_fields=["status"])
    record("backups.set.made", actor=None, actor_label="secman (two people signed)",
           authority=request.authority, subject=backup_set,
           signoffs=signoff_summary(request), details={"set": str(backup_set)})


register(MAKE, "Backup set made by two people (SM 4.3.7)", _made)


def check_openpgp(*, actor: Person | None, backup_set: BackupSet, sample: Path) -> BackupSet:
    """SP 4.3.5: read a sample file of the set's OpenPGP layer with `gpg --list-packets`
    and record the keys it is encrypted to; the layer counts only when they are exactly
    the configured DR keys (SECMAN_BACKUP_RECIPIENTS)."""
    _require_sysadmin(actor, "checking a backup's OpenPGP layer", "SP 4.3.5")
    if Encryption.OPENPGP not in backup_set.methods:
        raise RuleViolation("this set records no OpenPGP layer", field="methods")
    found = openpgp.recipients_of(sample)
    expected = openpgp.encryption_key_ids(settings.BACKUP_RECIPIENTS)
    ok = bool(found) and set(found) == set(expected)
    with transaction.atomic():
        backup_set = BackupSet.objects.select_for_update().get(pk=backup_set.pk)
        backup_set.openpgp_key_ids, backup_set.openpgp_ok = found, ok
        backup_set.openpgp_checked_at = timezone.now()
        backup_set.save(update_fields=["openpgp_key_ids", "openpgp_ok", "openpgp_checked_at"])
        record("backups.set.openpgp_check", actor=actor,
               authority=resolve_authority("SP 4.3.5"), subject=backup_set,
               details={"sample": sample.name, "key_ids": found, "expected": expected,
                        "ok": ok})
    return backup_set


def start_verification(*, actor: Person, backup_set: BackupSet, comment: str = "") -> BackupSet:
    """SP 4.3.6: two Systems Administrators verify a set before it goes to storage; the
    first signs now, the set is verified when the second does."""
    _require_sysadmin(actor, "verifying a backup set", "SP 4.3.6")
    if actor is None:
        raise NotAllowed("a verification is signed by two named people", section="SP 4.3.6")
    with transaction.atomic():
        backup_set = BackupSet.objects.select_for_update().get(pk=backup_set.pk)
        SET.check(backup_set.status, SetStatus.VERIFYING, step="verify")
        request = request_signoff(
            actor=actor, action=VERIFY, authority="SP 4.3.6",
            title=f"Verify backup set {backup_set.label} of {backup_set.job}"[:300],
            description="Two System Administrators must be present for verification "
                        "(SP 4.3.6).",
            requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
            payload={"set": backup_set.pk}, expires_in=dt.timedelta(days=2))
        backup_set.status, backup_set.verify_signoff = SetStatus.VERIFYING, request
        backup_set.save(update_fields=["status", "verify_signoff"])
        record("backups.set.verification", actor=actor, authority=request.authority,
               subject=backup_set, details={"set": str(backup_set)})
        sign(actor=actor, request=request, slot="person 1", comment=comment)
    return backup_set


def _verified(request: SignOffRequest) -> None:
    backup_set = BackupSet.objects.select_for_update().get(pk=request.payload["set"])
    SET.check(backup_set.status, SetStatus.VERIFIED, step="verified")
    backup_set.status, backup_set.verified_at = SetStatus.VERIFIED, timezone.now()
    backup_set.save(update_fields=["status", "verified_at"])
    # SM 4.3.6: "Verifications must be notified to the Event Log".
    record("backups.set.verified", actor=None, actor_label="secman (two sysadmins signed)",
           authority=request.authority, subject=backup_set,
           signoffs=signoff_summary(request), details={"set": str(backup_set)})


register(VERIFY, "Backup set verified by two Systems Administrators (SP 4.3.6)", _verified)


def store_set(*, actor: Person | None, backup_set: BackupSet, location: str,
              paper_documentation: str = "") -> BackupSet:
    """The set goes to its storage: only once verified; a disaster-recovery set only
    with two distinct encryption methods, its OpenPGP layer checked against the DR keys,
    and a location (SM 4.3.3: the hosting organisation's secured area)."""
    _require_sysadmin(actor, "storing a backup set", "SM 4.3.3")
    location = " ".join(location.split())
    paper = " ".join(paper_documentation.split())
    if not location:
        raise RuleViolation("say where the set is kept (SM 4.3.3)", field="location")
    check_text(BackupSet, {"location": location, "paper_documentation": paper})
    with transaction.atomic():
        backup_set = BackupSet.objects.select_for_update().select_related("job").get(
            pk=backup_set.pk)
        if backup_set.status != SetStatus.VERIFIED:
            raise RuleViolation("a set is stored only after two Systems Administrators "
                                "verified it", section="SP 4.3.6")
        if backup_set.job.kind == BackupKind.DISASTER_RECOVERY:
            if len(set(backup_set.methods)) < 2:
                raise RuleViolation("a disaster-recovery set is encrypted by two divergent "
                                    f"methods; this one records {len(backup_set.methods)}",
                                    section="SP 4.3.5")
            if Encryption.OPENPGP in backup_set.methods and not backup_set.openpgp_ok:
                raise RuleViolation("its OpenPGP layer is not shown to be encrypted to the "
                                    "DR keys: check a sample first (gpg --list-packets)",
                                    section="SP 4.3.5")
            if not paper:
                raise RuleViolation("say what paper documentation is stored with the set "
                                    "(how to restore it, which keys open it: names only)",
                                    field="paper_documentation", section="SM 4.3.7")
        SET.check(backup_set.status, SetStatus.STORED, step="store")
        backup_set.status, backup_set.location = SetStatus.STORED, location
        backup_set.paper_documentation = paper
        backup_set.stored_at, backup_set.stored_by = timezone.now(), actor
        backup_set.save(update_fields=["status", "location", "paper_documentation",
                                       "stored_at", "stored_by"])
        record("backups.set.store", actor=actor, authority=resolve_authority("SM 4.3.3"),
               subject=backup_set, details={"set": str(backup_set), "location": location,
                                            "paper_documentation": paper})
    return backup_set


def run_check(*, actor: Person | None, job: BackupJob, sample_size: int = 5,
              read_subset: str = DEFAULT_READ_SUBSET) -> BackupCheck:
    """`restic check` and a restored sample of an operational job (restic.check); the
    result, passed or failed, is the job's evidence and an Event Log entry. A failed one
    is a finding until a later check passes."""
    _require_sysadmin(actor, "checking a backup", "SP 4.3.6")
    if not job.restic_repository:
        raise RuleViolation(f"{job} has no restic repository to check",
                            field="restic_repository")
    if not 1 <= sample_size <= 100:
        raise RuleViolation("a sample of 1 to 100 files", field="sample_size")
    result = restic.check(job.restic_repository, job.restic_password_file,
                          sample_size=sample_size, read_subset=read_subset)
    with transaction.atomic():
        snapshot_time = (dt.datetime.fromisoformat(result.snapshot_time.replace("Z", "+00:00"))
                         if result.snapshot_time else None)
        done = BackupCheck.objects.create(
            job=job, ran_by=actor, ok=result.ok, snapshot_id=result.snapshot_id,
            snapshot_time=snapshot_time, files=result.files, bytes=result.bytes,
            sample=result.sample, read_subset=read_subset, seconds=result.seconds,
            problem=result.problem[:TEXT_MAX])
        record("backups.check.passed" if result.ok else "backups.check.failed", actor=actor,
               authority=resolve_authority("SP 4.3.6"), subject=done,
               details={"job": str(job), "snapshot": result.snapshot_id,
                        "files": result.files, "bytes": result.bytes,
                        "sample": result.sample, "seconds": result.seconds,
                        "problem": result.problem[:500]})
    return done


# --- sealed envelopes (SM 4.3.7) ----------------------------------------------------------


def may_keep_envelopes(person: Person | None) -> bool:
    """Envelopes are sealed by Systems Administrators and kept by Board members; both
    record them and their checks."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.BOARD_MEMBER)


def may_open_envelopes(person: Person | None) -> bool:
    return holds_any(person, Role.BOARD_MEMBER)


def seal_envelope(*, actor: Person, label: str, seal: str, secrets: list[Secret],
                  custodian: Person, location: str,
                  replaces: SealedEnvelope | None = None) -> SealedEnvelope:
    """A sealed envelope handed to its custodian, a Board member; it may replace an
    older one (a secret in it changed), which is then superseded."""
    if not holds_any(actor, Role.SYSTEMS_ADMINISTRATOR):
        raise NotAllowed("the Systems Administration team seals the envelopes",
                         section="SM 4.3.7")
    if not holds_any(custodian, Role.BOARD_MEMBER):
        raise RuleViolation(f"{custodian} is not a Board member: the envelopes are stored in "
                            "a safe of a Board member", field="custodian", section="SM 4.3.7")
    values = {"label": " ".join(label.split()), "seal": " ".join(seal.split()),
              "location": " ".join(location.split())}
    for name, said in (("label", "its identification marks"), ("seal", "the envelope and "
                       "its seal as seen"), ("location", "where the custodian keeps it")):
        if not values[name]:
            raise RuleViolation(f"give {said}", field=name)
    if not secrets:
        raise RuleViolation("name the secrets the envelope holds (never their values)",
                            field="secrets")
    retired = [s.name for s in secrets if s.retired_at is not None]
    if retired:
        raise RuleViolation(f"{', '.join(retired)}: retired, no longer escrowed",
                            field="secrets")
    check_text(SealedEnvelope, values)
    with transaction.atomic():
        if SealedEnvelope.objects.filter(label=values["label"]).exists():
            raise RuleViolation(f"an envelope is labelled {values['label']!r} already: mark "
                                "the new one differently (a date)", field="label")
        if replaces is not None:
            replaces = SealedEnvelope.objects.select_for_update().get(pk=replaces.pk)
            if replaces.status != EnvelopeStatus.SEALED:
                raise RuleViolation(f"{replaces} is {replaces.get_status_display().lower()}; "
                                    "only a sealed envelope is replaced", field="replaces")
        envelope = SealedEnvelope.objects.create(sealed_by=actor, custodian=custodian,
                                                 **values)
        envelope.secrets.set(secrets)
        authority = resolve_authority("SM 4.3.7")
        if replaces is not None:
            replaces.status, replaces.replaced_by = EnvelopeStatus.SUPERSEDED, envelope
            replaces.save(update_fields=["status", "replaced_by"])
        record("backups.envelope.seal", actor=actor, authority=authority, subject=envelope,
               details={"label": envelope.label, "custodian": str(custodian),
                        "location": envelope.location,
                        "holds": sorted(s.name for s in secrets),  # names only
                        "replaces": replaces.label if replaces else None})
    return envelope


def check_envelope(*, actor: Person, envelope: SealedEnvelope, intact: bool,
                   note: str = "") -> SealedEnvelope:
    """SM 4.3.7 "Validity of keys need to be checked periodically": the envelope seen
    where the register says, its seal intact (or found broken: then it is a finding
    until a new one replaces it)."""
    if not may_keep_envelopes(actor):
        raise NotAllowed("envelopes are checked by Systems Administrators and Board members",
                         section="SM 4.3.7")
    check_free_text(note.strip(), label="note", limit=500, multiline=False, field="note")
    with transaction.atomic():
        envelope = SealedEnvelope.objects.select_for_update().get(pk=envelope.pk)
        if envelope.status != EnvelopeStatus.SEALED:
            raise RuleViolation(f"{envelope} is {envelope.get_status_display().lower()}",
                                field="envelope")
        envelope.last_checked_at, envelope.last_checked_by = timezone.now(), actor
        if not intact:
            envelope.status = EnvelopeStatus.BROKEN
        envelope.save(update_fields=["last_checked_at", "last_checked_by", "status"])
        record("backups.envelope.check", actor=actor, authority=resolve_authority("SM 4.3.7"),
               subject=envelope, details={"label": envelope.label, "intact": intact,
                                          "note": note.strip()})
    return envelope


def open_envelope(*, actor: Person, envelope: SealedEnvelope,
                  authority: AuthorityLike) -> SealedEnvelope:
    """SM 4.3.7: "Recovery of root passwords and ssh keys from sealed envelope is by
    decision of the Board": only a Board member, citing a carried Board decision."""
    if not may_open_envelopes(actor):
        raise NotAllowed("an envelope is opened by its custodian or another Board member",
                         section="SM 4.3.7")
    with transaction.atomic():
        authority_row = resolve_authority(authority, kinds=[AuthorityKind.BOARD_DECISION],
                                          why="recovery from an envelope is by decision of "
                                          "the Board (SM 4.3.7)")
        envelope = SealedEnvelope.objects.select_for_update().get(pk=envelope.pk)
        if envelope.status != EnvelopeStatus.SEALED:
            raise RuleViolation(f"{envelope} is {envelope.get_status_display().lower()}",
                                field="envelope")
        envelope.status, envelope.opened_authority = EnvelopeStatus.OPENED, authority_row
        envelope.save(update_fields=["status", "opened_authority"])
        record("backups.envelope.open", actor=actor, authority=authority_row,
               subject=envelope, details={"label": envelope.label})
    return envelope


# --- reading backups (SM 4.3.8) ------------------------------------------------------------


def open_examination(*, actor: Person, backup_set: BackupSet, purpose: str, extracted: str,
                     extracted_to: str, case: ArbitrationCase | None = None,
                     emergency: bool = False) -> Examination:
    """SM 4.3.8: a backup read for anything but a restore, under a running Arbitration
    case; in an emergency, without one, a dispute is filed at once so the Arbitrator
    knows ("Any emergency actions are to be notified in a timely fashion")."""
    _require_sysadmin(actor, "examining a backup", "SM 4.3.8")
    if actor is None:
        raise NotAllowed("an examination is recorded by a named person", section="SM 4.3.8")
    values = {"purpose": purpose.strip(), "extracted": extracted.strip(),
              "extracted_to": " ".join(extracted_to.split())}
    for name in values:
        if not values[name]:
            raise RuleViolation(f"say {name.replace('_', ' ')}", field=name)
    if case is None and not emergency:
        raise RuleViolation("reading a backup needs an Arbitration case (a dispute filed to "
                            "seek authorisation), or is an emergency", field="case",
                            section="SM 4.3.8")
    if case is not None and case.status not in (CaseStatus.FILED, CaseStatus.RUNNING):
        raise RuleViolation(f"case {case.number} is {case.get_status_display().lower()}: "
                            "it no longer authorises anything new", field="case")
    check_text(Examination, values)
    with transaction.atomic():
        if case is None:
            case = file_dispute(
                actor=actor, title=f"Emergency examination of backup {backup_set.label}"[:200],
                circumstances=f"{actor} read backup set {backup_set} in an emergency "
                              f"(SM 4.3.8).\nPurpose: {values['purpose']}")
        examination = Examination.objects.create(backup_set=backup_set, case=case,
                                                 emergency=emergency, opened_by=actor,
                                                 **values)
        record("backups.examination.open", actor=actor, authority=resolve_authority(case),
               subject=examination, retention_class=RetentionClass.INCIDENT,
               details={"set": str(backup_set), "case": case.number, "emergency": emergency,
                        **values})
    return examination


def mark_cleaned(*, actor: Person, examination: Examination, cleaning: str) -> Examination:
    """SM 4.3.8: "the data must be cleaned at the end of the exception"."""
    _require_sysadmin(actor, "recording the cleaning", "SM 4.3.8")
    cleaning = cleaning.strip()
    if not cleaning:
        raise RuleViolation("say how the extracted data was cleaned", field="cleaning")
    check_text(Examination, {"cleaning": cleaning})
    with transaction.atomic():
        examination = Examination.objects.select_for_update().get(pk=examination.pk)
        if examination.status != ExaminationStatus.OPEN:
            raise RuleViolation("this examination is cleaned already", field="cleaning")
        examination.status, examination.cleaning = ExaminationStatus.CLEANED, cleaning
        examination.cleaned_at, examination.cleaned_by = timezone.now(), actor
        examination.save(update_fields=["status", "cleaning", "cleaned_at", "cleaned_by"])
        record("backups.examination.clean", actor=actor,
               authority=resolve_authority(examination.case), subject=examination,
               retention_class=RetentionClass.INCIDENT,
               details={"set": str(examination.backup_set), "cleaning": cleaning})
    return examination


# --- data retention (SM 4.4.1) -------------------------------------------------------------

# A direction to delete is carried out within this many days (the manual gives none; a
# week lets the support team find every copy, backups included).
CARRY_OUT_DAYS = 7


def may_record_retention(person: Person | None) -> bool:
    return holds_any(person, Role.ARBITRATOR)


def may_see_retention(person: Person | None) -> bool:
    return holds_any(person, Role.ARBITRATOR, Role.CASE_MANAGER, Role.SYSTEMS_ADMINISTRATOR,
                     Role.SUPPORT_ENGINEER, Role.BOARD_MEMBER, Role.AUDITOR)


def may_carry_out_retention(person: Person | None) -> bool:
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.SUPPORT_ENGINEER)


def record_retention_decision(*, actor: Person, case: ArbitrationCase, account: str,
                              direction: str, retain_until: dt.date | None = None
                              ) -> RetentionDecision:
    """SM 4.4.1: the Arbitrator of the case directs what happens to a terminated
    account's data."""
    if not may_record_retention(actor) or case.arbitrator_id != actor.pk:
        raise NotAllowed(f"the direction is the Arbitrator's of case {case.number}",
                         section="SM 4.4.1")
    account = " ".join(account.split())
    if not account:
        raise RuleViolation("name the account (as the support team refers to it)",
                            field="account")
    if direction not in RetentionDirection.values:
        raise RuleViolation(f"the direction is one of {', '.join(RetentionDirection.values)}",
                            field="direction")
    if (direction == RetentionDirection.RETAIN_UNTIL) != (retain_until is not None):
        raise RuleViolation("a date is given exactly when the data is retained until it",
                            field="retain_until")
    if retain_until is not None and retain_until <= timezone.localdate():
        raise RuleViolation("the date is in the future", field="retain_until")
    check_text(RetentionDecision, {"account": account})
    with transaction.atomic():
        decision = RetentionDecision.objects.create(case=case, account=account,
                                                    direction=direction,
                                                    retain_until=retain_until,
                                                    recorded_by=actor)
        record("backups.retention.direct", actor=actor, authority=resolve_authority(case),
               subject=decision, retention_class=RetentionClass.INCIDENT,
               details={"account": account, "direction": direction,
                        "retain_until": retain_until})
    return decision


def carry_out_retention(*, actor: Person, decision: RetentionDecision,
                        note: str) -> RetentionDecision:
    """The data deleted as directed (not before a 'retain until' date)."""
    if not may_carry_out_retention(actor):
        raise NotAllowed("user data is deleted by Systems Administrators or Support "
                         "Engineers", section="SM 4.4.1")
    note = " ".join(note.split())
    if not note:
        raise RuleViolation("say what was deleted, and where (backups included)",
                            field="note")
    check_text(RetentionDecision, {"carried_out_note": note})
    with transaction.atomic():
        decision = RetentionDecision.objects.select_for_update().get(pk=decision.pk)
        if decision.carried_out_at is not None:
            raise RuleViolation("this direction is carried out already", field="note")
        if decision.direction == RetentionDirection.RETAIN:
            raise RuleViolation("the data is retained until the Arbitrator directs "
                                "otherwise", field="note", section="SM 4.4.1")
        if decision.retain_until and decision.retain_until > timezone.localdate():
            raise RuleViolation(f"the data is retained until {decision.retain_until}",
                                field="note", section="SM 4.4.1")
        decision.carried_out_at, decision.carried_out_by = timezone.now(), actor
        decision.carried_out_note = note
        decision.save(update_fields=["carried_out_at", "carried_out_by", "carried_out_note"])
        record("backups.retention.carry_out", actor=actor,
               authority=resolve_authority(decision.case), subject=decision,
               retention_class=RetentionClass.INCIDENT,
               details={"account": decision.account, "note": note})
    return decision
