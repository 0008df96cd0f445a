"""The quick walk (verification._quick_walk): whatever it accepts, the entry-by-entry walk
must find nothing wrong with, and the tree must be the same. Tampering aimed at its
shortcuts: headers compared as bytes, time and class compared with the entry before,
leaf hashes compared as text."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from secman.eventlog import services, verification
from secman.eventlog.models import RetentionClass
from tests.conftest import tamper


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def small_ranges(monkeypatch):
    """Ranges of 8 entries."""
    monkeypatch.setattr(verification, "CHUNK", 8)


def build_log() -> None:
    """38 entries: single appends (each its own time) and batches sharing a time, in two
    retention classes."""
    with transaction.atomic():
        for number in range(12):
            services.record("tests.thing", actor=None, authority="SM 4.2",
                            details={"number": number},
                            retention_class=(RetentionClass.LOGIN if number % 3 else
                                             RetentionClass.APPLICATION))
        services.record_batch([services.Entry(action="tests.batch", authority="SM 4.2",
                                              details={"number": number})
                               for number in range(20)])
        for number in range(6):
            services.record("tests.thing", actor=None, authority="SM 4.2",
                            details={"number": number})


def both_walks() -> tuple[bytes | None, list[str], bytes]:
    """The quick walk's root (None: it handed over) and the entry-by-entry walk's problems
    and root, over the whole log, with no checkpoint to compare."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM eventlog_loghead WHERE id = 1")
        last = cursor.fetchone()[0]
    quick = verification._quick_walk(last, {}, None, 0)
    report = verification.Report()
    compact = verification._walk(last, {}, report, None)
    return (quick.root() if quick is not None else None), report.problems, compact.root()


