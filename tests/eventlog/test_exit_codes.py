"""Every exit status the two verifiers document, one test each (issue 13, finding 11: an
unreadable manifest gave 1 where the documentation said 2).

The offline verifier (`python -m secman.eventlog.verify DIR`, run here without Django as
an auditor runs it): 0 verified; 1 a problem, named on FAIL lines; 2 unusable input,
nothing verified (not a directory, no readable manifest.json, a --key or --checkpoint that
cannot be read, a wrong command line).

`secman eventlog verify`: 0 intact; 1 a problem found; 2 a --checkpoint file that cannot
be read as a checkpoint, or a wrong command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.eventlog import bundle, checkpoints
from tests.conftest import tamper
from tests.eventlog.test_bundle import auditor


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def exported(org, tmp_path) -> Path:
    checkpoints.write_checkpoint()
    target = tmp_path / "bundle"
    bundle.export(target)
    return target


# --- the offline verifier --------------------------------------------------------------------


def test_offline_0_when_the_bundle_verifies(exported):
    code, output = auditor(exported)
    assert code == 0, output
    assert output.startswith("OK entries #1 to #34 ")


def test_offline_1_when_an_entry_was_changed(exported):
    entries = exported / "entries.jsonl"
    entries.write_text(entries.read_text().replace("SP 9.1.3", "SP 1.1", 1))
    code, output = auditor(exported)
    assert code == 1
    assert output.startswith("FAIL entries.jsonl differs from its hash in manifest.json")


def test_offline_1_when_a_file_is_missing(exported):
    (exported / "proofs.json").unlink()
    assert auditor(exported) == (1, "FAIL the bundle is missing proofs.json\n")


def test_offline_1_when_a_file_of_the_bundle_is_not_text(exported):
    """A file the manifest vouches for (resealed by a forger) that is not UTF-8 is a
    problem found, said as such, not a traceback."""
    (exported / "checkpoints.txt").write_bytes(b"\xff\xfe not text")
    manifest = json.loads((exported / "manifest.json").read_text())
    from hashlib import sha256

    manifest["files"]["checkpoints.txt"] = sha256(b"\xff\xfe not text").hexdigest()
    (exported / "manifest.json").write_text(json.dumps(manifest))
    code, output = auditor(exported)
    assert code == 1
    assert output.startswith("FAIL the bundle cannot be read: 'utf-8' codec can't decode")
    assert "Traceback" not in output


def test_offline_2_when_the_directory_is_not_there(tmp_path):
    assert auditor(tmp_path / "nowhere") == (2, f"{tmp_path / 'nowhere'} is not a directory\n")


def test_offline_2_when_there_is_no_manifest(exported):
    (exported / "manifest.json").unlink()
    assert auditor(exported) == (2, f"the bundle has no manifest.json in {exported}\n")


@pytest.mark.parametrize(("content", "said"), [
    (b"{not json", "manifest.json cannot be read (JSONDecodeError"),
    (b"\xff\xfe\x00", "manifest.json cannot be read (FileRefused: "),
    (b'{"first": 1, "files": {}}', "manifest.json cannot be read (KeyError: 'last')"),
    (b'{"first": "one", "last": 3, "files": {}}', "manifest.json cannot be read (ValueError"),
    (b'{"first": 1, "last": 3, "files": []}', "manifest.json cannot be read (TypeError"),
    (b"[1, 2]", "manifest.json cannot be read (TypeError"),
], ids=["not-json", "not-utf8", "no-last", "bad-number", "files-not-a-map", "a-list"])
def test_offline_2_when_the_manifest_cannot_be_read(exported, content, said):
    """The probe's case: an unreadable manifest gave 1, documented 2."""
    (exported / "manifest.json").write_bytes(content)
    code, output = auditor(exported)
    assert code == 2, output
    assert output.startswith(said)
    assert "FAIL" not in output and "Traceback" not in output


def test_offline_2_when_the_manifest_is_a_directory(exported):
    (exported / "manifest.json").unlink()
    (exported / "manifest.json").mkdir()
    assert auditor(exported)[0] == 2


def test_offline_2_when_a_pinned_key_cannot_be_read(exported):
    code, output = auditor(exported, "--key", "not a key")
    assert code == 2
    assert output.startswith("a verifier key given with --key cannot be read")


def test_offline_2_when_a_witness_checkpoint_cannot_be_read(exported, tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("no checkpoint here\n")
    code, output = auditor(exported, "--checkpoint", junk)
    assert code == 2
    assert output.startswith(f"{junk} cannot be read as a checkpoint")
    assert auditor(exported, "--checkpoint", tmp_path / "absent.txt")[0] == 2


def test_offline_2_on_a_wrong_command_line(exported):
    code, output = auditor(exported, "--no-such-option")
    assert code == 2
    assert "usage:" in output


# --- secman eventlog verify ------------------------------------------------------------------


def verify(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eventlog", "verify", "--no-columns", *map(str, args)])
    return result.exit_code, " ".join(result.output.split())


def test_verify_0_when_the_log_is_intact(org):
    checkpoints.write_checkpoint()
    code, output = verify()
    assert code == 0, output
    assert "the log is intact" in output


def test_verify_1_when_an_entry_was_deleted(org):
    checkpoints.write_checkpoint()
    tamper("DELETE FROM eventlog_event WHERE seq = 6")
    code, output = verify()
    assert code == 1
    assert "entry #6 is missing (the next entry is #7)" in output


def test_verify_1_when_a_checkpoint_held_outside_does_not_match(org, tmp_path):
    kept = checkpoints.write_checkpoint()
    from tests.eventlog.test_tampering import forge

    forged = tmp_path / "forged.txt"
    forged.write_text(forge(kept.note, root=bytes(32)))
    code, output = verify("--checkpoint", forged)
    assert code == 1
    assert "its signature does not verify" in output


@pytest.mark.parametrize("content", [b"no checkpoint\n", b"\xff\xfe\x00"],
                         ids=["not-a-checkpoint", "not-utf8"])
def test_verify_2_when_a_checkpoint_file_cannot_be_read(org, tmp_path, content):
    junk = tmp_path / "junk.txt"
    junk.write_bytes(content)
    code, output = verify("--checkpoint", junk)
    assert code == 2
    assert f"{junk} cannot be read as a checkpoint" in output.replace(" ", " ")


def test_verify_2_on_a_wrong_command_line(org, tmp_path):
    assert verify("--checkpoint", tmp_path / "absent.txt")[0] == 2
    assert verify("--no-such-option")[0] == 2


def test_the_offline_verifier_refuses_a_device_as_a_checkpoint_and_deep_json_as_a_manifest(
        tmp_path):
    """Hostile input to the offline verifier: unusable input (2), never a traceback or a
    read without end."""
    import subprocess
    import sys

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "manifest.json").write_text("[" * 200_000)
    run = subprocess.run([sys.executable, "-m", "secman.eventlog.verify", str(bundle)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2, run.stderr
    assert "manifest.json cannot be read (RecursionError" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    (bundle / "manifest.json").write_text('{"first": 1, "last": 1, "files": {}}')
    run = subprocess.run([sys.executable, "-m", "secman.eventlog.verify", str(bundle),
                          "--checkpoint", "/dev/zero"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2, run.stderr
    assert "not a regular file" in " ".join((run.stderr + run.stdout).split())
