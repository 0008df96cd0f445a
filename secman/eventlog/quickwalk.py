"""The quick walk's worker side: one aligned range of the Event Log walked from its rows.

Standard library only (with secman.eventlog.canonical, merkle and walk), no Django: the ranges
are walked in worker processes that are *spawned*, fresh interpreters that import this
module and open a database connection of their own. They are not forked: a fork copies
whatever locks the other threads of the parent hold at that moment (the duties thread in
the gunicorn master, rich's refresh thread in the CLI), and a child that needs one waits
forever. verification.py cuts the log into ranges, checks what joins them and falls back
to walking in its own process when a worker fails, crashes or does not answer.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secman.eventlog import canonical, merkle, walk

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


def walk_range(cursor: Any, vendor: str, part: Range) -> RangeResult | None:
    """One range, or None at the first thing that is not as it should be: the chain
    walker (secman.eventlog.walk) over the range's rows, from an unknown link (the parent
    checks it against the range before) and a tree of its own (the parent joins them).
    Standard library only (it runs in worker processes with a connection of their
    own)."""
    sql, params = range_query(vendor, part)
    cursor.execute(sql, params)
    chain = walk.ChainWalk(start=part.start, link=None, sizes=part.sizes, stop=True)
    if not chain.walk(cursor):
        return None
    last_leaf = chain.last_leaf
    if chain.count != part.end or last_leaf is None:
        return None
    return RangeResult(chain.first_link, last_leaf, chain.compact, chain.at_sizes,
                       os.getpid())


# --- the column check's first pass ---------------------------------------------------------
#
# The query columns (action, actor, subject, authority, class, time, chain link, sign-offs,
# details) are copies of what the canonical bytes hold. Each entry's canonical text is
# rebuilt from its columns, as canonical.entry_text writes it, and compared with the stored
# text: equal text means every column holds exactly what was hashed, types included (a
# JSON value's text reads back as the same value). Per entry that is one string built and
# compared; the JSON columns are taken as their text when it is the hashed text (as
# secman writes them on SQLite), else decoded and encoded as the canonical bytes encode
# them (PostgreSQL's jsonb keeps a text of its own). The actor column is compared with
# the " (#id)" the label ends with, and the time as the ORM reads and prints it, both as
# verification.column_mismatch does. An entry that does not pass is named, and
# verification.column_mismatch decides and words its problem; so does an entry with a value
# this cannot read (a number where text belongs, a time the ORM would read otherwise).

_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_SORTED = (json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode
           if _make_encoder is None else None)
# The C encoder JSONEncoder.encode() would build again for every value, built once:
# compact, sorted keys, not ASCII-escaped, as the canonical bytes hold sign-offs and details.
_C_SORTED = (None if _make_encoder is None else _make_encoder(
    None, None, json.encoder.encode_basestring, None, ":", ",", True, False, True))


def hashed_json(text: str) -> str:
    """A JSON column's value as the canonical bytes write it."""
    value = json.loads(text)
    if _C_SORTED is None:
        return str(_SORTED(value))  # type: ignore[misc]
    try:
        return "".join(_C_SORTED(value, 0))
    except RecursionError:  # too deep for the C encoder's stack: its usual error
        return str(json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                    sort_keys=True).encode(value))


# The database first does the same in its own code, and hands over only the entries it
# cannot show to agree: turning every row into Python strings (and, on PostgreSQL, every
# jsonb column into Python values) would take longer than the whole comparison there.
# Never looser than the comparison below: the actor's id must be none with no "(#" in
# the label, or the label must end with " (#<id>)"; the time must be the one text the
# ORM's value prints as (on SQLite a column time no one could read passes only where the
# hashed bytes hold the same, which then fail their hash).
#
# SQLite: json_object writes its arguments in order and compact, as canonical.entry_text
# does (rtrim drops its closing brace only: the authority before it is a quoted string);
# then come the JSON columns' text. Django writes a time as "YYYY-MM-DD HH:MM:SS" or
# "...SS.ffffff" (never ".000000"), in UTC.
_SQLITE_TIME = ("CASE WHEN length(recorded_at) IN (19, 26) AND substr(recorded_at, 11, 1) = ' ' "
                "AND recorded_at NOT LIKE '%.000000' "
                "THEN replace(recorded_at, ' ', 'T') || 'Z' END")
