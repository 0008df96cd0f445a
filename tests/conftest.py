"""Shared fixtures: a small organisation built through the services, with named people
(healthchecks style), so every test reads like the policy it checks."""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from secman.authority import services as authority_services
from secman.authority.models import BoardDecision
from secman.core.roles import Role, TeamKind
from secman.people import services as people_services
from secman.people.models import AccessList, Person, Team

PASSWORD = "test-password-for-secman"

# CI runs the same examples every time (a red main must mean a change broke something);
# developers' runs draw new ones and keep what fails in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("SECMAN_CI") == "1":
    hypothesis_settings.load_profile("ci")


def _flush_around_event_log_triggers() -> None:
    """Transactional tests empty the test database with DELETE FROM on SQLite, which the
    Event Log's append-only triggers refuse (as they should anywhere else): drop them for
    the flush and put them back in the same statement list. PostgreSQL flushes with
    TRUNCATE, which row triggers do not see."""
    from django.db.backends.sqlite3.base import DatabaseOperations

    from secman.eventlog.triggers import SQLITE_CREATE, SQLITE_DROP

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences,
                              allow_cascade=allow_cascade)
        if not statements or "eventlog_event" not in tables:
            return statements
        return [*SQLITE_DROP, *statements, *SQLITE_CREATE]

    DatabaseOperations.sql_flush = sql_flush


_flush_around_event_log_triggers()


@dataclass
class Org:
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    lists: dict[str, AccessList] = field(default_factory=dict)
    decision: BoardDecision | None = None  # carried and confirmed, usable as authority

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