def leaf_of(seq: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT leaf_hash FROM eventlog_event WHERE seq = %s", [seq])
        return str(cursor.fetchone()[0])


def purge(first: int, last: int) -> None:
    now = "2026-01-01 00:00:00" if connection.vendor == "sqlite" else "2026-01-01T00:00:00Z"
    tamper("UPDATE eventlog_event SET canonical = '', details = '{}', signoffs = '[]', "
           "purged_at = %s WHERE seq BETWEEN %s AND %s", [now, first, last])


def shift_leaf_text() -> None:
    """One character of #14's leaf hash moved to the front of #15's: the two joined are
    the same text. (PostgreSQL's varchar(64) cannot hold 65 characters.)"""
    if connection.vendor != "sqlite":
        pytest.skip("a leaf hash column of 65 characters is refused by PostgreSQL")
    left, right = leaf_of(14), leaf_of(15)
    tamper("UPDATE eventlog_event SET leaf_hash = %s WHERE seq = 14", [left[:63]])
    tamper("UPDATE eventlog_event SET leaf_hash = %s WHERE seq = 15", [left[63] + right])


def upper_leaf(seq: int) -> Callable[[], None]:
    def change() -> None:
        tamper("UPDATE eventlog_event SET leaf_hash = %s WHERE seq = %s",
               [leaf_of(seq).upper(), seq])

    return change


def header_without_time() -> None:
    """The last entry (no entry chains to it) with a NUL byte and no class where its time
    and class were, re-hashed: only the header check can tell."""
    from hashlib import sha256

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(seq) FROM eventlog_event")
        last = cursor.fetchone()[0]
        cursor.execute("SELECT canonical FROM eventlog_event WHERE seq = %s", [last])
        text = cursor.fetchone()[0]
    head, rest = text.split('"time":"', 1)
    rest = rest.split('"actor":', 1)[1]
    changed = head + '"time":"\x01","class":"Odd",' + '"actor":' + rest
    leaf = sha256(b"\x00" + changed.encode()).hexdigest()
    tamper("UPDATE eventlog_event SET canonical = %s, leaf_hash = %s WHERE seq = %s",
           [changed, leaf, last])


def cut_prev_link() -> None:
    """#20 names a wrong previous entry, re-hashed (so only the chain check can tell)."""
    from hashlib import sha256

    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM eventlog_event WHERE seq = 20")
        text = cursor.fetchone()[0]
    changed = text.replace(leaf_of(19), "f" * 64)
    tamper("UPDATE eventlog_event SET canonical = %s, leaf_hash = %s WHERE seq = 20",
           [changed, sha256(b"\x00" + changed.encode()).hexdigest()])


TAMPERING: dict[str, Callable[[], None]] = {
    "leaf hash text shifted between two entries": shift_leaf_text,
    "leaf hash in capitals": upper_leaf(17),
    "purged entry's leaf hash in capitals": lambda: (purge(3, 9), upper_leaf(9)()),
    "header without a time": header_without_time,
    "chain link changed and re-hashed": cut_prev_link,
    "entry deleted": lambda: tamper("DELETE FROM eventlog_event WHERE seq = 22"),
}


def test_the_quick_walk_accepts_a_sound_log_and_builds_the_same_tree(db, small_ranges):
    build_log()
    quick, problems, root = both_walks()
    assert problems == []
    assert quick == root
    purge(3, 9)  # purged entries inside and across ranges and batches
    quick, problems, root = both_walks()
    assert problems == []
    assert quick == root


@pytest.mark.parametrize("name", list(TAMPERING))
def test_the_quick_walk_hands_over_what_the_entry_by_entry_walk_finds(db, small_ranges,
                                                                       name):
    build_log()
    TAMPERING[name]()
    quick, problems, _ = both_walks()
    assert problems != [], name
    assert quick is None, name


def walked_by_whom(monkeypatch) -> set[int]:
    """The processes that walked the ranges of the next quick walks."""
    from secman.eventlog import quickwalk

    walkers: set[int] = set()
    walk_ranges = quickwalk.walk_ranges

    def note_walkers(*args, **kwargs):
        results = walk_ranges(*args, **kwargs)
        walkers.update(result.walked_by for result in results if result is not None)
        return results

    monkeypatch.setattr(quickwalk, "walk_ranges", note_walkers)
    return walkers


def quick_root(workers: int) -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM eventlog_loghead WHERE id = 1")
        last = cursor.fetchone()[0]
    quick = verification._quick_walk(last, {}, None, workers)
    return quick.root() if quick is not None else None


def test_workers_that_cannot_open_the_database_leave_the_walk_to_this_process(
        db, small_ranges, monkeypatch, tmp_path):
    """A worker whose connection fails raises at its first range (its pool does not
    start new workers forever): the ranges are walked here, with the same tree."""
    build_log()
    expected = quick_root(0)
    walkers = walked_by_whom(monkeypatch)
    missing = f"file:{tmp_path / 'no such directory' / 'log.sqlite3'}?mode=ro"
    monkeypatch.setattr(verification, "_worker_params", lambda: (
        {"database": missing, "uri": True} if connection.vendor == "sqlite" else
        {"host": "127.0.0.1", "port": 5432, "user": "postgres",
         "dbname": "secman_no_such_database"}))
    assert quick_root(2) == expected is not None
    assert walkers == {os.getpid()}


@pytest.fixture
def locked_log(tmp_path):
    """Worker connection parameters for a database whose eventlog_event table another
    connection keeps locked: on PostgreSQL a scratch database with the table locked
    ACCESS EXCLUSIVE (a reader waits for ever), on SQLite a file held in an exclusive
    transaction (a reader waits out its 5 s busy timeout)."""
    if connection.vendor == "sqlite":
        import sqlite3

        path = tmp_path / "locked.sqlite3"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("CREATE TABLE eventlog_event (id integer)")
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        yield {"database": str(path)}
        holder.close()
        return
    import psycopg

    params = {key: value for key, value in connection.get_connection_params().items()
              if key not in ("cursor_factory", "context", "prepare_threshold")}
    name = f"secman_locked_{os.getpid()}"
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    holder = psycopg.connect(**{**params, "dbname": name})
    holder.execute("CREATE TABLE eventlog_event (id integer)")
    holder.commit()  # the table is there for the workers, then locked
    holder.execute("LOCK TABLE eventlog_event IN ACCESS EXCLUSIVE MODE")
    try:
        yield {**params, "dbname": name}
    finally:
        holder.close()
        with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_hung_worker_is_given_up_and_the_ranges_are_walked_here(
        db, small_ranges, monkeypatch, locked_log):
    """Workers stuck on a lock do not answer: after RANGE_TIMEOUT their pool is
    terminated and the ranges are walked here, with the same tree."""
    import time

    from secman.eventlog import quickwalk

    build_log()
    expected = quick_root(0)
    walkers = walked_by_whom(monkeypatch)
    monkeypatch.setattr(verification, "_worker_params", lambda: locked_log)
    monkeypatch.setattr(quickwalk, "RANGE_TIMEOUT", 1.0)
    started = time.monotonic()
    assert quick_root(2) == expected is not None
    assert walkers == {os.getpid()}
    assert time.monotonic() - started >= 1.0  # it waited for the workers first
