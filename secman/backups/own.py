"""secman's own backup and restore (SP 4.3 applies to secman as to any critical system).

`create` writes one file, an OpenPGP message to the configured recipients
(SECMAN_BACKUP_RECIPIENTS) holding a tar archive of:

    manifest.json       format, origin, database vendor, time, the Event Log's size,
                        and the SHA-256 of every other file
    eventlog-bundle/    the Event Log export bundle (verifiable offline on its own)
    database.sqlite3    SQLite's online backup (a consistent copy while secman runs), or
    database.pgdump     pg_dump's custom format (one consistent snapshot)
    evidence/           the uploaded evidence files (write-once, named by their SHA-256)
    eventlog-keys/      the Event Log's signing keys, so the restored server signs on
    secret_key          Django's secret key (sessions, password-reset links)

The bundle is exported before the database is copied and the evidence files after: the
log only grows and evidence files are never changed, so the copied database holds every
entry of the bundle, and every evidence file its rows name is in the archive.

`restore` takes such a file into an empty data directory (and, on PostgreSQL, an empty
database): it decrypts, checks every file against the manifest and the manifest against
this server (its origin), and only then puts the files and the database in place;
whatever goes wrong, nothing is left half restored. The Event Log is then verified.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gnupg
from django.conf import settings
from django.db import connection

from secman.eventlog import bundle, keys
from secman.eventlog.proofs import tree_size
from secman.files import sha256_of

FORMAT = "secman-backup/1"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# What a fresh data directory may hold before a restore: secman writes its secret key
# when it starts, and the restore replaces it.
FRESH = {"secret_key"}
# The directories of the data directory that a backup holds.
DIRECTORIES = ("evidence", "eventlog-keys")

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """The backup or restore did not happen; the message says why and what to do.
    Nothing was written (a partial archive or restore is removed)."""


def gpg() -> gnupg.GPG:
    try:
        return gnupg.GPG(gnupghome=settings.BACKUP_GNUPGHOME or None)
    except (OSError, ValueError) as exc:
        raise BackupError(f"GnuPG cannot be started: {exc} (install Debian's gnupg; "
                          "SECMAN_BACKUP_GNUPGHOME names its home directory)") from None


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def _pg_env() -> dict[str, str]:
    """libpq's environment for pg_dump and pg_restore: the password never on a command
    line (where `ps` would show it)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        # pg_dump and pg_restore with paths secman chose; no shell.
        done = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                              check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed ({what}): install Debian's "
                          "postgresql-client") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({command[0]} exit {done.returncode}): "
                          f"{done.stderr.strip()[-500:]}")


def _recipients(keyring: gnupg.GPG) -> list[str]:
    wanted = list(settings.BACKUP_RECIPIENTS)
    if not wanted:
        raise BackupError("no recipients: set SECMAN_BACKUP_RECIPIENTS to the fingerprints "
                          "of the OpenPGP keys the backup is encrypted to (docs/backups.md)")
    known = {key["fingerprint"].upper() for key in keyring.list_keys()}
    missing = [fp for fp in wanted if fp not in known]
    if missing:
        raise BackupError(f"the recipient key(s) {', '.join(missing)} are not in GnuPG's "
                          f"keyring ({settings.BACKUP_GNUPGHOME or '~/.gnupg'}): import "
                          "the public keys first (gpg --import)")
    return wanted


@dataclass
class Created:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]