# login, team, role, leader
MEMBERS = [
    ("bea", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("tom", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("ida", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("arne", TeamKind.ARBITRATION, Role.ARBITRATOR, False),
    ("cora", TeamKind.ARBITRATION, Role.CASE_MANAGER, False),
    ("axel", TeamKind.ACCESS, Role.ACCESS_ENGINEER, True),
    ("abby", TeamKind.ACCESS, Role.ACCESS_ENGINEER, False),
    ("sam", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, True),
    ("sue", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, False),
    ("sid", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, False),
    ("ola", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, True),
    ("otto", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, False),
    ("pia", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, True),
    ("pim", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, False),
    ("aud", TeamKind.AUDIT, Role.AUDITOR, False),
]


def ensure_reference_data() -> None:
    """The rows the data migrations make (teams, access lists, retention policies, the
    log head). A test that runs `migrate` through the CLI leaves later transactional tests
    without them even with serialized_rollback (cause not found yet), so the fixtures
    put them back the way the migrations do."""
    import importlib

    from django.apps import apps

    for module, function in [
        ("secman.people.migrations.0002_seed_teams_and_lists", "seed"),
        ("secman.eventlog.migrations.0002_log_head", "create_head"),
        ("secman.eventlog.migrations.0005_retention_and_triggers", "seed"),
        ("secman.logs.migrations.0002_default_rules", "seed"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)


def build_org() -> Org:
    ensure_reference_data()
    org = Org()
    start = timezone.localdate() - dt.timedelta(days=30)
    org.teams = {team.kind: team for team in Team.objects.all()}
    org.lists = {access_list.kind: access_list for access_list in AccessList.objects.all()}
    for login, *_ in MEMBERS:
        org.people[login] = people_services.create_person(
            actor=None, authority="SP 9.1.3", name=login.capitalize(),
            email=f"{login}@example.org", username=login, password=PASSWORD,
            phone=f"+00 555 {len(org.people):04d}",
        )
    org.people["nobody"] = people_services.create_person(
        actor=None, authority="SP 9.1.3", name="Nobody", email="nobody@example.org",
        username="nobody", password=PASSWORD,
    )
    org.people["admin"] = people_services.create_person(
        actor=None, authority="SP 1.2", name="Admin", email="admin@example.org",
        username="admin", password=PASSWORD, superuser=True,
    )
    for login, team, _role, _leader in MEMBERS:
        if team == TeamKind.BOARD:
            people_services.add_member(actor=None, team=org.teams[team],
                                       person=org.people[login], authority="SP 9.1.1",
                                       start=start)
    org.decision = authority_services.record_board_decision(
        actor=org.people["bea"], minute_id=f"m{start:%Y%m%d}.1", decided_on=start,
        title="Staffing", text="The Board authorises the teams as listed.",
        votes={org.people["bea"]: "aye", org.people["tom"]: "aye", org.people["ida"]: "aye"},
    )
    # SP 1.2: the minutes authorise once a second Board member has confirmed them.
    org.decision = authority_services.confirm_board_decision(actor=org.people["tom"],
                                                             decision=org.decision)
    for login, team, role, leader in MEMBERS:
        if team != TeamKind.BOARD:
            people_services.add_member(actor=None, team=org.teams[team],
                                       person=org.people[login], role=role, is_leader=leader,
                                       start=start, authority=org.decision)
    return org


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use MD5.
    tests/core/test_settings.py checks that the real configuration uses Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def isolated_data_dir(settings, tmp_path):
    """Each test gets its own data dir, so signing keys it generates do not pile up in the
    developer's (and do not leak from one test to the next)."""
    settings.DATA_DIR = tmp_path


@pytest.fixture
def org(db) -> Org:
    return build_org()


@pytest.fixture
def approve(org):
    """Propose and approve a list change in one step: `approve("ssh_access", org.sid)`."""

    def _approve(kind: str, person: Person, change: str = "add"):
        access_list = org.lists[kind]
        proposer = org.bea
        proposal = people_services.propose_list_change(
            actor=proposer, access_list=access_list, person=person, change=change,
            reason="test",
        )
        return people_services.approve_proposal(actor=org.tom, proposal=proposal,
                                                decision=org.decision)

    return _approve




def tamper(sql: str, params: list | None = None) -> None:
    """What someone who owns the database can do: drop the append-only triggers, change
    rows behind secman's back, and put the triggers back."""
    from django.db import connection

    from secman.eventlog.triggers import statements

    with connection.cursor() as cursor:
        for statement in statements(connection.vendor, create=False):
            cursor.execute(statement)
        cursor.execute(sql, params or [])
        for statement in statements(connection.vendor, create=True):
            cursor.execute(statement)


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """Mail goes to an aiosmtpd server on loopback; the fixture is its inbox."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.DEFAULT_FROM_EMAIL = "secman@ca.example.org"
    yield inbox
    controller.stop()


# --- a fresh database for tests that start secman in other processes ------------------------

ROOT = Path(__file__).resolve().parents[1]


def postgres_url() -> str:
    """DATABASE_URL when it points at PostgreSQL, else empty."""
    url = os.environ.get("DATABASE_URL", "")
    return url if urlsplit(url).scheme.startswith("postgres") else ""


def secman_command() -> str:
    return str(Path(sys.executable).with_name("secman"))


# Migrating takes 10-20 s; tests that start secman in other processes each need a fresh
# database, so the first one of each kind is migrated once per test run and copied: a
# SQLite file by SQLite's backup API, a PostgreSQL database as the TEMPLATE of the next.
_TEMPLATES: dict[str, str] = {}


def _process_env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SECMAN_DATA_DIR=str(directory), DJANGO_SETTINGS_MODULE="secman.settings",
               PYTHONPATH=str(ROOT), SECMAN_LOG_LEVEL="WARNING")
    return env


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([secman_command(), "migrate", "-v", "0"], env=env, check=True, cwd=ROOT,
                   timeout=180)


def _drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated_sqlite(directory: Path) -> None:
    """A migrated secman.sqlite3 in `directory`, copied from the run's template."""
    import sqlite3
    import tempfile

    if "sqlite" not in _TEMPLATES:
        import atexit
        import shutil

        template = Path(tempfile.mkdtemp(prefix="secman-template-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        _migrate(_process_env(template))
        _TEMPLATES["sqlite"] = str(template / "secman.sqlite3")  # only once migrated
    source = sqlite3.connect(_TEMPLATES["sqlite"])
    target = sqlite3.connect(directory / "secman.sqlite3")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _migrated_postgres(server: str, name: str, env: dict[str, str]) -> None:
    """Database `name`, created from the run's migrated template database."""
    import atexit

    import psycopg

    if "postgresql" not in _TEMPLATES:
        template = f"secman_tmpl_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}"')
        atexit.register(_drop_database, server, template)
        _migrate({**env, "DATABASE_URL": urlunsplit(
            urlsplit(env["DATABASE_URL"])._replace(path=f"/{template}"))})
        _TEMPLATES["postgresql"] = template  # only once migrated: a failure is not reused
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATES["postgresql"]}"')


@contextmanager
def database_environment(kind: str, directory: Path) -> Iterator[dict[str, str]]:
    """The environment of a process that uses a fresh, migrated database: a SQLite file in
    `directory` (its SECMAN_DATA_DIR), or (kind "postgresql", when DATABASE_URL points at
    PostgreSQL) a temporary database on that server, dropped afterwards."""
    if kind == "sqlite" and postgres_url():
        # Each run tests processes on its own database: `make test` without DATABASE_URL
        # runs these on SQLite (CI runs both), so the PostgreSQL run does not repeat them.
        pytest.skip("DATABASE_URL points at PostgreSQL: the SQLite run runs this on SQLite")
    env = _process_env(directory)
    server = name = ""
    if kind == "postgresql":
        base = postgres_url()
        if not base:
            pytest.skip("DATABASE_URL does not point at PostgreSQL")
        parts = urlsplit(base)
        name = f"secman_proc_{uuid.uuid4().hex[:12]}"
        server = urlunsplit(parts._replace(path="/postgres"))
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        if name:
            _migrated_postgres(server, name, env)
        else:
            _migrated_sqlite(directory)
        yield env
    finally:
        if name:
            _drop_database(server, name)


@contextmanager
def serving(env: dict[str, str], *args: str, log: Path | None = None,
            seconds: float = 240) -> Iterator[str]:
    """`secman serve ARGS` in a process of its own on a free port, as a person starts it;
    yields its base URL once /login/ answers, and stops it with SIGTERM afterwards. Its
    output goes to `log` (appended) or nowhere."""
    import requests

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (log.open("ab") if log else open(os.devnull, "wb")) as output:
        process = subprocess.Popen([secman_command(), "serve", "--port", str(port), *args],
                                   env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + seconds
        while True:
            assert process.poll() is None, log.read_text() if log else "secman serve exited"
            try:
                if requests.get(f"{base}/login/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"secman serve did not answer in {seconds} s"
            time.sleep(0.25)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    assert process.returncode == 0, log.read_text()[-3000:] if log else process.returncode


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    with database_environment(request.param, tmp_path) as env:
        yield env
