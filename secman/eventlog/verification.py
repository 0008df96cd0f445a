"""Verifying the whole Event Log from the database: every leaf re-hashed from its stored
bytes, the chain and sequence numbers, the Merkle tree rebuilt and compared with every
signed checkpoint, every checkpoint's signature and its link to the one before, and,
if given, checkpoints kept outside secman.

The loop reads raw rows and never parses the JSON (the canonical header is read with one
regular expression), so a million entries verify in seconds; `columns=True` adds the
comparison of every entry's query columns with its hashed bytes (check_columns), which
the database does for all of them and services.column_mismatch for those it names.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import TYPE_CHECKING, Any, cast

from django.db import connection
from django.utils import timezone

from secman.eventlog import canonical, merkle, note, quickwalk
from secman.eventlog.models import Checkpoint, LogHead, SigningKey, VerificationRun

if TYPE_CHECKING:
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    root: bytes = merkle.EMPTY_ROOT

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
    for name, text in outside:
        body = _check_note(f"checkpoint {name}", text, verifiers, report)
        if body is not None:
            wanted.setdefault(body.size, []).append((f"checkpoint {name}, held outside",
                                                     body.root))

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


def _walk(last: int, wanted: dict[int, list[tuple[str, bytes]]], report: Report,
          progress: Callable[[int], None] | None) -> merkle.CompactRange:
    """Every entry up to #last in order, every problem named: the exact messages."""
    # The hot loop (a million entries a run): local names, the canonical bytes read as
    # stored (no decode and re-encode), the header compared as bytes, the compact range
    # kept inline; the messages are built only when something is wrong.
    hashes: list[bytes] = []
    size = 0
    previous_leaf = canonical.GENESIS.encode()
    expected = 1
    header = canonical.HEADER_RE.match
    as_bytes = ("CAST(canonical AS BLOB)" if connection.vendor == "sqlite"
                else "convert_to(canonical, 'UTF8')")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, {as_bytes}, leaf_hash, purged_at IS NOT NULL "  # noqa: S608
                       "FROM eventlog_event WHERE seq <= %s ORDER BY seq",
                       [last])
        while rows := cursor.fetchmany(5000):
            for seq, data, leaf_text, purged in rows:
                if seq != expected:
                    if seq > expected:
                        report.add(f"entry #{expected} is missing (the next entry is #{seq})")
                    else:
                        report.add(f"entry #{seq} appears twice")
                    expected = seq
                if purged:
                    leaf = bytes.fromhex(leaf_text)
                else:
                    leaf = sha256(b"\x00" + data).digest()
                    if leaf.hex() != leaf_text:
                        report.add(f"entry #{seq}: its stored bytes do not hash to its leaf "
                                   "hash (the entry was changed after it was written)")
                    found = header(data)
                    if found is None:
                        report.add(f"entry #{seq}: its stored bytes are not a version 2 "
                                   "entry")
                    else:
                        if found[1] != b"%d" % seq:
                            report.add(f"entry #{seq}: holds the bytes of entry "
                                       f"#{found[1].decode()} (entries were moved or swapped)")
                        if found[2] != previous_leaf:
                            report.add(f"entry #{seq}: does not chain to entry #{seq - 1} "
                                       "(an entry before it was changed, removed or moved)")
                previous_leaf = leaf_text.encode()
                index, current = size, leaf
                while index & 1:
                    current = sha256(b"\x01" + hashes.pop() + current).digest()
                    index >>= 1
                hashes.append(current)
                size += 1
                expected += 1
                if size in wanted:
                    root = merkle.CompactRange(size, hashes).root()
                    for label, signed_root in wanted.pop(size):
                        if signed_root != root:
                            report.add(f"the first {size} entries do not match the "
                                       f"root in the {label}: the log was changed after it "
                                       "was signed")
            if progress is not None:
                progress(len(rows))
    return merkle.CompactRange(size, hashes)


# --- the quick walk -------------------------------------------------------------------------
#
# The log is cut into aligned ranges of CHUNK entries (CHUNK a power of two, so each full
# range is one perfect subtree of the tree). Each range is walked on its own
# (quickwalk.walk_range), in spawned worker processes on a large log: its rows in
# insertion order (the table's own order, a sequential read), each leaf re-hashed and
# compared with its stored leaf hash, its header checked (sequence number, chain link)
# as _walk does, its subtrees built. A range answers with its compact range (one root
# when it is full), the compact ranges at every checkpoint size inside it, the chain
# link its first entry names and its last leaf hash; the parent checks the links
# between ranges and combines the roots (merkle.CompactRange.extend), so the tree is the
# same one _walk builds. A worker that fails, crashes or hangs costs time, not a result:
# the ranges are then walked in this process.
#
# The quick walk only says "all is well" or "something is off": at the first difference
# (a bad hash, a gap, a moved entry, a root that does not match a checkpoint) it gives
# up, and _walk goes over the whole log again to name every problem with its exact
# message. When it says all is well, _walk would have found nothing: it checks
# everything _walk checks, and the sequence numbers more strictly.

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
    its hashed bytes say, named as services.verify_chain names it. Each range of CHUNK
    entries is compared by the database, and the entries it cannot show to agree have
    their text rebuilt from their columns (quickwalk.column_suspects), in worker
    processes as the quick walk; the entries whose text does not come out the same are
    checked one by one with services.column_mismatch, which decides and words the
    problem."""
    from secman.eventlog.services import column_problems

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
    from secman.eventlog.selectors import require_sysadmin

    require_sysadmin(by, "verification on demand")
    started = timezone.now()
    report = verify_log(outside=outside, progress=progress)
    if columns:
        report.problems.extend(check_columns(progress=columns_progress))
    label = by_label or (getattr(by, "name", "") or "secman")
    return VerificationRun.objects.create(
        started_at=started, finished_at=timezone.now(), by=by, by_label=label,
        entries=report.entries, checkpoints=report.checkpoints, ok=report.ok,
        problems="\n".join(report.problems))


def head_size() -> int:
    return LogHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