_SQLITE_AGREES = (
    "canonical = rtrim(json_object('v', 2, 'seq', seq, 'prev', prev_hash, "
    f"'time', {_SQLITE_TIME}, 'class', retention_class, 'actor', actor_label, "
    "'action', action, 'subject', json_object('type', subject_type, 'id', subject_id, "
    "'label', subject_label), 'authority', authority), '}') "
    "|| ',\"signoffs\":' || signoffs || ',\"details\":' || details || '}'"
    " AND CASE WHEN actor_id IS NULL THEN instr(actor_label, '(#') = 0"
    " ELSE typeof(actor_id) = 'integer'"
    " AND substr(actor_label, -length(' (#' || actor_id || ')')) = ' (#' || actor_id || ')' END")
# PostgreSQL reads the hashed text as jsonb once per entry (OFFSET 0 keeps the planner
# from reading it again for every field) and compares field by field: strings as jsonb
# strings (exact), the JSON columns as jsonb text (so 1 and 1.0 differ, as they do for
# column_mismatch). Bytes that are not JSON make the query fail: the range is then read
# without it.
_POSTGRES_TIME = ("to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
                  "CASE WHEN date_trunc('second', recorded_at) = recorded_at THEN '' "
                  "ELSE to_char(recorded_at AT TIME ZONE 'UTC', '.US') END || 'Z'")
_POSTGRES_AGREES = (
    "c->'action' = to_jsonb(action) AND c->'authority' = to_jsonb(authority)"
    " AND c->'actor' = to_jsonb(actor_label) AND c->'class' = to_jsonb(retention_class)"
    f" AND c->'prev' = to_jsonb(prev_hash) AND c->'time' = to_jsonb({_POSTGRES_TIME})"
    " AND c->'subject' = jsonb_build_object('type', subject_type, 'id', subject_id,"
    " 'label', subject_label)"
    " AND (c->'signoffs')::text = signoffs::text AND (c->'details')::text = details::text"
    " AND CASE WHEN actor_id IS NULL THEN strpos(actor_label, '(#') = 0"
    " ELSE right(actor_label, length(' (#' || actor_id || ')')) = ' (#' || actor_id || ')' END")
# What the comparison below reads: the time as the ORM's UTC value, the JSON columns as
# their text.
_SQLITE_COLUMNS = ("seq, canonical, actor_id, actor_label, action, subject_type, subject_id, "
                   "subject_label, authority, signoffs, details, retention_class, "
                   "recorded_at, prev_hash")
_POSTGRES_COLUMNS = ("seq, canonical, actor_id, actor_label, action, subject_type, subject_id, "
                     "subject_label, authority, signoffs::text, details::text, "
                     "retention_class, recorded_at AT TIME ZONE 'UTC', prev_hash")


def column_query(vendor: str, part: Range, *, prefilter: bool = True) -> tuple[str, list[int]]:
    if vendor == "sqlite":
        return (f"SELECT {_SQLITE_COLUMNS} FROM eventlog_event "  # noqa: S608
                "WHERE seq > ? AND seq <= ? AND purged_at IS NULL "
                f"AND NOT coalesce({_SQLITE_AGREES}, 0)", [part.start, part.end])
    rows = "FROM eventlog_event WHERE seq > %s AND seq <= %s AND purged_at IS NULL"
    if not prefilter:
        return f"SELECT {_POSTGRES_COLUMNS} {rows}", [part.start, part.end]
    return (f"SELECT {_POSTGRES_COLUMNS} FROM (SELECT *, canonical::jsonb AS c {rows} "  # noqa: S608
            f"OFFSET 0) AS entry WHERE NOT coalesce({_POSTGRES_AGREES}, false)",
            [part.start, part.end])


def _execute(cursor: Any, vendor: str, part: Range) -> None:
    """The range's query; on PostgreSQL without the database's comparison if that fails
    (inside the caller's transaction, a savepoint keeps the failure from ending it)."""
    if vendor == "sqlite":
        cursor.execute(*column_query(vendor, part))
        return
    # The savepoint's statements on a cursor of their own: this one keeps the rows.
    database = cursor.connection
    savepoint = database.info.transaction_status != 0  # not idle: in a transaction
    if savepoint:
        database.execute("SAVEPOINT eventlog_columns")
    try:
        cursor.execute(*column_query(vendor, part))
    except Exception:  # the driver's error for bytes that are not JSON
        if savepoint:
            database.execute("ROLLBACK TO SAVEPOINT eventlog_columns")
        cursor.execute(*column_query(vendor, part, prefilter=False))
    if savepoint:
        database.execute("RELEASE SAVEPOINT eventlog_columns")


