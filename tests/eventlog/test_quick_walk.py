"""The quick walk (verification._quick_walk): whatever it accepts, the entry-by-entry walk
must find nothing wrong with, and the tree must be the same. Tampering aimed at its
shortcuts: headers compared as bytes, time and class compared with the entry before,
leaf hashes compared as text."""

from __future__ import annotations

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
