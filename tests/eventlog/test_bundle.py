"""Export bundles and the offline verifier an auditor runs on them, without Django and
without a database: `python -m secman.eventlog.verify DIR`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.utils import timezone

from secman.cli import main
from secman.eventlog import bundle, checkpoints, keys, note
from secman.eventlog.models import Checkpoint
from tests.conftest import tamper
from tests.eventlog.test_tampering import add_entries, forge

ROOT = Path(__file__).resolve().parents[2]
NO_WITNESS = ("NOTE no witnessed checkpoint given (--checkpoint FILE): whoever held the "
              "signing key could have rewritten and signed these entries again undetected")
WITHOUT_DJANGO = ("import sys; sys.modules['django'] = None; "
                  "from secman.eventlog.verify import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def auditor(*args: str | Path, django: bool = False) -> tuple[int, str]:
    """Run the verifier as an auditor would, in a Python of its own."""
    command = ([sys.executable, "-m", "secman.eventlog.verify"] if django
               else [sys.executable, "-c", WITHOUT_DJANGO])
    done = subprocess.run([*command, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


def reseal(directory: Path) -> None:
    """What a careful forger does after changing a file: fix its hash in the manifest."""
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    for name in manifest["files"]:
        manifest["files"][name] = sha256((directory / name).read_bytes()).hexdigest()
    path.write_text(json.dumps(manifest))


@pytest.fixture
def exported(org, tmp_path) -> Path:
    add_entries(4)
    checkpoints.write_checkpoint()
    target = tmp_path / "bundle"
    bundle.export(target)
    return target


def test_it_exports_the_whole_log_and_the_auditor_verifies_it_without_django(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    assert (manifest["first"], manifest["last"]) == (1, 38)
    assert manifest["origin"] == django_settings.EVENTLOG_ORIGIN
    assert len((exported / "entries.jsonl").read_text().splitlines()) == 38
    assert (exported / "keys.txt").read_text().splitlines() == keys.verifier_keys()
    code, output = auditor(exported)
    assert (code, output) == (
        0, f"OK entries #1 to #38 of {django_settings.EVENTLOG_ORIGIN} verified\n"
        f"{NO_WITNESS}\n")
    assert auditor(exported, django=True)[0] == 0


def test_it_verifies_with_the_key_the_auditor_pinned(exported):
    (pinned,) = keys.verifier_keys()
    assert auditor(exported, "--key", pinned)[0] == 0


def test_it_exports_a_date_range_that_verifies_against_the_newest_checkpoint(org, tmp_path):
    # Entries from three days: the organisation two days ago, some yesterday, some today.
    today = timezone.now()
    add_entries(5)
    tamper("UPDATE eventlog_event SET recorded_at = %s WHERE seq <= 34",
           [today - dt.timedelta(days=2)])
    tamper("UPDATE eventlog_event SET recorded_at = %s WHERE seq > 34",
           [today - dt.timedelta(days=1)])
    add_entries(3)
    checkpoints.write_checkpoint()
    yesterday = (today - dt.timedelta(days=1)).date()
    target = tmp_path / "yesterday"
    result = CliRunner().invoke(main, ["eventlog", "export", str(target),
                                       "--from", f"{yesterday}", "--to", f"{yesterday}"])
    assert result.exit_code == 0, result.output
    assert "entries #35 to #39 written to" in " ".join(result.output.split())
    proofs = json.loads((target / "proofs.json").read_text())
    assert len(proofs["prefix"]) == bin(34).count("1")
    assert (proofs["consistency"]["first"], proofs["consistency"]["second"]) == (39, 42)
    assert auditor(target) == (
        0, f"OK entries #35 to #39 of {django_settings.EVENTLOG_ORIGIN} verified\n"
        f"{NO_WITNESS}\n")

    # From a day on, to the end.
    since = tmp_path / "since-yesterday"
    bundle.export(since, since=yesterday)
    assert auditor(since)[1].startswith("OK entries #35 to #42 ")

    # A period without entries is said so.
    result = CliRunner().invoke(main, ["eventlog", "export", str(tmp_path / "empty"),
                                       "--from", "2001-01-01", "--to", "2001-01-31"])
    assert result.exit_code == 1
    assert "no entries in that period" in result.output


@pytest.mark.parametrize("name", ["entries.jsonl", "checkpoints.txt", "keys.txt",
                                  "proofs.json"])
def test_it_names_a_missing_file(exported, name):
    (exported / name).unlink()
    assert auditor(exported) == (1, f"FAIL the bundle is missing {name}\n")


def test_it_names_an_edited_file_the_manifest_no_longer_matches(exported):
    path = exported / "entries.jsonl"
    path.write_text(path.read_text().replace("SP 9.1.3", "SP 1.1", 1))
    assert auditor(exported) == (1, "FAIL entries.jsonl differs from its hash in "
                                    "manifest.json\n")


def test_it_names_an_edited_entry_even_with_the_manifest_resealed(exported):
    path = exported / "entries.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace("SP 9.1.3", "SP 1.1")
    path.write_text("".join(lines))
    reseal(exported)
    code, output = auditor(exported)
    assert code == 1
    assert output.splitlines()[0] == "FAIL entry #5: its bytes do not hash to its leaf hash"


def test_it_names_swapped_lines(exported):
    path = exported / "entries.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[7], lines[8] = lines[8], lines[7]
    path.write_text("".join(lines))
    reseal(exported)
    code, output = auditor(exported)
    assert code == 1
    assert "FAIL entry #8 is out of order (it comes after #9)" in output.splitlines()


def test_it_names_a_forged_checkpoint(exported):
    path = exported / "checkpoints.txt"
    newest = Checkpoint.objects.order_by("-tree_size").first()
    path.write_text(path.read_text().replace(newest.note, forge(newest.note, root=bytes(32))))
    reseal(exported)
    body = note.CheckpointBody.parse(note.SignedNote.parse(newest.note).text)
    code, output = auditor(exported)
    assert code == 1
    assert output.splitlines()[0] == (f"FAIL checkpoint at 38 ({body.time}): its signature "
                                      "does not verify (forged or wrong key)")


def test_it_refuses_checkpoints_signed_by_another_key_than_the_pinned_one(exported):
    stranger = Ed25519PrivateKey.generate()
    pinned = note.verifier_key(django_settings.EVENTLOG_ORIGIN,
                               note.raw_public(stranger.public_key()))
    code, output = auditor(exported, "--key", pinned)
    assert code == 1
    assert output.splitlines() == [
        f"FAIL checkpoint at {c.tree_size} ({note.CheckpointBody.parse(note.SignedNote.parse(c.note).text).time}): signed by an unknown key"  # noqa: E501
        for c in Checkpoint.objects.order_by("tree_size")]


def test_it_says_what_is_not_a_bundle(tmp_path):
    assert auditor(tmp_path / "nowhere") == (2, f"{tmp_path / 'nowhere'} is not a directory\n")
    # Nothing to verify is unusable input (2), not a problem found (1).
    assert auditor(tmp_path) == (2, f"the bundle has no manifest.json in {tmp_path}\n")
