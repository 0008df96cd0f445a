"""`secman check --deploy` says where the Event Log's signing key sits and who can read
it (secman.W010-W012, secman.eventlog.checks): whoever holds the key and the database can
rewrite the log and sign it again (docs/eventlog.md, "What is and is not detected")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core import checks

from secman.eventlog import checkpoints
from secman.eventlog.checks import check_signing_key, key_problems
from tests.conftest import ROOT, secman_command


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def ids() -> list[str]:
    return sorted(problem.id for problem in check_signing_key())


def outside_key(tmp_path: Path, mode: int = 0o600) -> Path:
    """A key file the operator keeps outside the data directory."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    path = tmp_path / "keys" / "eventlog.pem"
    path.parent.mkdir()
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(mode)
    return path


def test_the_default_key_in_the_data_directory_is_warned_about(org, settings):
    checkpoints.write_checkpoint()  # the key exists now, generated into the data dir
    [key] = list((settings.DATA_DIR / "eventlog-keys").glob("*.pem"))
    problems = {p.id: p for p in check_signing_key()}
    assert problems["secman.W010"].level == checks.WARNING
    assert f"signing key {key} sits in the data directory" in problems["secman.W010"].msg
    assert "SECMAN_EVENTLOG_KEY_FILE" in problems["secman.W010"].hint


def test_a_key_not_yet_generated_is_warned_about_where_it_will_be(settings):
    assert ids() == ["secman.W010"]
    [problem] = check_signing_key()
    assert "will be generated in the data directory" in problem.msg


def test_a_key_outside_the_data_directory_readable_by_its_user_only_passes(settings, tmp_path):
    settings.EVENTLOG_KEY_FILE = str(outside_key(tmp_path))
    assert ids() == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_readable_by_group_or_others_is_warned_about(settings, tmp_path, mode):
    settings.EVENTLOG_KEY_FILE = str(outside_key(tmp_path, mode))
    [problem] = check_signing_key()
    assert problem.id == "secman.W011"
    assert f"(mode {mode:04o})" in problem.msg
    assert problem.hint.startswith(f"chmod 600 {settings.EVENTLOG_KEY_FILE}")


def test_sqlite_a_key_owned_by_the_database_files_owner_is_warned_about(settings, tmp_path):
    database = tmp_path / "secman.sqlite3"
    database.write_bytes(b"")
    key = outside_key(tmp_path)
    [problem] = key_problems([key], database)
    assert problem.id == "secman.W012"
    assert f"same owner (uid {os.getuid()}) as the database file {database}" in problem.msg
    assert "only checkpoints held outside secman detect a rewrite" in problem.hint
    assert key_problems([key], None) == []  # PostgreSQL: no database file to compare
    if os.geteuid() == 0:  # given to another user, the key no longer shares the owner
        os.chown(key, 65534, 65534)
        assert key_problems([key], database) == []


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="the deploy check below runs on the test's SQLite settings")
def test_secman_check_deploy_shows_the_warnings(settings, tmp_path):
    """The real command, as an operator runs it, on a data directory with a key in it."""
    data = tmp_path / "deploy"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SECMAN_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    data.mkdir()
    subprocess.run([secman_command(), "migrate", "-v", "0"], env=env, check=True, cwd=ROOT,
                   timeout=180)
    subprocess.run([secman_command(), "eventlog", "checkpoint"], env=env, check=True,
                   cwd=ROOT, timeout=60, capture_output=True)
    done = subprocess.run([secman_command(), "check", "--deploy"], env=env, cwd=ROOT,
                          timeout=120, capture_output=True, text=True)
    said = done.stdout + done.stderr
    assert "secman.W010" in said and "secman.W012" in said, said
    assert "secman.W011" not in said  # generated with mode 0600
    # Without --deploy they are not shown.
    plain = subprocess.run([secman_command(), "check"], env=env, cwd=ROOT, timeout=120,
                           capture_output=True, text=True)
    assert "secman.W010" not in plain.stdout + plain.stderr


def test_the_check_is_registered_for_deploy_only(settings):
    found = [m.id for m in checks.run_checks(tags=[checks.Tags.security],
                                             include_deployment_checks=True)]
    assert "secman.W010" in found
    assert "secman.W010" not in [m.id for m in checks.run_checks(tags=[checks.Tags.security])]