def create(output: Path, *, progress: Progress = lambda step: None) -> Created:
    """Write secman's backup to `output` (which must not exist), encrypted to the
    configured recipients. The caller records it (services.create_own_backup). The
    plain copy exists only during the run, in a temporary directory of mode 0700 beside
    `output`."""
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} exists: give a new file name")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a directory")
    keyring = gpg()
    recipients = _recipients(keyring)
    data = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix=".secman-backup-", dir=output.parent) as work:
        stage = Path(work) / "secman-backup"
        stage.mkdir(mode=0o700)
        progress("Exporting the Event Log bundle")
        exported = bundle.export(stage / "eventlog-bundle")
        progress("Copying the database")
        vendor = connection.vendor
        if vendor == "sqlite":
            # Through Django's own connection: one consistent read of the database as this
            # process sees it (another connection would wait on this one's locks).
            connection.ensure_connection()
            _sqlite_copy(connection.connection, stage / SQLITE_FILE)
        elif vendor == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  "--file", str(stage / PG_FILE)], "pg_dump of secman's database", _pg_env())
        else:
            raise BackupError(f"secman backs up SQLite and PostgreSQL, not {vendor}")
        progress("Copying the evidence files and keys")
        for name in DIRECTORIES:
            if (data / name).is_dir():
                shutil.copytree(data / name, stage / name)
        if (data / "secret_key").is_file():
            shutil.copy2(data / "secret_key", stage / "secret_key")
        manifest = {
            "format": FORMAT, "origin": keys.origin(), "database": vendor,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "recipients": recipients,
            "eventlog": {"entries": tree_size(), "bundle_last": exported["last"]},
            "files": {str(p.relative_to(stage)): sha256_of(p) for p in _files(stage)},
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True),
                                             encoding="utf-8")
        progress("Encrypting with GnuPG")
        archive = Path(work) / "secman-backup.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(stage, arcname="secman-backup")
        partial = output.with_name(output.name + ".part")
        with archive.open("rb") as plain:
            result = keyring.encrypt_file(plain, recipients, output=str(partial),
                                          armor=False, always_trust=True)
        if not result.ok:
            partial.unlink(missing_ok=True)
            raise BackupError(f"GnuPG did not encrypt: {result.status} "
                              f"{(result.stderr or '').strip()[-300:]}")
        partial.replace(output)
    os.chmod(output, 0o600)
    return Created(output, sha256_of(output), output.stat().st_size, manifest)


