"""Verifying the whole Event Log from the database: every leaf re-hashed from its stored
bytes, the chain and sequence numbers, the Merkle tree rebuilt and compared with every
signed checkpoint, every checkpoint's signature and its link to the one before, and,
if given, checkpoints kept outside secman.

The loop reads raw rows and never parses the JSON (the canonical header is read with one
regular expression), so a million entries verify in seconds; `columns=True` adds the
comparison of every entry's query columns with its hashed bytes (check_columns), which
the database does for all of them and column_mismatch for those it names. Every walk of
the chain is secman.eventlog.walk's (the offline verifier's too); this module reads the
rows and words what it finds.

verify_chain is the slow, thorough check (the JSON of every entry parsed, its header read
from the parsed fields, every column compared): the oracle the tests hold the fast paths
to.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.db import connection
from django.utils import timezone

from secman.eventlog import canonical, merkle, note, quickwalk, walk
from secman.eventlog.models import (
    Checkpoint,
    Event,
    LogHead,
    SigningKey,
    VerificationRun,
    WitnessCheckpoint,
)
from secman.eventlog.selectors import require_sysadmin

if TYPE_CHECKING:
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    root: bytes = merkle.EMPTY_ROOT
    # The most entries a signed checkpoint whose signature verified covers; the most a
    # witnessed one covers (held outside secman: given to the run, or imported as a
    # witness's copy and consistent then). Entries past them are the ones a truncation,
    # or a rewrite re-signed with the key, would leave undetected (docs/eventlog.md).
    signed: int = 0
    witnessed: int = 0

    @property
    def not_signed(self) -> int:
        return max(0, self.entries - self.signed)

    @property
    def not_witnessed(self) -> int:
        return max(0, self.entries - self.witnessed)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < 1000:
            self.problems.append(problem)


def _verifiers(extra: Iterable[str] = ()) -> dict[int, note.Verifier]:
    found = {}
    for row in SigningKey.objects.all():
        verifier = note.Verifier(row.name, int(row.key_id, 16), base64.b64decode(row.public_key))
        found[verifier.key_id] = verifier
    for text in extra:
        verifier = note.Verifier.parse(text)
        found[verifier.key_id] = verifier
    return found


def _check_note(label: str, text: str, verifiers: dict[int, note.Verifier],
                report: Report) -> note.CheckpointBody | None:
    try:
        signed = note.SignedNote.parse(text)
        body = note.CheckpointBody.parse(signed.text)
    except note.NoteError as exc:
        report.add(f"{label}: cannot be read ({exc})")
        return None
    known = [verifiers[k] for k in signed.key_ids() if k in verifiers]
    if not known:
        ids = ", ".join(f"{k:08x}" for k in signed.key_ids()) or "none"
        report.add(f"{label}: signed by an unknown key (key id {ids})")
        return None
    if not any(signed.verify(v) for v in known):
        report.add(f"{label}: its signature does not verify with key {known[0].key_id:08x} "
                   "(forged, or signed by another key)")
        return None
    return body


def verify_log(*, outside: Iterable[tuple[str, str]] = (), pinned_keys: Iterable[str] = (),
               progress: Callable[[int], None] | None = None,
               workers: int | None = None) -> Report:
    """`outside`: (name, note text) of checkpoints kept elsewhere; `pinned_keys`: verifier
    keys the auditor trusts (otherwise the keys in the database are used); `workers`:
    processes for the quick walk (default: one per CPU on a log of more than CHUNK
    entries, when the database can be read from another process; 0: in this one)."""
    report = Report()
    pinned = list(pinned_keys)
    verifiers = _verifiers(pinned) if not pinned else {
        v.key_id: v for v in (note.Verifier.parse(t) for t in pinned)}

    stored = list(Checkpoint.objects.order_by("tree_size", "id"))
    wanted: dict[int, list[tuple[str, bytes]]] = {}
    previous_note: str | None = None
    for checkpoint in stored:
        label = f"checkpoint at {checkpoint.tree_size} (signed {checkpoint.time:%Y-%m-%d %H:%M})"
        body = _check_note(label, checkpoint.note, verifiers, report)
        report.checkpoints += 1
        if body is None:
            previous_note = checkpoint.note
            continue
        if body.size != checkpoint.tree_size or body.root.hex() != checkpoint.root_hash:
            report.add(f"{label}: its columns differ from its signed text")
        expected_prev = note.note_hash(previous_note) if previous_note else None
        if body.prev != expected_prev:
            report.add(f"{label}: does not link to the checkpoint before it (one was "
                       "removed or replaced)")
        previous_note = checkpoint.note
        wanted.setdefault(body.size, []).append((label, body.root))
        report.signed = max(report.signed, body.size)
    witnesses = [(f"checkpoint {name}", f"checkpoint {name}, held outside", text)
                 for name, text in outside]
    # The witnesses' copies imported before, that matched the log then: it must still.
    for row in WitnessCheckpoint.objects.filter(consistent=True):
        label = (f"witness checkpoint from {row.source} (imported "
                 f"{row.imported_at:%Y-%m-%d %H:%M})")
        witnesses.append((label, label, row.note))
    for note_label, label, text in witnesses:
        body = _check_note(note_label, text, verifiers, report)
        if body is not None:
            wanted.setdefault(body.size, []).append((label, body.root))
            report.witnessed = max(report.witnessed, body.size)

    # A checkpoint of the empty log (signed on demand before the first entry) covers no
    # entry: its root is the empty tree's.
    for label, signed_root in wanted.pop(0, []):
        if signed_root != merkle.EMPTY_ROOT:
            report.add(f"the {label} covers no entry but its root is not the empty tree's")

    # No long transaction (it would hold SQLite's write lock and stop every append for
    # the whole run): the head is read after the checkpoints and the walk stops at it, so
    # entries appended meanwhile are left for the next run.
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM eventlog_loghead WHERE id = 1")
        head = cursor.fetchone()
    last = head[0] if head else 0
    # The quick walk first (in parallel on large logs); it gives up at the first thing
    # that is not as it should be, and the entry-by-entry walk then names every problem.
    compact = _quick_walk(last, wanted, progress, workers)
    if compact is not None:  # every checkpoint size it reached matched its root
        for size in [size for size in wanted if 0 < size <= compact.size]:
            del wanted[size]
    else:
        compact = _walk(last, wanted, report, progress)
    report.entries = compact.size
    report.root = compact.root()
    for size, labels in sorted(wanted.items()):
        for label, _ in labels:
            report.add(f"the log has {compact.size} entries but the {label} covers {size}: "
                       f"entries after #{compact.size} were removed")
    if compact.size and not report.checkpoints:
        # The first append always signs a checkpoint: a log without any lost them.
        report.add(f"the log has {compact.size} entries but no signed checkpoint: "
                   "checkpoints were removed")
    if head is not None and head[0] != compact.size:
        report.add(f"the log head says #{head[0]} but the last entry is #{compact.size}")
    return report


# What the walker finds, as the operator reads it (`secman eventlog verify`, the Event Log
# page): `before` is the entry before `seq`.
WORDS = {
    walk.GAP: "entry #{seq} is missing (the next entry is #{other})",
    walk.REPEATED: "entry #{seq} appears twice",
    walk.HASH: "entry #{seq}: its stored bytes do not hash to its leaf hash (the entry was "
               "changed after it was written)",
    walk.LEAF: "entry #{seq}: its stored leaf hash is not a SHA-256 hash (64 lowercase hex "
               "digits)",
    walk.NOT_ENTRY: "entry #{seq}: its stored bytes are not a version 2 entry",
    walk.MOVED: "entry #{seq}: holds the bytes of entry #{other} (entries were moved or "
                "swapped)",
    walk.CHAIN: "entry #{seq}: does not chain to entry #{before} (an entry before it was "
                "changed, removed or moved)",
    walk.ROOT: "the first {seq} entries do not match the root in the {label}: the log was "
               "changed after it was signed",
}


def said(problem: walk.Problem, words: dict[str, str] = WORDS) -> str:
    return words[problem.kind].format(seq=problem.seq, other=problem.other,
                                      before=problem.seq - 1, label=problem.label)


def _walk(last: int, wanted: dict[int, list[tuple[str, bytes]]], report: Report,
          progress: Callable[[int], None] | None) -> merkle.CompactRange:
    """Every entry up to #last in order, every problem named: the exact messages. The
    signed roots reached are taken out of `wanted`."""
    chain = walk.ChainWalk(roots=wanted)
    as_bytes = ("CAST(canonical AS BLOB)" if connection.vendor == "sqlite"
                else "convert_to(canonical, 'UTF8')")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, CASE WHEN purged_at IS NULL THEN {as_bytes} END, "  # noqa: S608
                       "leaf_hash FROM eventlog_event WHERE seq <= %s ORDER BY seq", [last])
        while rows := cursor.fetchmany(5000):
            chain.walk(rows)
            for problem in chain.problems:
                report.add(said(problem))
            chain.problems.clear()  # a log broken everywhere is named 1,000 times at most
            if progress is not None:
                progress(len(rows))
    for size in [size for size in wanted if size <= chain.count]:
        del wanted[size]
    return chain.compact


# --- the quick walk -------------------------------------------------------------------------
#
# The log is cut into aligned ranges of CHUNK entries (CHUNK a power of two, so each full
# range is one perfect subtree of the tree). Each range is walked on its own
# (quickwalk.walk_range), in spawned worker processes on a large log: its rows in
# insertion order (the table's own order, a sequential read) through the same chain
# walker as _walk's (walk.ChainWalk), from an unknown link and with a tree of its own,
# giving up at the first problem. A range answers with its compact range (one root
# when it is full), the compact ranges at every checkpoint size inside it, the chain
# link its first entry names and its last leaf hash; the parent checks the links
# between ranges and combines the roots (merkle.CompactRange.extend), so the tree is the
# same one _walk builds. A worker that fails, crashes or hangs costs time, not a result:
# the ranges are then walked in this process.
#
# The quick walk only says "all is well" or "something is off": at the first difference
# (a bad hash, a gap, a moved entry, a root that does not match a checkpoint) it gives
# up, and _walk goes over the whole log again to name every problem with its exact
# message. When it says all is well, _walk would have found nothing: it is the same
# walker, and the parent checks what joins the ranges.

CHUNK = 1 << 16


def _default_workers(last: int) -> int:
    """Worker processes only where they pay and can see what this process sees: a log
    of more than one range, more than one CPU, no transaction open here (a worker
    would not see its changes) and a database in a file or on a server."""
    cpus = os.cpu_count() or 1
    if last <= CHUNK or cpus < 2 or connection.in_atomic_block:
        return 0
    # is_in_memory_db is SQLite's own; the vendor check comes first.
    if connection.vendor == "sqlite" and cast("SQLiteWrapper", connection).is_in_memory_db():
        return 0
    if connection.vendor not in ("sqlite", "postgresql"):
        return 0
    return cpus


def _worker_params() -> dict[str, Any]:
    params = connection.get_connection_params()
    if connection.vendor == "sqlite":
        return {"database": str(params["database"]), "uri": bool(params.get("uri"))}
    return {key: value for key, value in params.items()
            if key not in ("cursor_factory", "context", "prepare_threshold")}


def _quick_walk(last: int, wanted: dict[int, list[tuple[str, bytes]]],
                progress: Callable[[int], None] | None,
                workers: int | None) -> merkle.CompactRange | None:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return None
    workers = _default_workers(last) if workers is None else workers
    bounds = list(range(0, last, CHUNK))
    with connection.cursor() as cursor:
        # The row id of each range's first entry: ranges are read in row order.
        ids: dict[int, int] = {}
        if len(bounds) > 1:
            cursor.execute("SELECT seq, id FROM eventlog_event WHERE seq IN "  # noqa: S608
                           f"({', '.join(['%s'] * (len(bounds) - 1))})",
                           [start + 1 for start in bounds[1:]])
            ids = dict(cursor.fetchall())
            if len(ids) != len(bounds) - 1:
                return None
    parts = [quickwalk.Range(start, min(start + CHUNK, last),
                             ids[start + 1] if index else None,
                             ids.get(start + CHUNK + 1),
                             sorted(size for size in wanted
                                    if start < size <= min(start + CHUNK, last)))
             for index, start in enumerate(bounds)]

    results = quickwalk.walk_ranges(vendor, parts, workers=workers, params=_worker_params(),
                                    local_cursor=_local_cursor, progress=progress)
    compact = merkle.CompactRange()
    link = canonical.GENESIS.encode()
    if len(results) != len(parts):
        return None
    for part, result in zip(parts, results, strict=True):
        if result is None:
            return None
        if result.first_link is not None and result.first_link != link:
            return None
        for size, partial in result.at_sizes.items():
            at = merkle.CompactRange(compact.size, compact.hashes)
            at.extend(partial)
            if any(signed_root != at.root() for _, signed_root in wanted[size]):
                return None
        compact.extend(result.compact)
        link = result.last_leaf
        if compact.size != part.end:
            return None
    return compact


# --- the column check -----------------------------------------------------------------------


def check_columns(last: int | None = None, progress: Callable[[int], None] | None = None,
                  workers: int | None = None) -> list[str]:
    """Every entry up to #last (default: the head) whose query columns no longer say what
    its hashed bytes say, named as verify_chain names it. Each range of CHUNK
    entries is compared by the database, and the entries it cannot show to agree have
    their text rebuilt from their columns (quickwalk.column_suspects), in worker
    processes as the quick walk; the entries whose text does not come out the same are
    checked one by one with column_mismatch, which decides and words the problem."""
    if last is None:
        last = head_size()
    parts = [quickwalk.Range(start, min(start + CHUNK, last), None, None, [])
             for start in range(0, last, CHUNK)]
    results = quickwalk.walk_ranges(
        connection.vendor, parts, workers=_default_workers(last) if workers is None else workers,
        params=_worker_params(), local_cursor=_local_cursor, progress=progress, kind="columns")
    return [str(p) for p in column_problems([seq for named in results for seq in named])]


def _local_cursor() -> Any:
    connection.ensure_connection()
    return connection.connection.cursor()


def run(*, by: Any, by_label: str = "", columns: bool = False,
        outside: Iterable[tuple[str, str]] = (),
        progress: Callable[[int], None] | None = None,
        columns_progress: Callable[[int], None] | None = None) -> VerificationRun:
    """Verify and remember that it was done, by whom, and what was found. `progress`
    counts the entries re-hashed, `columns_progress` those whose columns were checked.
    `by` is the people.Person asking (people sits above the Event Log), or None for the
    server itself."""
    return run_with_report(by=by, by_label=by_label, columns=columns, outside=outside,
                           progress=progress, columns_progress=columns_progress)[0]


def run_with_report(*, by: Any, by_label: str = "", columns: bool = False,
                    outside: Iterable[tuple[str, str]] = (),
                    progress: Callable[[int], None] | None = None,
                    columns_progress: Callable[[int], None] | None = None,
                    ) -> tuple[VerificationRun, Report]:
    """run(), and the report it recorded (with how far signed and witnessed checkpoints
    reach)."""
    require_sysadmin(by, "verification on demand")
    started = timezone.now()
    report = verify_log(outside=outside, progress=progress)
    if columns:
        report.problems.extend(check_columns(progress=columns_progress))
    label = by_label or (getattr(by, "name", "") or "secman")
    return VerificationRun.objects.create(
        started_at=started, finished_at=timezone.now(), by=by, by_label=label,
        entries=report.entries, checkpoints=report.checkpoints, ok=report.ok,
        problems="\n".join(report.problems)), report


def head_size() -> int:
    return LogHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


# --- the entry checks that need the whole JSON (columns against hashed bytes) ------------


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.problem}"


def _same_json(hashed: Any, column: Any) -> bool:
    """The hashed value and its copy in a JSON column mean the same: equal, with the
    same JSON types (Python's == takes true for 1). One exception: PostgreSQL's jsonb
    keeps numbers as decimals and writes 1.5e300 out in full, which comes back as an int
    that is not exactly the float's value; read as a float, it is the same number."""
    kind = type(hashed)
    if kind is type(column):
        if kind is dict:
            return bool(hashed.keys() == column.keys()) and all(
                _same_json(value, column[key]) for key, value in hashed.items())
        if kind is list:
            return len(hashed) == len(column) and all(map(_same_json, hashed, column))
        return bool(hashed == column)
    if kind is float and type(column) is int:
        try:
            return float(column) == hashed
        except OverflowError:
            return False
    return False


def column_mismatch(event: Event, fields: dict[str, Any]) -> str:
    """Name the first column that no longer says what the hashed bytes say."""
    expected = {
        "action": event.action, "authority": event.authority, "actor": event.actor_label,
        "class": event.retention_class, "details": event.details,
        "signoffs": event.signoffs, "prev": event.prev_hash,
        "subject": {"type": event.subject_type, "id": event.subject_id,
                    "label": event.subject_label},
    }
    for key, value in expected.items():
        if not _same_json(fields.get(key), value):
            return f"column {key!r} differs from the hashed entry"
    named = canonical.ACTOR_ID_RE.search(str(fields.get("actor", "")))
    if (int(named[1]) if named else None) != event.actor_id:
        return "column 'actor' differs from the hashed entry"
    if fields.get("time") != event.recorded_at.isoformat().replace("+00:00", "Z"):
        return "column 'time' differs from the hashed entry"
    return ""


def column_problems(seqs: Iterable[int]) -> list[ChainProblem]:
    """The column check of verify_chain for the entries numbered `seqs` only (those the
    database's own comparison named, verification.check_columns)."""
    problems: list[ChainProblem] = []
    wanted = list(seqs)
    for start in range(0, len(wanted), 2000):
        for event in Event.objects.filter(seq__in=wanted[start:start + 2000],
                                          purged_at__isnull=True).order_by("seq"):
            try:
                fields = canonical.decode(event.canonical.encode())
            except ValueError:
                fields = None
            if not isinstance(fields, dict):
                problems.append(ChainProblem(event.seq, "stored bytes are not valid JSON"))
                continue
            if mismatch := column_mismatch(event, fields):
                problems.append(ChainProblem(event.seq, mismatch))
    return problems


# A column that differs from the hashed entry (verify_chain's own kind of problem; the
# label is column_mismatch's words).
COLUMN = "column"

# What the walker finds, as verify_chain names it (the tests' words).
CHAIN_WORDS = {
    COLUMN: "{label}",
    walk.GAP: "missing; next entry is #{other}",
    walk.REPEATED: "appears twice",
    walk.HASH: "hash does not match its stored bytes",
    walk.LEAF: "stored leaf hash is not a SHA-256 hash",
    walk.NOT_ENTRY: "stored bytes are not valid JSON",
    walk.MOVED: "sequence number differs from hashed entry",
    walk.CHAIN: "does not chain to the entry before it",
}


class _ParsedHeader:
    """verify_chain's header reader: the sequence number and chain link from the entry's
    parsed JSON (not from the canonical layout, which the quick paths read), the fields
    kept for the column check."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] | None = None

    def __call__(self, data: bytes) -> tuple[object, bytes | None] | None:
        try:
            fields = canonical.decode(data)
        except ValueError:
            fields = None
        self.fields = fields if isinstance(fields, dict) else None
        if self.fields is None:
            return None
        prev = self.fields.get("prev")
        return self.fields.get("seq"), prev.encode() if isinstance(prev, str) else None


def verify_chain(events: Iterable[Event] | None = None,
                 progress: Callable[[int], None] | None = None) -> list[ChainProblem]:
    """Entry by entry, with the JSON parsed: leaf hashes, the chain, sequence numbers and
    the query columns. (verify_log adds the tree, checkpoints and signatures, and is the
    fast whole-log check.) `progress` is told every 2,000 entries."""
    if events is None:
        events = Event.objects.order_by("seq").iterator(chunk_size=2000)
    parsed = _ParsedHeader()
    chain = walk.ChainWalk(header=parsed)
    chain.walk(_checked_rows(events, parsed, chain.problems, progress))
    problems = [ChainProblem(p.seq, said(p, CHAIN_WORDS)) for p in chain.problems]
    last = chain.expected - 1
    head = LogHead.objects.filter(pk=1).first()
    if head is not None and head.seq != last:
        problems.append(ChainProblem(
            head.seq, f"log head says #{head.seq} but the last entry is #{last}"))
    return problems


def _checked_rows(events: Iterable[Event], parsed: _ParsedHeader, problems: list[walk.Problem],
                  progress: Callable[[int], None] | None) -> Iterator[walk.Row]:
    """verify_chain's rows for the walker; each entry's columns are compared with its
    parsed fields once the walker has read it (it asks for the next row after it has
    named the problems of this one, so a column problem comes after them)."""
    walked = 0
    for event in events:
        walked += 1
        if progress is not None and walked % 2000 == 0:
            progress(2000)
        purged = event.purged_at is not None
        yield event.seq, None if purged else event.canonical.encode(), event.leaf_hash
        if not purged and parsed.fields is not None and (
                mismatch := column_mismatch(event, parsed.fields)):
            problems.append(walk.Problem(COLUMN, event.seq, label=mismatch))
    if progress is not None and walked % 2000:
        progress(walked % 2000)
