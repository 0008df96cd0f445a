"""Copies of checkpoints outside secman: mailed to the witnesses when they are signed, and
brought back later to show that the log has only grown since (issue 4, publication)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from secman.cli import main
from secman.eventlog import checkpoints, note, signing
from secman.eventlog.models import Checkpoint, Event, LogHead, WitnessCheckpoint
from tests.conftest import free_port, tamper
from tests.eventlog.test_tampering import add_entries, forge, rebuild_log, rewrite_authority_of


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def smtp(smtp, settings):
    """The shared aiosmtpd inbox, with the witnesses' list configured."""
    settings.EVENTLOG_WITNESSES = ["sysadmins@ca.example.org", "board@ca.example.org"]
    return smtp


@pytest.fixture
def kept(org) -> Checkpoint:
    """A checkpoint over the organisation's log, then five more entries."""
    checkpoint = checkpoints.write_checkpoint()
    add_entries(5)
    return checkpoint


# --- mailing ------------------------------------------------------------------------------


def test_it_mails_each_checkpoint_to_the_witnesses_after_commit(
        org, smtp, django_capture_on_commit_callbacks):
    add_entries(2)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoints.write_checkpoint()
        assert smtp.messages == []  # not before the checkpoint is committed
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert sorted(recipients) == ["board@ca.example.org", "sysadmins@ca.example.org"]
    assert message["Subject"] == "[secman] Event Log checkpoint at 36"
    body = message.get_payload(decode=True).decode()
    assert checkpoint.note.replace("\n", "\r\n") in body  # as mail carries it
    assert "secman eventlog import-checkpoint FILE" in body
    checkpoint.refresh_from_db()
    assert checkpoint.emailed_at is not None
    # What a witness kept, as the mail brought it, checks out later.
    add_entries(1)
    start = body.index(checkpoint.note.split("\n", 1)[0])
    witness = checkpoints.import_checkpoint(body[start:], source="mailbox of sysadmins")
    assert witness.consistent, witness.message


def test_it_mails_the_checkpoints_appends_sign_on_their_own(
        org, smtp, settings, django_capture_on_commit_callbacks):
    settings.EVENTLOG_CHECKPOINT_EVERY = 3
    checkpoints.write_checkpoint()
    with django_capture_on_commit_callbacks(execute=True):
        add_entries(7)  # one transaction: mailed when it commits
    assert [m["Subject"] for _, m in smtp.messages] == [
        "[secman] Event Log checkpoint at 37", "[secman] Event Log checkpoint at 40"]


def test_it_mails_nothing_for_a_checkpoint_that_was_rolled_back(
        org, smtp, django_capture_on_commit_callbacks):
    add_entries(1)
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        checkpoints.write_checkpoint()
        raise RuntimeError("the caller fails after signing")
    assert callbacks == [] and smtp.messages == []


def test_the_witnesses_get_at_most_one_checkpoint_an_hour_and_then_the_newest(
        org, smtp, settings, django_capture_on_commit_callbacks, monkeypatch):
    # Checkpoints come within a minute of new entries; a mail each would bury them.
    assert settings.EVENTLOG_WITNESS_MAIL_SECONDS == 3600
    monkeypatch.setattr(signing, "_retry_after", 0.0)  # no failed mail of another test
    with django_capture_on_commit_callbacks(execute=True):
        first = checkpoints.write_checkpoint()
    add_entries(2)
    with django_capture_on_commit_callbacks(execute=True):
        second = checkpoints.write_checkpoint()
    add_entries(1)
    with django_capture_on_commit_callbacks(execute=True):
        newest = checkpoints.write_checkpoint()
    assert [m["Subject"] for _, m in smtp.messages] == [
        f"[secman] Event Log checkpoint at {first.tree_size}"]
    assert signing.mail_witnesses_if_due() is False  # not due yet: nothing more goes out
    # An hour later the checkpoint loop mails the newest; the one in between never goes.
    Checkpoint.objects.filter(pk=first.pk).update(
        emailed_at=timezone.now() - dt.timedelta(seconds=3600))
    assert signing.mail_witnesses_if_due() is True
    assert [m["Subject"] for _, m in smtp.messages][1:] == [
        f"[secman] Event Log checkpoint at {newest.tree_size}"]
    assert signing.mail_witnesses_if_due() is False  # they have the newest
    second.refresh_from_db()
    assert second.emailed_at is None