def _sqlite_copy(source: sqlite3.Connection | Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while secman writes (WAL)."""
    src = sqlite3.connect(source) if isinstance(source, Path) else source
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        if src is not source:
            src.close()


# --- restore -------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: dict[str, Any]
    files: int
    seconds: float


def _check_empty_target() -> None:
    data = Path(settings.DATA_DIR)
    found = sorted(p.name for p in data.iterdir() if p.name not in FRESH) if data.is_dir() \
        else []
    if found:
        raise BackupError(f"{data} is not an empty data directory (it holds "
                          f"{', '.join(found[:5])}): restore into a new SECMAN_DATA_DIR")
    if connection.vendor == "postgresql":
        tables = connection.introspection.table_names()
        if tables:
            raise BackupError(f"the database {settings.DATABASES['default']['NAME']} is "
                              f"not empty ({len(tables)} tables): restore into a new, empty "
                              "database (createdb) named by DATABASE_URL")
        connection.close()


@contextmanager
def _decrypted(archive: Path, passphrase: str | None, work: Path) -> Iterator[Path]:
    keyring = gpg()
    plain = work / "secman-backup.tar"
    result = keyring.decrypt_file(str(archive), passphrase=passphrase, output=str(plain))
    if not result.ok:
        said = result.stderr or ""
        if "Bad passphrase" in said:
            reason = "the passphrase is wrong"
        elif "No secret key" in said:
            reason = ("none of its recipients' secret keys is in GnuPG's keyring "
                      f"({settings.BACKUP_GNUPGHOME or '~/.gnupg'})")
        elif "no valid OpenPGP data" in said or "unexpected data" in said:
            reason = "it is not an OpenPGP message (not a secman backup, or damaged)"
        else:
            reason = f"GnuPG said {result.status or 'nothing'}"
        raise BackupError(f"{archive} could not be decrypted: {reason}")
    try:
        with tarfile.open(plain) as tar:
            # "data": no absolute paths, no links out, no devices (a hostile archive).
            tar.extractall(work / "out", filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} decrypted, but it is not a secman backup archive: "
                          f"{exc}") from None
    yield work / "out" / "secman-backup"


def _check_manifest(stage: Path, archive: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((stage / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive} is not a secman backup (its manifest: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a {FORMAT} archive")
    found = {str(p.relative_to(stage)) for p in _files(stage)} - {"manifest.json"}
    listed = set(manifest.get("files", {}))
    if found != listed:
        extra, missing = sorted(found - listed), sorted(listed - found)
        raise BackupError(f"{archive} does not match its manifest (extra: {extra[:3]}, "
                          f"missing: {missing[:3]}): it was altered")
    for name, digest in manifest["files"].items():
        if sha256_of(stage / name) != digest:
            raise BackupError(f"{archive}: {name} does not have the SHA-256 its manifest "
                              "gives: the archive was altered or damaged")
    # The database is empty: the name this server would give a new log is its setting.
    if manifest.get("origin") != settings.EVENTLOG_ORIGIN:
        raise BackupError(
            f"{archive} is the backup of the installation whose Event Log is "
            f"{manifest.get('origin')!r}, and this server's is {settings.EVENTLOG_ORIGIN!r}: set "
            f"SECMAN_EVENTLOG_ORIGIN={manifest.get('origin')} (as on the server that made "
            "it) to restore it here")
    if manifest.get("database") != connection.vendor:
        raise BackupError(f"{archive} holds a {manifest.get('database')} database and this "
                          f"server uses {connection.vendor}: restore it with the same kind "
                          "(set or unset DATABASE_URL)")
    return manifest


def restore(archive: Path, *, passphrase: str | None = None,
            progress: Progress = lambda step: None) -> Restored:
    """Restore `archive` into this server's empty data directory and database."""
    started = time.monotonic()
    archive = archive.resolve()
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    _check_empty_target()
    data = Path(settings.DATA_DIR)
    data.mkdir(parents=True, exist_ok=True)
    placed: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".secman-restore-", dir=data) as work_name:
        work = Path(work_name)
        progress("Decrypting with GnuPG")
        with _decrypted(archive, passphrase, work) as stage:
            progress("Checking every file against the manifest")
            manifest = _check_manifest(stage, archive)
            try:
                progress("Putting the files in place")
                for name in DIRECTORIES:
                    if (stage / name).is_dir():
                        shutil.move(stage / name, data / name)
                        placed.append(data / name)
                progress("Restoring the database")
                if manifest["database"] == "sqlite":
                    target = Path(settings.DATABASES["default"]["NAME"])
                    if target.exists():
                        raise BackupError(f"{target} exists: restore into a new data "
                                          "directory")
                    partial = target.with_name(target.name + ".part")
                    _sqlite_copy(stage / SQLITE_FILE, partial)
                    partial.replace(target)
                    placed.append(target)
                else:
                    # One transaction: a failed restore leaves the database empty.
                    _run(["pg_restore", "--single-transaction", "--no-owner",
                          "--no-privileges", "--exit-on-error", "--dbname",
                          _pg_env()["PGDATABASE"], str(stage / PG_FILE)],
                         "pg_restore into the empty database", _pg_env())
                shutil.copy2(stage / "secret_key", data / "secret_key")
            except BaseException:
                for path in placed:
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                raise
    for key in (data / "eventlog-keys").glob("*.pem"):
        os.chmod(key, 0o600)
    return Restored(manifest, len(manifest["files"]), time.monotonic() - started)


def check_restored_log(manifest: dict[str, Any]) -> list[str]:
    """After a restore: the restored Event Log holds at least the entries the backup
    counted. (`secman eventlog verify` then re-hashes it whole.)"""
    problems = []
    if tree_size() < manifest["eventlog"]["bundle_last"]:
        problems.append(f"the restored Event Log has {tree_size()} entries; the backup's "
                        f"bundle had {manifest['eventlog']['bundle_last']}")
    return problems
