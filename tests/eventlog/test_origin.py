"""The log's signing identity (its origin and key) never changes silently: the database
keeps the name the first key was made under, a process with another SECMAN_SITE_URL signs
as the server does, a SECMAN_EVENTLOG_ORIGIN that disagrees is refused, and only
`secman eventlog origin set` renames the log, as an entry (issue 11, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.apps import apps
from django.db import transaction

from secman.cli import main
from secman.core.errors import RuleViolation
from secman.eventlog import keys, note, services
from secman.eventlog.checks import check_origin
from secman.eventlog.models import Checkpoint, Event, LogHead, SigningKey
from secman.eventlog.verification import verify_log
from tests.conftest import secman_command
from tests.eventlog.test_tampering import add_entries

ROOT = Path(__file__).resolve().parents[2]
FIRST = "secman.example.org/eventlog"


@pytest.fixture
def first(org, settings) -> Checkpoint:
    """A log whose first key was made as FIRST (the server's name), checkpointed."""
    assert keys.stored_origin() == settings.EVENTLOG_ORIGIN  # the org's entries fixed it
    with transaction.atomic():
        LogHead.objects.filter(pk=1).update(origin="")
        SigningKey.objects.update(retired_at="2026-01-01T00:00:00Z")
    settings.EVENTLOG_ORIGIN = FIRST
    add_entries(1)
    return services.write_checkpoint()


def origin_of(checkpoint: Checkpoint) -> str:
    return note.CheckpointBody.parse(note.SignedNote.parse(checkpoint.note).text).origin


def test_another_site_url_signs_with_the_stored_name_and_key(first, settings):
    # What a command run without the server's environment sees: another SITE_URL, so
    # another derived name, and no SECMAN_EVENTLOG_ORIGIN.
    settings.EVENTLOG_ORIGIN = "127.0.0.1:9999/eventlog"
    add_entries(1)
    later = services.write_checkpoint()
    assert origin_of(later) == FIRST
    assert later.key == first.key
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    assert keys.origin() == FIRST
    assert check_origin() == []


def test_a_disagreeing_origin_setting_is_refused_and_makes_no_key(first, settings):
    settings.EVENTLOG_ORIGIN, settings.EVENTLOG_ORIGIN_EXPLICIT = "other.example/eventlog", True
    key_count = SigningKey.objects.count()
    add_entries(1)
    with pytest.raises(keys.IdentityError) as refused:
        services.write_checkpoint()
    for words in ("'other.example/eventlog'", f"'{FIRST}'", "secman eventlog origin set"):
        assert words in str(refused.value)
    assert SigningKey.objects.count() == key_count
    [problem] = check_origin()
    assert problem.id == "secman.E007"
    assert FIRST in problem.msg and "other.example/eventlog" in problem.msg
    result = CliRunner().invoke(main, ["eventlog", "checkpoint"])
    assert result.exit_code == 1
    assert "secman.E007" in result.output


def test_the_same_origin_set_explicitly_is_accepted(first, settings):
    settings.EVENTLOG_ORIGIN, settings.EVENTLOG_ORIGIN_EXPLICIT = FIRST, True
    add_entries(1)
    assert services.write_checkpoint().key == first.key
    assert check_origin() == []


def test_the_key_file_signs_under_the_stored_name(first, settings, tmp_path):
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "hsm.pem"
    path.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    settings.EVENTLOG_KEY_FILE = str(path)
    settings.EVENTLOG_ORIGIN = "127.0.0.1:9999/eventlog"
    add_entries(1)
    checkpoint = services.write_checkpoint()
    assert origin_of(checkpoint) == FIRST
    assert checkpoint.key.name == FIRST
    public = note.raw_public(private.public_key())
    assert checkpoint.key.key_id == f"{note.key_id(FIRST, public):08x}"
    settings.EVENTLOG_ORIGIN, settings.EVENTLOG_ORIGIN_EXPLICIT = "other.example/eventlog", True
    add_entries(1)
    with pytest.raises(keys.IdentityError, match=r"other.example/eventlog"):
        services.write_checkpoint()


def test_a_key_whose_file_is_elsewhere_is_an_error_not_a_new_key(first, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "another-data-dir"
    add_entries(1)
    with pytest.raises(keys.IdentityError, match=f"{first.key.key_id}.*SECMAN_DATA_DIR"):
        services.write_checkpoint()
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    # The way out is explicit, and recorded: a rotation needs no old private key.
    old, new = services.rotate_key()
    assert (old, old.retired_at is not None) == (first.key, True)
    assert services.write_checkpoint().key == new


def test_renaming_records_the_old_and_new_name_and_old_checkpoints_still_verify(
        first, settings):
    before = Event.objects.count()
    old, checkpoint = services.change_origin("ca.example.net/log", authority="SM 4.2.2")
    assert old == FIRST
    changed = Event.objects.get(action="eventlog.origin.change")
    assert Event.objects.count() == before + 1
    assert changed.details["old"] == FIRST and changed.details["new"] == "ca.example.net/log"
    assert changed.details["retired"] == [first.key.key_id]
    assert changed.authority == "SM 4.2.2"
    assert origin_of(checkpoint) == "ca.example.net/log"
    assert checkpoint.tree_size == changed.seq
    assert note.CheckpointBody.parse(note.SignedNote.parse(checkpoint.note).text).prev == \
        note.note_hash(Checkpoint.objects.filter(tree_size__lt=checkpoint.tree_size)
                       .order_by("-tree_size").first().note)
    assert keys.stored_origin() == "ca.example.net/log"
    assert verify_log().problems == []
    # A witness's copy from before the rename is still this log's checkpoint.
    assert services.import_checkpoint(first.note, source="mail").consistent
    # A process configured with the new name signs; one with the old one is refused.
    settings.EVENTLOG_ORIGIN, settings.EVENTLOG_ORIGIN_EXPLICIT = "ca.example.net/log", True
    add_entries(1)
    assert services.write_checkpoint().key == checkpoint.key
    settings.EVENTLOG_ORIGIN = FIRST
    assert [p.id for p in check_origin()] == ["secman.E007"]


@pytest.mark.parametrize(("name", "explicit", "words"), [
    ("two words", "", "cannot name the log"),
    ("a+b", "", "cannot name the log"),
    (FIRST, "", "named 'secman.example.org/eventlog' already"),
    ("ca.example.net/log", "elsewhere/eventlog", "set it to 'ca.example.net/log'"),
])
def test_a_refused_rename_writes_nothing(first, settings, name, explicit, words):
    if explicit:
        settings.EVENTLOG_ORIGIN, settings.EVENTLOG_ORIGIN_EXPLICIT = explicit, True
    before = (Event.objects.count(), SigningKey.objects.count(), Checkpoint.objects.count())
    with pytest.raises(RuleViolation, match=words):
        services.change_origin(name, authority="SM 4.2.2")
    assert (Event.objects.count(), SigningKey.objects.count(),
            Checkpoint.objects.count()) == before
    assert keys.stored_origin() == FIRST


def test_the_upgrade_keeps_the_name_the_log_last_signed_as(first):
    from importlib import import_module

    LogHead.objects.filter(pk=1).update(origin="")
    import_module("secman.eventlog.migrations.0006_log_origin").fix_origin(apps, None)
    assert keys.stored_origin() == FIRST


# --- the same with real processes, as an operator meets it ----------------------------------


def secman(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([secman_command(), *args], env={**env, **extra}, cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)


def signer(note_text: str) -> tuple[str, str]:
    """(origin, key id) of a checkpoint note."""
    signed = note.SignedNote.parse(note_text)
    return note.CheckpointBody.parse(signed.text).origin, f"{signed.key_ids()[0]:08x}"


def test_a_command_with_another_site_url_signs_as_the_server(database_env, tmp_path):
    server = {"SECMAN_SITE_URL": "https://secman.example.org"}
    shell = {"SECMAN_SITE_URL": "http://localhost:8123"}
    first = secman(database_env, "eventlog", "checkpoint", **server)
    assert first.returncode == 0, first.stderr
    assert signer(first.stdout)[0] == FIRST

    admin = subprocess.run(
        [secman_command(), "createadmin", "--username", "root", "--name", "Rosa Admin",
         "--email", "root@example.org", "--password-stdin"], input="a-long-passphrase-4-rosa\n",
        env={**database_env, **shell}, cwd=ROOT, capture_output=True, text=True, timeout=180,
        check=False)
    assert admin.returncode == 0, admin.stderr
    later = secman(database_env, "eventlog", "checkpoint", **shell)
    assert later.returncode == 0, later.stderr
    assert signer(later.stdout) == signer(first.stdout)
    exported = secman(database_env, "eventlog", "keys", "export", **shell)
    assert len(exported.stdout.splitlines()) == 1

    # SECMAN_EVENTLOG_ORIGIN naming another log: every command refuses, and says how to
    # rename the log instead; no key is made.
    wrong = {**shell, "SECMAN_EVENTLOG_ORIGIN": "elsewhere.example/eventlog"}
    for args in (("eventlog", "checkpoint"), ("eventlog", "verify"), ("check",)):
        refused = secman(database_env, *args, **wrong)
        assert refused.returncode != 0, args
        said = " ".join((refused.stdout + refused.stderr).split())
        assert "secman.E007" in said
        for words in ("'elsewhere.example/eventlog'", f"'{FIRST}'",
                      "secman eventlog origin set elsewhere.example/eventlog"):
            assert words in said, (args, said)
    exported = secman(database_env, "eventlog", "keys", "export", **shell)
    assert len(exported.stdout.splitlines()) == 1


def test_a_rename_is_recorded_and_every_checkpoint_still_verifies(database_env, tmp_path):
    first = secman(database_env, "eventlog", "checkpoint",
                   SECMAN_SITE_URL="https://secman.example.org")
    assert first.returncode == 0, first.stderr
    renamed = secman(database_env, "eventlog", "origin", "set", "ca.example.net/log",
                     "--authority", "SM 4.2.2", SECMAN_EVENTLOG_ORIGIN="ca.example.net/log")
    assert renamed.returncode == 0, renamed.stderr
    assert "'secman.example.org/eventlog' and is now 'ca.example.net/log'" in renamed.stderr
    shown = secman(database_env, "eventlog", "origin", "show")
    assert shown.stdout == "ca.example.net/log\n"

    verified = secman(database_env, "eventlog", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "the log is intact" in verified.stderr
    bundle = tmp_path / "bundle"
    exported = secman(database_env, "eventlog", "export", str(bundle))
    assert exported.returncode == 0, exported.stderr
    offline = subprocess.run([sys.executable, "-m", "secman.eventlog.verify", str(bundle)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120,
                             check=False)
    assert offline.returncode == 0, offline.stdout
    assert offline.stdout.startswith("OK entries #1 to #1 of ca.example.net/log")
    notes = (bundle / "checkpoints.txt").read_text(encoding="utf-8").split("\n---\n")
    assert [signer(text if text.endswith("\n") else text + "\n")[0] for text in notes] == [
        FIRST, "ca.example.net/log"]
    [line] = (bundle / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(json.loads(line)["canonical"])
    assert entry["action"] == "eventlog.origin.change"
    assert (entry["details"]["old"], entry["details"]["new"]) == (FIRST, "ca.example.net/log")
    assert entry["authority"] == "SM 4.2.2"
