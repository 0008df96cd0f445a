"""Disaster recovery (SP/SM 6): processes and the plan under Board decisions, exercises
timed step by step against the recovery time objective (SM 6.2: 27 hours for revocation),
and the Key Persons List exported encrypted to each key person's real GnuPG key."""

from __future__ import annotations

import datetime as dt

import gnupg
import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.backups import openpgp
from secman.cli import main
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.people import services as people
from secman.recovery import controls, services
from secman.recovery.models import BusinessProcess, Distribution
from tests.backups.conftest import PASSPHRASE, keyring  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def _revocation(org) -> BusinessProcess:
    return services.record_process(
        actor=org.bea, name="Revocation (OCSP/CRL)", description="OCSP responder and CRLs",
        core=True, max_outage_hours=48, rto_hours=27, authority=org.decision)


def _exercise(org, process, hours: list[float]):
    """An exercise that started sum(hours) ago, each step done `hours[n]` after the last."""
    start = timezone.now() - dt.timedelta(hours=sum(hours) + 1)
    exercise = services.start_exercise(actor=org.sam, processes=[process],
                                       scenario="the hosting site burnt down",
                                       started_at=start)
    at = start
    for step, took in zip(exercise.steps.order_by("position"), hours, strict=True):
        at += dt.timedelta(hours=took)
        services.complete_exercise_step(actor=org.sam, step=step, at=at, note=f"{took} h")
    exercise.refresh_from_db()
    return exercise


def test_processes_and_the_plan_are_the_boards_decisions(org):
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="Board"):
        services.record_process(actor=org.bea, name="Revocation", description="d", core=True,
                                max_outage_hours=48, rto_hours=27, authority="SM 6.2")
    with pytest.raises(RuleViolation, match="at most the maximum"):
        services.record_process(actor=org.bea, name="Revocation", description="d", core=True,
                                max_outage_hours=20, rto_hours=27, authority=org.decision)
    with pytest.raises(NotAllowed):
        services.record_process(actor=org.sam, name="Revocation", description="d", core=True,
                                max_outage_hours=48, rto_hours=27, authority=org.decision)
    assert Event.objects.count() == before and not BusinessProcess.objects.exists()
    assert [f.subject for f in controls.core_processes()] == ["processes"]
    _revocation(org)
    assert controls.core_processes() == []
    with pytest.raises(RuleViolation, match="no recovery plan"):
        services.start_exercise(actor=org.sam, processes=BusinessProcess.objects.all(),
                                scenario="fire")
    plan = services.adopt_plan(actor=org.bea, steps=services.SM_PLAN, authority=org.decision)
    assert plan.version == 1 and plan.steps[0].startswith("Notification")
    with pytest.raises(RuleViolation, match="has these steps already"):
        services.adopt_plan(actor=org.bea, steps=services.SM_PLAN, authority=org.decision)


def test_an_exercise_is_timed_against_27_hours(org):
    process = _revocation(org)
    services.adopt_plan(actor=org.bea, steps=services.SM_PLAN, authority=org.decision)
    assert [f.status for f in controls.exercised()] == [Status.OVERDUE]  # never exercised

    slow = _exercise(org, process, [1, 3, 20, 6])  # 30 hours
    assert slow.hours == pytest.approx(30)
    assert [(o.met, round(o.hours)) for o in services.outcomes(slow)] == [(False, 30)]
    finding = controls.exercised()[0]
    assert finding.status == Status.VIOLATED and "30.0 h" in finding.message
    last = Event.objects.filter(action="recovery.exercise.step").order_by("-seq")[0]
    assert last.details["finished"] == {"Revocation (OCSP/CRL)": {
        "hours": 30.0, "rto_hours": 27, "met": False}}

    fast = _exercise(org, process, [0.5, 2, 12, 4.5])  # 19 hours
    assert [o.met for o in services.outcomes(fast)] == [True]
    assert controls.exercised() == []


