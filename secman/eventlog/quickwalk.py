"""The quick walk's worker side: one aligned range of the Event Log walked from its rows.

Standard library only (with secman.eventlog.canonical and merkle), no Django: the ranges
are walked in worker processes that are *spawned*, fresh interpreters that import this
module and open a database connection of their own. They are not forked: a fork copies
whatever locks the other threads of the parent hold at that moment (the duties thread in
the gunicorn master, rich's refresh thread in the CLI), and a child that needs one waits
forever. verification.py cuts the log into ranges, checks what joins them and falls back
to walking in its own process when a worker fails, crashes or does not answer.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from secman.eventlog import canonical, merkle

# A worker that has not answered a range for this long is taken as hung (a range of
# 65,536 entries takes well under a second here): its pool is terminated and the
# parent walks the log itself.
RANGE_TIMEOUT = 120.0


@dataclass
class Range:
    """One aligned range: entries #start+1 .. #end, their row ids between id_from
    (inclusive) and id_to (exclusive), None for no bound."""

    start: int
    end: int
    id_from: int | None
    id_to: int | None
    sizes: list[int]


@dataclass
class RangeResult:
    first_link: bytes | None  # the "prev" its first entry names (None: first one purged)
    last_leaf: bytes  # its last entry's stored leaf hash (hex, ASCII)
    compact: merkle.CompactRange
    at_sizes: dict[int, merkle.CompactRange]
    walked_by: int  # the process that walked it (a worker's pid, or the parent's)


def range_query(vendor: str, part: Range) -> tuple[str, list[int]]:
    mark = "?" if vendor == "sqlite" else "%s"
    data = ("CAST(canonical AS BLOB)" if vendor == "sqlite"
            else "convert_to(canonical, 'UTF8')")
    where, params = [f"seq <= {mark}"], [part.end]
    if part.id_from is not None:
        where.append(f"id >= {mark}")
        params.append(part.id_from)
    if part.id_to is not None:
        where.append(f"id < {mark}")
        params.append(part.id_to)
    return (f"SELECT seq, CASE WHEN purged_at IS NULL THEN {data} END, leaf_hash "  # noqa: S608
            f"FROM eventlog_event WHERE {' AND '.join(where)} ORDER BY id"), params


# After an entry's header up to its time: the rest of HEADER_RE (time and class).
_TIME_AND_CLASS = re.compile(rb'[^"\\]+","class":"[a-z_]+",')
_LEAF = sha256(b"\x00")
_NODE = sha256(b"\x01")


def walk_range(cursor: Any, vendor: str, part: Range) -> RangeResult | None:
    """One range, or None at the first thing that is not as it should be. Standard
    library only (it runs in worker processes with a connection of their own).

    Per entry (the hot loop): SHA-256 from a copy of a hash already fed its 0x00 or 0x01
    prefix; the header is checked as the bytes it must start with (sequence number and
    the previous entry's leaf hash, which is 64 lowercase hex digits since it was just
    compared with a hash's hex()), then its time and class as HEADER_RE checks them,
    where the same time and class as the entry before (the whole batch shares them)
    are compared as bytes instead of matched again. The range's first entry is matched
    with HEADER_RE itself."""
    sql, params = range_query(vendor, part)
    cursor.execute(sql, params)
    header = canonical.HEADER_RE.match
    time_and_class = _TIME_AND_CLASS.match
    leaf_hash, node_hash = _LEAF.copy, _NODE.copy
    sizes = set(part.sizes)
    at_sizes: dict[int, merkle.CompactRange] = {}
    hashes: list[bytes] = []
    position = part.start
    previous: bytes | None = None
    first_link: bytes | None = None
    seen = b"\x00"  # the time and class part last matched (no entry starts with NUL)
    for seq, data, leaf_text in cursor:
        position += 1
        if seq != position:
            return None
        if data is None:  # purged: its stored leaf hash stands for it
            try:
                leaf = bytes.fromhex(leaf_text)
            except ValueError:
                return None
            if leaf.hex() != leaf_text:  # 32 bytes as 64 lowercase hex digits only
                return None
        else:
            digest = leaf_hash()
            digest.update(data)
            leaf = digest.digest()
            if leaf.hex() != leaf_text:
                return None
            if previous is None:
                found = header(data)
                if found is None or int(found[1]) != seq:
                    return None
                first_link = found[2]
            else:
                start = b'{"v":2,"seq":%d,"prev":"%s","time":"' % (seq, previous)
                if not data.startswith(start):
                    return None
                if not data.startswith(seen, len(start)):
                    found = time_and_class(data, len(start))
                    if found is None:
                        return None
                    seen = found[0]
        previous = leaf_text.encode()
        index, current = position - part.start - 1, leaf
        while index & 1:
            digest = node_hash()
            digest.update(hashes.pop() + current)
            current = digest.digest()
            index >>= 1
        hashes.append(current)
        if position in sizes:
            at_sizes[position] = merkle.CompactRange(position - part.start, hashes)
    if position != part.end or previous is None:
        return None
    return RangeResult(first_link, previous,
                       merkle.CompactRange(part.end - part.start, hashes), at_sizes,
                       os.getpid())


_worker_connection: Any = None
_worker_failure: BaseException | None = None


def worker_start(vendor: str, params: dict[str, Any]) -> None:
    """A worker process's own connection. A failure is kept and raised by its first
    range (a pool whose initializer raises would start new workers forever)."""
    global _worker_connection, _worker_failure
    try:
        if vendor == "sqlite":
            import sqlite3

            _worker_connection = sqlite3.connect(params["database"],
                                                 uri=params.get("uri", False))
            # Read the file through a memory map (SQLite caps it at its own maximum): a
            # fifth less time per row than read() into SQLite's page cache.
            _worker_connection.execute("PRAGMA mmap_size = 8589934592")
        else:
            import psycopg

            _worker_connection = psycopg.connect(**params, autocommit=True)
    except Exception as exc:
        _worker_failure = exc


def worker_walk(task: tuple[str, Range]) -> RangeResult | None:
    if _worker_failure is not None:
        raise _worker_failure
    vendor, part = task
    cursor = _worker_connection.cursor()
    try:
        return walk_range(cursor, vendor, part)
    finally:
        cursor.close()


def walk_ranges(vendor: str, parts: list[Range], *, workers: int, params: dict[str, Any],
                local_cursor: Callable[[], Any],
                progress: Callable[[int], None] | None = None) -> list[RangeResult | None]:
    """Every range's result in order, stopping after the first None: in `workers`
    spawned processes connecting with `params`, or, with fewer than two workers or when
    one fails, crashes or hangs, one after the other on `local_cursor()`."""
    results: list[RangeResult | None] = []
    if workers > 1 and len(parts) > 1:
        pool = multiprocessing.get_context("spawn").Pool(
            min(workers, len(parts)), worker_start, (vendor, params))
        try:
            answers = pool.imap(worker_walk, [(vendor, part) for part in parts])
            for _ in parts:
                result = answers.next(timeout=RANGE_TIMEOUT)
                results.append(result)
                if result is None:
                    break
                if progress is not None:
                    progress(result.compact.size)
            return results
        except Exception:
            results = []
        finally:
            pool.terminate()
            pool.join()
    cursor = local_cursor()
    try:
        for part in parts:
            result = walk_range(cursor, vendor, part)
            results.append(result)
            if result is None:
                break
            if progress is not None:
                progress(result.compact.size)
    finally:
        cursor.close()
    return results
