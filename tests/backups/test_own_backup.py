"""secman's own backup and restore, as an operator runs them: `secman backup create`
on a server's data directory and database, `secman backup restore` into a new one (a new
PostgreSQL database on the PostgreSQL run), then `secman eventlog verify`. And what must
be refused without restoring anything."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from secman.backups import own, services
from secman.eventlog.models import Event
from tests.backups.conftest import PASSPHRASE
from tests.conftest import ROOT, database_environment, secman_command

pytestmark = pytest.mark.django_db


def _secman(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([secman_command(), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _restore(env: dict[str, str], archive: Path, passphrase: Path,
             ok: bool = True) -> subprocess.CompletedProcess:
    return _secman(env, "backup", "restore", str(archive), "--passphrase-file",
                   str(passphrase), ok=ok)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_backup_restores_into_a_new_server_and_its_log_verifies(kind, keyring, tmp_path):
    source_dir, target_dir, other_dir = (tmp_path / "source", tmp_path / "target",
                                         tmp_path / "other")
    for directory in (source_dir, target_dir, other_dir):
        directory.mkdir()
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    gpg_env = {"SECMAN_BACKUP_GNUPGHOME": keyring.home,
               "SECMAN_BACKUP_RECIPIENTS": keyring.fingerprint}
    with database_environment(kind, source_dir) as source:
        source.update(gpg_env)
        # Entries and a checkpoint signed with a key in the data directory, and an
        # evidence file: what the backup must carry.
        _secman(source, "eventlog", "checkpoint")
        evidence = source_dir / "evidence" / "ab" / ("ab" + "0" * 62)
        evidence.parent.mkdir(parents=True)
        evidence.write_bytes(b"the report of the quarterly escrow check")
        source_entries = _secman(source, "eventlog", "verify", "--json").stdout
        archive = tmp_path / "secman.tar.gpg"
        made = _secman(source, "backup", "create", str(archive))
        assert "encrypted to 1 recipient" in " ".join(made.stderr.split())
        data = archive.read_bytes()
        # Recorded in the source's Event Log with the archive's SHA-256 and recipient.
        recorded = _secman(source, "shell", "-c", (
            "from secman.eventlog.models import Event; "
            "e = Event.objects.get(action='backup.own_created'); "
            "print(e.details['sha256'], ','.join(e.details['recipients']))")
                            ).stdout.strip().splitlines()[-1].split()
        assert recorded == [hashlib.sha256(data).hexdigest(), keyring.fingerprint]
        assert b"escrow check" not in data and data[:1] != b"\x1f"  # no plain text, no tar
        listed = subprocess.run(["gpg", "--homedir", keyring.home, "--list-packets",
                                 "--batch", "--pinentry-mode", "cancel", str(archive)],
                                capture_output=True, text=True)
        assert ":pubkey enc packet:" in listed.stdout

        with database_environment(kind, target_dir) as target:
            target.update(gpg_env)
            # The restore wants an empty data directory and database: the migrated one
            # from database_environment is neither.
            refused = _restore(target, archive, passphrase, ok=False)
            assert refused.returncode == 1
            said = " ".join(refused.stderr.split())
            assert "not an empty data directory" in said or "is not empty" in said
        empty = _empty_environment(kind, target_dir, gpg_env)
        try:
            # A wrong passphrase: named, nothing restored.
            wrong = tmp_path / "wrong"
            wrong.write_text("not it\n")
            refused = _restore(empty.env, archive, wrong, ok=False)
            assert "the passphrase is wrong" in " ".join(refused.stderr.split())
            assert _data_files(target_dir) == []
            # A damaged archive: named, nothing restored.
            damaged = tmp_path / "damaged.tar.gpg"
            damaged.write_bytes(data[:len(data) // 2])
            refused = _restore(empty.env, damaged, passphrase, ok=False)
            assert "could not be decrypted" in " ".join(refused.stderr.split())
            assert refused.returncode == 1
            assert _data_files(target_dir) == []
            # Another installation's archive: this server's Event Log has another name.
            refused = _restore({**empty.env, "SECMAN_EVENTLOG_ORIGIN": "ca.example.net/log"},
                               archive, passphrase, ok=False)
            assert "this server's is 'ca.example.net/log'" in " ".join(refused.stderr.split())
            assert _data_files(target_dir) == []

            restored = _restore(empty.env, archive, passphrase)
            assert "secman eventlog verify" in restored.stderr
            verified = _secman(empty.env, "eventlog", "verify", "--json").stdout
            assert '"ok": true' in verified
            assert _entries(verified) == _entries(source_entries)
            copy = target_dir / "evidence" / "ab" / ("ab" + "0" * 62)
            assert copy.read_bytes() == evidence.read_bytes()
            # The restored server signs on with the restored key.
            _secman(empty.env, "eventlog", "checkpoint")
            assert '"ok": true' in _secman(empty.env, "eventlog", "verify", "--json").stdout
        finally:
            empty.close()


def _entries(verify_json: str) -> int:
    import json

    return json.loads(verify_json)["entries"]


def _data_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()
                  if p.name not in own.FRESH and not p.name.startswith(".secman-restore"))


class _Empty:
    def __init__(self, env: dict[str, str], drop: str = "") -> None:
        self.env, self.drop = env, drop

    def close(self) -> None:
        if self.drop:
            from tests.conftest import _drop_database, postgres_url

            server = postgres_url().rsplit("/", 1)[0] + "/postgres"
            _drop_database(server, self.drop)


def _empty_environment(kind: str, directory: Path, extra: dict[str, str]) -> _Empty:
    """A new data directory with nothing in it, and on PostgreSQL a new empty database."""
    import uuid

    from tests.conftest import _process_env, postgres_url

    for path in directory.iterdir():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    env = {**_process_env(directory), **extra}
    if kind == "sqlite":
        return _Empty(env)
    import psycopg

    name = f"secman_restore_{uuid.uuid4().hex[:12]}"
    base = postgres_url()
    server = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{name}"
    return _Empty(env, drop=name)


def test_a_backup_without_recipients_is_refused_and_the_failure_recorded(org, settings,
                                                                        tmp_path):
    settings.BACKUP_RECIPIENTS = []
    before = Event.objects.count()
    with pytest.raises(own.BackupError, match="SECMAN_BACKUP_RECIPIENTS"):
        services.create_own_backup(tmp_path / "b.tar.gpg")
    assert not (tmp_path / "b.tar.gpg").exists()
    failed = Event.objects.order_by("-seq").first()
    assert Event.objects.count() == before + 1 and failed.action == "backup.own_failed"


def test_a_recipient_missing_from_the_keyring_is_named(org, backup_settings, tmp_path):
    backup_settings.BACKUP_RECIPIENTS = ["0" * 40]
    with pytest.raises(own.BackupError, match=r"0{40} are not in GnuPG's keyring"):
        services.create_own_backup(tmp_path / "b.tar.gpg")
    assert list(tmp_path.glob("b.tar.gpg*")) == []


def test_only_sysadmins_make_a_backup(org, backup_settings, tmp_path):
    from secman.core.errors import NotAllowed

    before = Event.objects.count()
    with pytest.raises(NotAllowed):
        services.create_own_backup(tmp_path / "b.tar.gpg", actor=org.people["pia"])
    assert Event.objects.count() == before and not (tmp_path / "b.tar.gpg").exists()
