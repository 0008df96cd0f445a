"""The backup register (SP/SM 4.3): jobs with their schedule under authority, sets made
by two people and verified by two Systems Administrators before storage, a disaster-
recovery set's two encryption methods and its OpenPGP layer read with GnuPG, and restic
checks run against a real repository."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import gnupg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.authority.services import sign
from secman.backups import controls, openpgp, services
from secman.backups.choices import SetStatus
from secman.backups.models import BackupCheck, BackupJob, BackupSet
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.systems.models import System

pytestmark = pytest.mark.django_db


def _system(name: str = "webdb") -> System:
    return System.objects.get_or_create(name=name, defaults={"kind": "vm"})[0]


def _job(org, kind: str = "disaster_recovery", **extra) -> BackupJob:
    return services.add_job(actor=org.sam, system=_system(), name=f"{kind} job", kind=kind,
                            frequency_days=7, authority="SP 4.3.2", **extra)


def _verified_set(org, job: BackupJob, methods: list[str]) -> BackupSet:
    made = services.record_set(actor=org.sam, job=job, label="DR-2026-49", methods=methods)
    assert made.status == SetStatus.AWAITING_SECOND
    sign(actor=org.sue, request=made.made_signoff, slot="person 2")
    made.refresh_from_db()
    assert made.status == SetStatus.MADE
    services.start_verification(actor=org.sam, backup_set=made, comment="restored /etc")
    made.refresh_from_db()
    sign(actor=org.sid, request=made.verify_signoff, slot="person 2")
    made.refresh_from_db()
    return made


def _encrypted_sample(keyring, fingerprint: str, path: Path) -> Path:
    gpg = gnupg.GPG(gnupghome=keyring.home)
    plain = path.with_suffix(".plain")
    plain.write_bytes(b"a file of the DR set\n" * 100)
    result = gpg.encrypt_file(str(plain), [fingerprint], output=str(path), armor=False,
                              always_trust=True)
    assert result.ok, result.stderr
    return path


def test_a_dr_set_is_made_by_two_verified_by_two_and_stored_only_with_two_methods_checked(
        org, backup_settings, keyring, tmp_path):
    job = _job(org)
    one_method = _verified_set(org, job, ["filesystem"])
    assert one_method.status == SetStatus.VERIFIED
    assert Event.objects.filter(action="backups.set.verified").count() == 1
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="two divergent methods"):
        services.store_set(actor=org.sam, backup_set=one_method, location="Hosting safe")
    assert Event.objects.count() == before
    one_method.refresh_from_db()
    assert one_method.status == SetStatus.VERIFIED and not one_method.location

    two = _verified_set(org, job, ["filesystem", "openpgp"])
    with pytest.raises(RuleViolation, match="check a sample first"):
        services.store_set(actor=org.sam, backup_set=two, location="Hosting safe")
    # Encrypted to another key than the DR key: recorded, and still not storable.
    wrong = services.check_openpgp(actor=org.sam, backup_set=two, sample=_encrypted_sample(
        keyring, keyring.other, tmp_path / "wrong.gpg"))
    assert not wrong.openpgp_ok and wrong.openpgp_key_ids
    with pytest.raises(RuleViolation, match="check a sample first"):
        services.store_set(actor=org.sam, backup_set=two, location="Hosting safe")
    right = services.check_openpgp(actor=org.sam, backup_set=two, sample=_encrypted_sample(
        keyring, keyring.fingerprint, tmp_path / "right.gpg"))
    assert right.openpgp_ok
    assert right.openpgp_key_ids == openpgp.encryption_key_ids([keyring.fingerprint])
    listed = subprocess.run(["gpg", "--homedir", keyring.home, "--batch", "--list-packets",
                             "--pinentry-mode", "cancel", str(tmp_path / "right.gpg")],
                            capture_output=True, text=True).stdout
    assert right.openpgp_key_ids[0] in listed
    with pytest.raises(RuleViolation, match="paper documentation"):
        services.store_set(actor=org.sam, backup_set=two, location="Hosting safe")
    stored = services.store_set(actor=org.sam, backup_set=two, location="Hosting safe",
                                paper_documentation="restore steps; opened by the DR key")
    assert stored.status == SetStatus.STORED and stored.stored_by == org.sam


def test_the_same_person_cannot_be_both_of_the_two(org):
    made = services.record_set(actor=org.sam, job=_job(org), label="A", methods=[])
    with pytest.raises(RuleViolation):
        sign(actor=org.sam, request=made.made_signoff, slot="person 2")
    made.refresh_from_db()
    assert made.status == SetStatus.AWAITING_SECOND


def test_a_set_is_not_stored_before_verification(org):
    made = services.record_set(actor=org.sam, job=_job(org, "operational"), label="A",
                               methods=["restic"])
    sign(actor=org.sue, request=made.made_signoff, slot="person 2")
    with pytest.raises(RuleViolation, match="only after two Systems Administrators"):
        services.store_set(actor=org.sam, backup_set=made, location="rack 3")


def test_only_sysadmins_keep_the_register(org):
    before = Event.objects.count()
    with pytest.raises(NotAllowed):
        services.add_job(actor=org.pia, system=_system(), name="db", kind="operational",
                         frequency_days=1, authority="SP 4.3.2")
    assert Event.objects.count() == before and not BackupJob.objects.exists()
    assert not services.may_read_register(org.pia) and services.may_read_register(org.aud)


def test_a_schedule_changes_only_with_an_authority_and_jobs_fall_due(org):
    job = _job(org, "reference")
    statuses = {f.subject: f.status for f in controls.jobs_on_schedule()}
    assert statuses[f"job:{job.pk}"] == Status.NOT_EVIDENCED
    made = services.record_set(actor=org.sam, job=job, label="ref-1", methods=["filesystem"])
    sign(actor=org.sue, request=made.made_signoff, slot="person 2")
    assert f"job:{job.pk}" not in {f.subject for f in controls.jobs_on_schedule()}
    BackupSet.objects.filter(pk=made.pk).update(
        made_at=made.made_at - dt.timedelta(days=8))
    assert {f.subject: f.status for f in controls.jobs_on_schedule()}[f"job:{job.pk}"] \
        == Status.OVERDUE
    with pytest.raises(RuleViolation):
        services.change_schedule(actor=org.sam, job=job, frequency_days=30,
                                 authority="my say-so")
    services.change_schedule(actor=org.sam, job=job, frequency_days=30, authority="SP 4.3.2")
    assert f"job:{job.pk}" not in {f.subject for f in controls.jobs_on_schedule()}


# --- restic, for real ----------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path):
    """A restic repository with one snapshot of a few files."""
    password = tmp_path / "restic-password"
    password.write_text("restic test password\n")
    repo = tmp_path / "repo"
    data = tmp_path / "data"
    (data / "etc").mkdir(parents=True)
    for n in range(12):
        (data / "etc" / f"file{n}.conf").write_bytes(f"setting {n}\n".encode() * (50 + n))
    env = {"RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(password),
           "PATH": "/usr/bin:/bin"}
    for command in (["init"], ["backup", "--no-cache", str(data)]):
        done = subprocess.run(["restic", *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return repo, password, data


def test_a_restic_check_restores_a_sample_and_records_its_hashes(org, repository):
    repo, password, _ = repository
    job = _job(org, "operational", restic_repository=str(repo),
               restic_password_file=str(password))
    done = services.run_check(actor=org.sam, job=job, sample_size=4, read_subset="100%")
    assert done.ok, done.problem
    assert done.files == 12 and len(done.sample) == 4 and done.snapshot_id
    for item in done.sample:
        original = Path(item["path"])
        assert item["sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
    assert Event.objects.filter(action="backups.check.passed").count() == 1
    assert not controls.checks_pass()
    assert f"job:{job.pk}" not in {f.subject for f in controls.jobs_on_schedule()}


def test_a_corrupted_repository_fails_the_check_and_is_a_finding(org, repository):
    repo, password, _ = repository
    for pack in (repo / "data").rglob("*"):
        if pack.is_file():
            content = bytearray(pack.read_bytes())
            content[len(content) // 2] ^= 0xFF
            pack.write_bytes(bytes(content))
    job = _job(org, "operational", restic_repository=str(repo),
               restic_password_file=str(password))
    done = services.run_check(actor=org.sam, job=job, read_subset="100%")
    assert not done.ok and done.problem.startswith("restic check")
    assert Event.objects.filter(action="backups.check.failed").count() == 1
    [finding] = controls.checks_pass()
    assert finding.status == Status.VIOLATED and "newest check failed" in finding.message


def test_a_missing_password_file_is_named(org, repository):
    repo, _, _ = repository
    job = _job(org, "operational", restic_repository=str(repo),
               restic_password_file="/nonexistent/restic-password")
    done = services.run_check(actor=org.sam, job=job)
    assert not done.ok and "/nonexistent/restic-password" in done.problem
    assert BackupCheck.objects.count() == 1


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_hostile_samples_give_no_recipients_and_never_break(backup_settings, tmp_path, raw):
    sample = tmp_path / "sample"
    sample.write_bytes(raw)
    found = openpgp.recipients_of(sample)
    assert all(len(key_id) == 16 for key_id in found)


# --- sealed envelopes (SM 4.3.7) and reading backups (SM 4.3.8) ----------------------------


def _secret(org, name: str = "signer root password", kind: str = "root_password"):
    from secman.privileged import secrets_register

    secret = secrets_register.register_secret(actor=org.sue, name=name, kind=kind,
                                              authority="SM 4.1.1")
    secrets_register.rotate_secret(actor=org.sue, secret=secret, reason="first",
                                   authority="SM 4.1.1")
    return secret


def test_an_envelope_is_due_again_after_its_secret_changes(org):
    from secman.privileged import secrets_register

    root = _secret(org)
    statuses = {f.subject: f.status for f in controls.envelopes_current()}
    assert statuses[f"secret:{root.pk}"] == Status.NOT_EVIDENCED
    with pytest.raises(RuleViolation, match="not a Board member"):
        services.seal_envelope(actor=org.sue, label="keys", seal="A6, tape",
                               secrets=[root], custodian=org.sid, location="safe")
    envelope = services.seal_envelope(actor=org.sue, label="keys", seal="A6, tape",
                                      secrets=[root], custodian=org.bea, location="safe")
    assert not controls.envelopes_current()
    secrets_register.rotate_secret(actor=org.sue, secret=root, reason="scheduled",
                                   authority="SM 4.1.1")
    [due] = controls.envelopes_current()
    assert due.status == Status.DUE_SOON and "a new envelope is due" in due.message
    newer = services.seal_envelope(actor=org.sue, label="keys 2", seal="A6, tape",
                                   secrets=[root], custodian=org.bea, location="safe",
                                   replaces=envelope)
    envelope.refresh_from_db()
    assert envelope.status == "superseded" and envelope.replaced_by == newer
    assert not controls.envelopes_current()


def test_an_envelope_found_broken_is_a_violation_and_opening_needs_the_board(org):
    root = _secret(org)
    envelope = services.seal_envelope(actor=org.sue, label="keys", seal="A6, tape",
                                      secrets=[root], custodian=org.bea, location="safe")
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="decision of the Board"):
        services.open_envelope(actor=org.bea, envelope=envelope, authority="SM 4.3.7")
    with pytest.raises(NotAllowed):
        services.open_envelope(actor=org.sue, envelope=envelope, authority=org.decision)
    assert Event.objects.count() == before
    services.open_envelope(actor=org.bea, envelope=envelope, authority=org.decision)
    envelope.refresh_from_db()
    assert envelope.status == "opened"
    other = services.seal_envelope(actor=org.sue, label="keys 2", seal="A6", secrets=[root],
                                   custodian=org.tom, location="safe 2")
    services.check_envelope(actor=org.tom, envelope=other, intact=False, note="tape cut")
    assert Status.VIOLATED in {f.status for f in controls.envelopes_current()}


def test_the_escrow_check_waits_for_every_envelope(org):
    from django.utils import timezone

    from secman.compliance import services as compliance
    from secman.compliance.models import Occurrence

    compliance.sync_duties(now=timezone.now() - dt.timedelta(days=100))
    compliance.generate_occurrences()
    occurrence = Occurrence.objects.filter(
        duty__control_id="keys.escrow_check", status="open",
        period_start__lte=timezone.now()).order_by("due_at").last()
    envelope = services.seal_envelope(actor=org.sue, label="keys", seal="A6, tape",
                                      secrets=[_secret(org)], custodian=org.bea,
                                      location="safe")
    with pytest.raises(RuleViolation, match="keys: not checked since"):
        compliance.complete_occurrence(actor=org.sam, occurrence=occurrence, note="looked")
    services.check_envelope(actor=org.bea, envelope=envelope, intact=True)
    done = compliance.complete_occurrence(actor=org.sam, occurrence=occurrence,
                                          note="Saw the envelope in Bea's safe, tape intact.")
    assert done.status in ("done", "awaiting_signoff")


def test_reading_a_backup_needs_a_case_or_files_a_dispute_and_must_be_cleaned(org):
    from secman.authority import arbitration

    job = _job(org, "reference")
    made = services.record_set(actor=org.sam, job=job, label="REF", methods=["filesystem"])
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="needs an Arbitration case"):
        services.open_examination(actor=org.sam, backup_set=made, purpose="look",
                                  extracted="/etc", extracted_to="/tmp/x")
    assert Event.objects.count() == before
    emergency = services.open_examination(actor=org.sam, backup_set=made, emergency=True,
                                          purpose="an intrusion", extracted="/var/log",
                                          extracted_to="hop:/srv/x")
    assert emergency.case.status == "filed" and "Emergency examination" in emergency.case.title
    [finding] = controls.examinations_cleaned()
    assert finding.status == Status.DUE_SOON
    arbitration.update_case(actor=org.cora, case=emergency.case, status="running",
                            arbitrator=org.arne, case_manager=org.cora)
    arbitration.update_case(actor=org.arne, case=emergency.case, status="ruled",
                            arbitrator=org.arne, case_manager=org.cora,
                            ruled_on=dt.date.today(), ruling_summary="Allowed.")
    [finding] = controls.examinations_cleaned()
    assert finding.status == Status.VIOLATED
    services.mark_cleaned(actor=org.sam, examination=emergency,
                          cleaning="shredded the volume, deleted the key")
    assert not controls.examinations_cleaned()


def test_user_data_is_kept_as_the_arbitrator_of_the_case_directs(org):
    from secman.authority import arbitration

    case = arbitration.file_dispute(actor=org.pia, title="Account closed",
                                    circumstances="Member 4711 asked to close the account.")
    arbitration.update_case(actor=org.cora, case=case, status="running",
                            arbitrator=org.arne, case_manager=org.cora)
    before = Event.objects.count()
    with pytest.raises(NotAllowed):
        services.record_retention_decision(actor=org.cora, case=case, account="4711",
                                           direction="delete")
    with pytest.raises(RuleViolation, match="a date is given"):
        services.record_retention_decision(actor=org.arne, case=case, account="4711",
                                           direction="retain_until")
    assert Event.objects.count() == before
    later = services.record_retention_decision(
        actor=org.arne, case=case, account="4711", direction="retain_until",
        retain_until=dt.date.today() + dt.timedelta(days=30))
    with pytest.raises(RuleViolation, match="retained until"):
        services.carry_out_retention(actor=org.pim, decision=later, note="deleted")
    now = services.record_retention_decision(actor=org.arne, case=case, account="4712",
                                             direction="delete")
    [due] = controls.retention_carried_out()
    assert due.status == Status.DUE_SOON and "4712" in due.message
    with pytest.raises(NotAllowed):
        services.carry_out_retention(actor=org.aud, decision=now, note="deleted")
    services.carry_out_retention(actor=org.pim, decision=now,
                                 note="account rows and the two backups holding them")
    assert not controls.retention_carried_out()


def test_a_check_sent_without_saying_how_the_seal_was_records_nothing(org, client):
    root = _secret(org)
    envelope = services.seal_envelope(actor=org.sue, label="keys", seal="A6, tape",
                                      secrets=[root], custodian=org.bea, location="safe")
    client.force_login(org.bea.user)
    before = Event.objects.count()
    client.post(f"/backups/envelopes/{envelope.pk}/check/", {"note": "looked"})
    envelope.refresh_from_db()
    assert envelope.status == "sealed" and envelope.last_checked_at is None
    assert Event.objects.count() == before
    client.post(f"/backups/envelopes/{envelope.pk}/check/", {"seal": "intact"})
    envelope.refresh_from_db()
    assert envelope.status == "sealed" and envelope.last_checked_by == org.bea
