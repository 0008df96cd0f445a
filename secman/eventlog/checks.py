"""The Event Log's configuration problems as Django system checks with stable ids
(docs/configuration.md lists them):

- SECMAN_EVENTLOG_ORIGIN set to another name than the one the log signs as (secman.E007).
  `secman serve` refuses to start on it, Django's commands stop on it, and secman's own
  commands refuse too (secman.core.cli.setup_django).
- With `secman check --deploy`: where the checkpoint signing key sits and who can read it
  (secman.W010-W012). Whoever holds the key and the database can rewrite the log and sign
  it again; only checkpoints held outside secman (witnesses) would show it. The warnings
  say how close the key is to the database: in the data directory, readable by group or
  others, or (SQLite) owned by the database file's owner. With PostgreSQL the user running
  secman must read the key and the database's files belong to the server, so the last
  warning applies to SQLite only (docs/eventlog.md, "What is and is not detected").
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from secman.eventlog import keys

ORIGIN_MISMATCH = "secman.E007"
KEY_IN_DATA_DIR = "secman.W010"
KEY_READABLE_BY_OTHERS = "secman.W011"
KEY_OWNED_LIKE_DATABASE = "secman.W012"

WITNESS_HINT = ("keep the key outside the data directory with mode 0600 "
                "(SECMAN_EVENTLOG_KEY_FILE), and have witnesses keep the checkpoints "
                "(SECMAN_EVENTLOG_WITNESSES; docs/eventlog.md)")


@register("eventlog")
def check_origin(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    problem = keys.configuration_problem()
    if not problem:
        return []
    return [Error(problem, hint=f"{keys.ROTATE_ORIGIN} NEW --authority REFERENCE renames "
                  "the log (docs/eventlog.md)", id=ORIGIN_MISMATCH)]


def signing_key_files() -> list[Path]:
    """Every private key file that can sign checkpoints this log's verifiers accept: the
    configured one, and those secman generated (retired ones still sign verifiable
    checkpoints). No database access: the check runs before migrations too."""
    found = [Path(settings.EVENTLOG_KEY_FILE)] if settings.EVENTLOG_KEY_FILE else []
    if keys.key_dir().is_dir():
        found += sorted(keys.key_dir().glob("*.pem"))
    return found


def _inside(path: Path, directory: Path) -> bool:
    try:
        return path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return False


def _sqlite_file() -> Path | None:
    database = settings.DATABASES["default"]
    if "sqlite" not in database["ENGINE"]:
        return None
    name = Path(str(database["NAME"]))
    return name if name.is_file() else None


@register(Tags.security, deploy=True)
def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    return key_problems(signing_key_files(), _sqlite_file())


def key_problems(files: list[Path], database: Path | None) -> list[Warning]:
    """The warnings for these key files, next to this SQLite database file (None: the
    database is PostgreSQL, or not created yet)."""
    problems: list[Warning] = []
    if not settings.EVENTLOG_KEY_FILE and not files:
        # The first checkpoint will generate the key into the data directory.
        problems.append(Warning(
            f"the Event Log's signing key will be generated in the data directory "
            f"({keys.key_dir()}): whoever can read the data directory (a backup of it, the "
            "owner of the database file) can rewrite the log and sign it again, and "
            "`secman eventlog verify` would find nothing without a checkpoint held outside",
            hint=WITNESS_HINT, id=KEY_IN_DATA_DIR))
    database_stat = database.stat() if database is not None else None
    for path in files:
        try:
            key_stat = path.stat()
        except OSError:
            continue  # a missing configured key is said by the first checkpoint
        if _inside(path, Path(settings.DATA_DIR)):
            problems.append(Warning(
                f"the Event Log's signing key {path} sits in the data directory: whoever "
                "can read the data directory (a backup of it, the owner of the database "
                "file) can rewrite the log and sign it again, and `secman eventlog verify` "
                "would find nothing without a checkpoint held outside",
                hint=WITNESS_HINT, id=KEY_IN_DATA_DIR))
        mode = stat.S_IMODE(key_stat.st_mode)
        if mode & 0o077:
            problems.append(Warning(
                f"the Event Log's signing key {path} can be read or written by group or "
                f"others (mode {mode:04o}): they can sign checkpoints of a rewritten log",
                hint=f"chmod 600 {path}; {WITNESS_HINT}", id=KEY_READABLE_BY_OTHERS))
        if database_stat is not None and key_stat.st_uid == database_stat.st_uid:
            problems.append(Warning(
                f"the Event Log's signing key {path} has the same owner (uid "
                f"{key_stat.st_uid}) as the database file {database}: whoever can change the "
                "log's rows can also sign checkpoints over the change",
                hint="with SQLite the user running secman must write the database and read "
                "the key, so only checkpoints held outside secman detect a rewrite by that "
                "user: set SECMAN_EVENTLOG_WITNESSES and keep their copies (docs/eventlog.md)",
                id=KEY_OWNED_LIKE_DATABASE))
    return problems