def _printed_time(value: Any) -> str:
    """recorded_at as verification.column_mismatch prints the ORM's value: SQLite's text read
    as Django reads it (fromisoformat, naive meaning UTC), PostgreSQL's UTC time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    return str(value.isoformat()).replace("+00:00", "Z")


def column_suspects(cursor: Any, vendor: str, part: Range) -> list[int]:
    """The entries of the range whose columns do not rebuild their stored text (of those
    the database could not show to agree)."""
    _execute(cursor, vendor, part)
    quote = json.encoder.encode_basestring
    named: list[int] = []
    seen_time: Any = None
    seen_signoffs: Any = None
    time_text = signoffs_text = ""
    for (seq, data, actor_id, label, action, subject_type, subject_id, subject_label,
         authority, signoffs, details, retention_class, when, prev) in cursor:
        try:
            if when != seen_time:  # a batch shares its time
                time_text, seen_time = _printed_time(when), when
            if signoffs != seen_signoffs:  # most entries have none
                signoffs_text, seen_signoffs = hashed_json(signoffs), signoffs
            head = "".join((
                '{"v":2,"seq":', str(seq), ',"prev":', quote(prev), ',"time":',
                quote(time_text), ',"class":', quote(retention_class), ',"actor":',
                quote(label), ',"action":', quote(action), ',"subject":{"type":',
                quote(subject_type), ',"id":', quote(subject_id), ',"label":',
                quote(subject_label), '},"authority":', quote(authority), ',"signoffs":'))
            # The JSON columns' text as it is, or else their values encoded. A SQLite JSON
            # column holds valid JSON (its CHECK constraint): equal text is equal value.
            rest = data[len(head):]
            agrees = data.startswith(head) and (
                rest == "".join((signoffs, ',"details":', details, "}"))
                or rest == "".join((signoffs_text, ',"details":', hashed_json(details),
                                    "}")))
            found = canonical.ACTOR_ID_RE.search(label)
            agrees = agrees and (int(found[1]) if found else None) == actor_id
        except (TypeError, ValueError, AttributeError):
            agrees = False
        if not agrees:
            named.append(seq)
    return named


TASKS: dict[str, Callable[[Any, str, Range], Any]] = {"walk": walk_range,
                                                      "columns": column_suspects}

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


def worker_run(task: tuple[str, str, Range]) -> Any:
    if _worker_failure is not None:
        raise _worker_failure
    kind, vendor, part = task
    cursor = _worker_connection.cursor()
    try:
        return TASKS[kind](cursor, vendor, part)
    finally:
        cursor.close()


def walk_ranges(vendor: str, parts: list[Range], *, workers: int, params: dict[str, Any],
                local_cursor: Callable[[], Any],
                progress: Callable[[int], None] | None = None,
                kind: str = "walk") -> list[Any]:
    """Every range's result in order (TASKS[kind]: the walk, or the column check's first
    pass): in `workers` spawned processes connecting with `params`, or, with fewer than
    two workers or when one fails, crashes or hangs, one after the other on
    `local_cursor()`. The walk stops after its first None (the log is then walked again
    entry by entry)."""
    results: list[Any] = []
    stop_at_none = kind == "walk"
    if workers > 1 and len(parts) > 1:
        pool = multiprocessing.get_context("spawn").Pool(
            min(workers, len(parts)), worker_start, (vendor, params))
        try:
            answers = pool.imap(worker_run, [(kind, vendor, part) for part in parts])
            for part in parts:
                result = answers.next(timeout=RANGE_TIMEOUT)
                results.append(result)
                if result is None and stop_at_none:
                    break
                if progress is not None:
                    progress(part.end - part.start)
            return results
        except Exception:
            results = []
        finally:
            pool.terminate()
            pool.join()
    cursor = local_cursor()
    try:
        for part in parts:
            result = TASKS[kind](cursor, vendor, part)
            results.append(result)
            if result is None and stop_at_none:
                break
            if progress is not None:
                progress(part.end - part.start)
    finally:
        cursor.close()
    return results