def test_it_keeps_the_checkpoint_when_the_mail_server_is_down(
        org, settings, django_capture_on_commit_callbacks, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EVENTLOG_WITNESSES = ["sysadmins@ca.example.org"]
    add_entries(1)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoints.write_checkpoint()
    checkpoint.refresh_from_db()
    assert checkpoint.emailed_at is None
    assert "could not mail the checkpoint at 35 to the witnesses" in caplog.text


# --- importing a kept checkpoint -----------------------------------------------------------


def test_it_finds_an_older_checkpoint_consistent(kept):
    witness = checkpoints.import_checkpoint(kept.note, source="sysadmins mailbox")
    assert (witness.consistent, witness.tree_size) == (True, 34)
    assert witness.message == "consistent: the log has grown from 34 to 39 entries without changing"
    assert WitnessCheckpoint.objects.get().source == "sysadmins mailbox"


def test_it_finds_a_checkpoint_inconsistent_after_the_log_was_rebuilt(kept):
    rebuild_log(rewrite_authority_of(5, "SP 1.1"))
    witness = checkpoints.import_checkpoint(kept.note, source="a witness")
    assert not witness.consistent
    assert witness.message == ("the first 34 entries no longer hash to its root: the log "
                               "was changed after it was published")


def test_it_finds_a_checkpoint_inconsistent_after_the_tail_was_cut(kept):
    later = checkpoints.write_checkpoint()
    tamper("DELETE FROM eventlog_event WHERE seq > 35")
    LogHead.objects.filter(pk=1).update(seq=35, head_hash=Event.objects.get(seq=35).leaf_hash)
    witness = checkpoints.import_checkpoint(later.note, source="a witness")
    assert (witness.consistent, witness.message) == (
        False, "it covers 39 entries but the log has only 35: entries were removed")


def test_it_refuses_a_forged_checkpoint(kept):
    forged = forge(kept.note, root=bytes(32))
    witness = checkpoints.import_checkpoint(forged, source="someone")
    assert (witness.consistent, witness.message) == (
        False, "its signature does not verify with any of secman's keys")


def test_it_says_a_checkpoint_of_another_log_is_for_another_log(kept):
    other_key = Ed25519PrivateKey.generate()
    body = note.CheckpointBody("other-ca.example.net/eventlog", 3, bytes(32),
                               "2026-01-01T00:00:00Z", None)
    other = note.sign(body.text(), "other-ca.example.net/eventlog", other_key)
    witness = checkpoints.import_checkpoint(other, source="the wrong folder")
    assert (witness.consistent, witness.message) == (
        False, "it is for another log (other-ca.example.net/eventlog)")


def test_it_refuses_text_that_is_no_checkpoint(kept):
    with pytest.raises(ValueError, match=r"^not a checkpoint: "):
        checkpoints.import_checkpoint("hello\n", source="x")
    assert not WitnessCheckpoint.objects.exists()


def test_it_imports_a_checkpoint_file_on_the_command_line(kept, tmp_path):
    path = tmp_path / "checkpoint-34.txt"
    path.write_text(kept.note, encoding="utf-8")
    result = CliRunner().invoke(main, ["eventlog", "import-checkpoint", str(path)])
    assert result.exit_code == 0, result.output
    assert "consistent: the log has grown from 34 to 39 entries without changing" in \
        " ".join(result.output.split())
    assert WitnessCheckpoint.objects.get().source == str(path)

    path.write_text(forge(kept.note, size=30), encoding="utf-8")
    result = CliRunner().invoke(main, ["eventlog", "import-checkpoint", str(path)])
    assert result.exit_code == 1
    assert "its signature does not verify with any of secman's keys" in \
        " ".join(result.output.split())

    kept_copies = WitnessCheckpoint.objects.count()
    path.write_text("not a checkpoint at all\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eventlog", "import-checkpoint", str(path)])
    assert result.exit_code == 2
    assert "cannot be read as a checkpoint" in " ".join(result.output.split())
    assert WitnessCheckpoint.objects.count() == kept_copies


def test_it_imports_a_checkpoint_through_the_api(kept, org, settings):
    settings.EVENTLOG_WITNESSES = [org.aud.email]  # an auditor the checkpoints are mailed to
    client = APIClient()
    client.force_login(org.aud.user)  # brings back the copy they kept
    response = client.post("/api/eventlog/witness/", {"note": kept.note, "source": "auditor"},
                           format="json")
    assert response.status_code == 201
    assert response.json() == {
        "consistent": True, "tree_size": 34,
        "message": "consistent: the log has grown from 34 to 39 entries without changing"}

    rebuild_log(rewrite_authority_of(5, "SP 1.1"))
    response = client.post("/api/eventlog/witness/", {"note": kept.note, "source": "auditor"},
                           format="json")
    assert response.status_code == 201
    assert response.json()["consistent"] is False
    assert "the log was changed after it was published" in response.json()["message"]

    response = client.post("/api/eventlog/witness/", {"note": "junk\n", "source": "auditor"},
                           format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("not a checkpoint: ")
    assert WitnessCheckpoint.objects.count() == 2