def test_steps_are_done_in_order_and_never_in_the_future(org):
    process = _revocation(org)
    services.adopt_plan(actor=org.bea, steps=services.SM_PLAN, authority=org.decision)
    exercise = services.start_exercise(actor=org.sam, processes=[process], scenario="flood",
                                       started_at=timezone.now() - dt.timedelta(hours=2))
    first, second = exercise.steps.order_by("position")[:2]
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="plan's order"):
        services.complete_exercise_step(actor=org.sam, step=second)
    with pytest.raises(RuleViolation, match="future"):
        services.complete_exercise_step(actor=org.sam, step=first,
                                        at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(RuleViolation, match="before the step before"):
        services.complete_exercise_step(actor=org.sam, step=first,
                                        at=timezone.now() - dt.timedelta(hours=3))
    with pytest.raises(NotAllowed):
        services.complete_exercise_step(actor=org.pim, step=first)
    assert Event.objects.count() == before
    services.complete_exercise_step(actor=org.sam, step=first)
    exercise.refresh_from_db()
    assert exercise.finished_at is None


def _key_persons(org, keyring) -> None:  # noqa: F811
    gpg = gnupg.GPG(gnupghome=keyring.home)
    people.set_openpgp_key(actor=org.bea, person=org.bea,
                           armoured=gpg.export_keys(keyring.fingerprint))
    people.set_openpgp_key(actor=org.arne, person=org.arne,
                           armoured=gpg.export_keys(keyring.other))
    services.designate_key_person(actor=org.bea, person=org.bea, role="Board, convenes",
                                  authority=org.decision)
    services.designate_key_person(actor=org.bea, person=org.arne, role="oversight",
                                  authority=org.decision)


def test_the_key_persons_list_decrypts_with_each_key_persons_key(org, keyring,  # noqa: F811
                                                                 tmp_path, settings):
    _revocation(org)
    services.adopt_plan(actor=org.bea, steps=services.SM_PLAN, authority=org.decision)
    _key_persons(org, keyring)
    assert {f.subject for f in controls.key_persons_distributed()} == {"distribution"}
    out = tmp_path / "out"
    out.mkdir()
    made = services.export_key_persons(actor=org.bea, directory=out)
    text_file, pdf_file = made.paths
    gpg = gnupg.GPG(gnupghome=keyring.home)
    text = gpg.decrypt_file(str(text_file), passphrase=PASSPHRASE)
    assert text.ok, text.stderr
    plain = str(text)
    assert "Bea - Board, convenes" in plain and "+00 555 0000" in plain
    assert "Revocation (OCSP/CRL): recovery time objective 27 h" in plain
    assert "1. Notification goes to the Key Persons List" in plain
    # Encrypted to both keys' encryption subkeys: each key person reads it with their own.
    settings.BACKUP_GNUPGHOME = keyring.home
    assert openpgp.recipients_of(text_file) == openpgp.encryption_key_ids(
        [keyring.fingerprint, keyring.other])
    pdf = gpg.decrypt_file(str(pdf_file), passphrase=PASSPHRASE)
    assert pdf.ok and pdf.data.startswith(b"%PDF")
    assert controls.key_persons_distributed() == []
    entry = Event.objects.get(action="recovery.key_persons.export")
    assert entry.details["people"] == ["Arne", "Bea"]
    assert "+00 555" not in str(entry.details)  # the contents stay out of the log

    # A contact change makes the copies stale.
    people.update_person(actor=org.arne, person=org.arne, authority="SP 9.1.4.3",
                         phone="+00 555 9999")
    assert [f.status for f in controls.key_persons_distributed()] == [Status.OVERDUE]


def test_the_export_is_refused_while_a_key_person_has_no_key(org, keyring, tmp_path):  # noqa: F811
    _key_persons(org, keyring)
    services.designate_key_person(actor=org.bea, person=org.sam, role="SA team leader",
                                  authority=org.decision)
    assert any(f.status == Status.VIOLATED for f in controls.key_persons_distributed())
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuleViolation, match="no OpenPGP key is recorded for Sam"):
        services.export_key_persons(actor=org.bea, directory=out)
    with pytest.raises(NotAllowed):
        services.export_key_persons(actor=org.sam, directory=out)
    assert list(out.iterdir()) == [] and not Distribution.objects.exists()


def test_the_command_exports_the_list(org, keyring, tmp_path):  # noqa: F811
    _key_persons(org, keyring)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["keypersons", "export", str(out), "--as", "bea"])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".asc", ".gpg"]
    assert Distribution.objects.get().made_by == org.bea


def test_a_hostile_key_is_refused_and_changes_nothing(org):
    before = Event.objects.count()
    for text in ("", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n"
                     "-----END PGP PUBLIC KEY BLOCK-----", "\x00" * 100,
                 "-----BEGIN PGP PRIVATE KEY BLOCK-----"):
        with pytest.raises(RuleViolation):
            people.set_openpgp_key(actor=org.sam, person=org.sam, armoured=text)
    assert Event.objects.count() == before
