"""Appending to the Event Log: the only way an entry is written.

Every service of every app calls `record()` inside the transaction that makes its
change, so the entry and the change are committed together or not at all. Appending
locks the log head row, computes the entry's canonical bytes (eventlog.canonical), its
RFC 9162 leaf hash, the Merkle subtrees it completes (those of STORED_LEVEL and up
stored as Node rows) and the new compact range; every SECMAN_EVENTLOG_CHECKPOINT_EVERY
entries or _SECONDS seconds it also signs a checkpoint, in the same transaction
(eventlog.signing).

The Event Log's other services live beside this module: checkpoints, keys and the log's
name (checkpoints), retention, legal holds and the purge (retention); reading the tree
and its proofs is eventlog.proofs, verifying the log eventlog.verification.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from secman.core import channel
from secman.core.errors import RuleViolation
from secman.eventlog import canonical, merkle, signing
from secman.eventlog.models import Event, LogHead, RetentionClass

GENESIS_HASH = canonical.GENESIS

# The largest entry, in bytes of its canonical text: the log keeps every entry for years
# and none can be deleted, so no input may bloat it. Free text has its maxima
# (core.validation: a field takes at most TEXT_MAX characters, a Board decision's text
# LONG_TEXT_MAX); the largest entry a service writes with every field at its maximum, in
# four-byte characters, stays below this (docs/rules.md, "Free text").
MAX_ENTRY_BYTES = 256 * 1024
# What canonical.entry_text puts before an entry's tail, at most: {"v":2,"seq":<20
# digits>,"prev":"<64 hex>","time":"<ISO time with microseconds>Z".
_HEADER_BYTES = 160
_TAIL_BYTES = MAX_ENTRY_BYTES - _HEADER_BYTES


def _check_size(action: str, tail: str) -> None:
    """Refuse an entry larger than MAX_ENTRY_BYTES before anything is written. UTF-8 takes
    one to four bytes a character: only a tail near the limit is encoded to count."""
    if len(tail) * 4 <= _TAIL_BYTES:
        return
    size = len(tail.encode()) + _HEADER_BYTES
    if size > MAX_ENTRY_BYTES:
        raise RuleViolation(f"the Event Log entry {action} would take {size:,} bytes; an "
                            f"entry takes at most {MAX_ENTRY_BYTES:,}: shorten the text")


# Words that must never appear as keys of an entry's details: the log is read by many
# and kept for years, so a secret written there cannot be taken back.
SECRET_WORDS = ("password", "passphrase", "secret", "token", "private_key")


def _suspect(text: str) -> bool:
    """A quick look at an entry's JSON text (not ASCII-escaped, so lower() matches what it
    does on each key): only text that contains a secret word or an escaped NUL is walked
    key by key (_check_storable), which then names the offending key, or passes it.
    The words are written out (a regular expression of them took twice as long); a test
    checks them against SECRET_WORDS."""
    lowered = text.lower()
    return ("password" in lowered or "passphrase" in lowered or "secret" in lowered
            or "token" in lowered or "private_key" in lowered or "\\u0000" in lowered)


_CLASSES = frozenset(RetentionClass.values)
_JSON_DEFAULT = DjangoJSONEncoder().default


def _sorted_encoder() -> Callable[[Any], str]:
    """Compact JSON with sorted keys at every level: the text of sign-offs and details as
    the canonical bytes hold it (canonical.sorted_json), made once per entry and used for
    the bytes, the secret/NUL look and the JSON columns alike.

    JSONEncoder.encode() builds a new C encoder for every call; this keeps one (the same
    C function with the same arguments, without the circular-reference markers, so a
    value too deep or circular goes to encode() for its usual error)."""
    standard = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True,
                                default=_JSON_DEFAULT).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return standard
    fast = make(None, _JSON_DEFAULT, json.encoder.encode_basestring, None, ":", ",", True,
                False, True)

    def encode(value: Any) -> str:
        try:
            return "".join(fast(value, 0))
        except RecursionError:
            return standard(value)

    return encode


_SORTED_ENCODE = _sorted_encoder()
_DECODE = json.JSONDecoder().decode


def leaf_hex(canonical_bytes: bytes) -> str:
    return sha256(b"\x00" + canonical_bytes).hexdigest()


def _plain(value: Any) -> Any:
    return canonical.plain(value, default=_JSON_DEFAULT)


def _check_storable(value: Any, path: str = "details") -> None:
    """Refuse secrets, and NUL characters (PostgreSQL cannot store them, and an entry
    must be storable the same way on every database)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path}: NUL characters cannot be stored in the Event Log")
    elif isinstance(value, dict):
        for key, item in value.items():
            if any(word in str(key).lower() for word in SECRET_WORDS):
                raise ValueError(f"{path}.{key}: secrets are never written to the Event Log")
            _check_storable(key, f"{path} key")
            _check_storable(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{path}[{index}]")


def _subject_fields(subject: models.Model | None) -> tuple[str, str, str]:
    if subject is None:
        return "", "", ""
    return subject._meta.label_lower, str(subject.pk), str(subject)[:300]


# How the action came (core.channel: web, api, or cli with the operating-system user),
# kept under this key of the details. In the details rather than in columns of its own:
# the details are hashed into the entry's canonical bytes, so the channel is as
# tamper-evident as the actor, and the canonical format (version 2), the chain of old
# entries and the offline verifier stay as they are (docs/eventlog.md, "Channel").
VIA = "via"


@dataclass
class Entry:
    """What a service asks to append; `record()` builds one, `record_batch()` takes many."""

    action: str
    authority: str
    actor: Any | None = None
    actor_label: str = ""
    subject: models.Model | None = None
    details: dict[str, Any] = field(default_factory=dict)
    signoffs: Sequence[dict[str, Any]] = ()
    retention_class: str = RetentionClass.APPLICATION

    def prepared(self) -> tuple[str, tuple[Any, ...], Any]:
        """Check the entry and encode what does not depend on its place in the log: the
        sign-offs and details are encoded to JSON once, and that text makes both the
        canonical bytes (canonical.entry_tail) and the JSON columns. Returns the end of
        its canonical text, its column values (actor_id .. retention_class, in
        _EVENT_COLUMNS order) and its actor."""
        authority = str(self.authority)
        if not authority:
            raise ValueError("every Event Log entry names its authority")
        if self.retention_class not in _CLASSES:
            raise ValueError(f"unknown retention class {self.retention_class!r}")
        details = self.details or {}
        if VIA in details:
            raise ValueError(f"details[{VIA!r}] is the channel's, set by the Event Log itself")
        via = channel.current()
        if via is not None:
            details = {**details, VIA: via.as_details()}
        details_text = _SORTED_ENCODE(details)
        signoffs = self.signoffs
        signoffs_text = _SORTED_ENCODE(signoffs if isinstance(signoffs, list | tuple)
                                       else list(signoffs))
        if self.subject is None:
            subject_type = subject_id = subject_label = ""
        else:
            subject_type, subject_id, subject_label = _subject_fields(self.subject)
        # An actor is named with their id, so verification can check the actor column.
        actor = self.actor
        if actor is not None:
            label = f"{self.actor_label or actor.name} (#{actor.pk})"
            actor_id = actor.pk
        else:
            label = self.actor_label or "system"
            actor_id = None
        retention_class = str(self.retention_class)
        action = self.action
        if "\x00" in "".join((action, label, authority, subject_label)) or _suspect(
                details_text + signoffs_text):
            # Rare: walk the values key by key, to name the offending key (or pass).
            _check_storable(_DECODE(details_text))
            _check_storable({"action": action, "actor": label, "authority": authority,
                             "signoffs": _DECODE(signoffs_text), "subject": subject_label},
                            "entry")
        tail = canonical.entry_tail(
            retention_class=retention_class, actor=label, action=action,
            subject_type=subject_type, subject_id=subject_id, subject_label=subject_label,
            authority=authority, signoffs_json=signoffs_text, details_json=details_text)
        _check_size(action, tail)
        return tail, (actor_id, label, action, subject_type, subject_id, subject_label,
                      authority, signoffs_text, details_text, retention_class), actor


def record(
    action: str,
    *,
    actor: Any | None,
    authority: Any,
    subject: models.Model | None = None,
    details: dict[str, Any] | None = None,
    signoffs: Sequence[dict[str, Any]] = (),
    retention_class: str = RetentionClass.APPLICATION,
    actor_label: str = "",
) -> Event:
    """Append one entry. Must run inside the transaction of the change it records."""
    entry = Entry(action=action, authority=str(authority), actor=actor,
                  actor_label=actor_label, subject=subject, details=details or {},
                  signoffs=signoffs, retention_class=retention_class)
    return _append([entry], return_events=True)[0]


def record_batch(entries: Sequence[Entry]) -> list[int]:
    """Append many entries under one lock (importers, bulk loads); returns their sequence
    numbers. Must run inside the caller's transaction, like record()."""
    if not entries:
        return []
    return [event.seq for event in _append(list(entries), return_events=False)]


class _Row:
    """A written entry when the caller does not need model instances (batch appends)."""

    __slots__ = ("seq",)

    def __init__(self, seq: int) -> None:
        self.seq = seq


def _locked_head() -> LogHead:
    """The head row, locked until the transaction ends. Migration 0002 makes it; it is
    made again here if a database was emptied (tests flush theirs)."""
    head, _ = LogHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "head_hash": GENESIS_HASH})
    return head


def _frontier(head: LogHead) -> merkle.CompactRange:
    hashes = [bytes.fromhex(h) for h in head.frontier.split(",") if h]
    return merkle.CompactRange(head.seq, hashes)


def _append(entries: list[Entry], *, return_events: bool) -> list[Any]:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record() must run inside the transaction of the change it records")
    prepared = [entry.prepared() for entry in entries]
    head = _locked_head()
    compact = _frontier(head)
    hashes, size = compact.hashes, compact.size
    nodes: list[tuple[int, int, str]] = []
    add_node = nodes.append
    rows: list[tuple[Any, ...]] = []
    add_row = rows.append
    prev = head.head_hash
    now = timezone.now()
    time_json = canonical.time_literal(now.isoformat().replace("+00:00", "Z"))
    recorded_at = connection.ops.adapt_datetimefield_value(now)
    entry_text = canonical.entry_text
    seq = head.seq
    # Per entry: its text, one SHA-256 for the leaf and one per subtree it completes
    # (merkle.CompactRange.append, inline), and its row.
    for tail, columns, _ in prepared:
        seq += 1
        text = entry_text(seq, prev, time_json, tail)
        current = sha256(b"\x00" + text.encode()).digest()
        leaf_text = current.hex()
        index, level = size, 0
        while index & 1:
            current = sha256(b"\x01" + hashes.pop() + current).digest()
            index >>= 1
            level += 1
            if level >= STORED_LEVEL:
                add_node((level, index, current.hex()))
        hashes.append(current)
        size += 1
        add_row((seq, recorded_at, *columns, text, prev, leaf_text))
        prev = leaf_text
    compact = merkle.CompactRange(size, hashes)
    result: list[Any]
    if return_events:
        result = [_event(now, row, actor)
                  for row, (_, _, actor) in zip(rows, prepared, strict=True)]
        for event, row in zip(result, rows, strict=True):
            _save_new(event, signoffs_text=row[9], details_text=row[10])
        _insert_nodes(nodes)
    else:
        _insert_rows(rows, nodes)
        result = [_Row(row[0]) for row in rows]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE eventlog_loghead SET seq = %s, head_hash = %s, frontier = %s "
                       "WHERE id = 1", [seq, prev, ",".join(h.hex() for h in hashes)])
    head.seq, head.head_hash = seq, prev
    signing.sign_if_due(head, compact, now)
    return result


_EVENT_COLUMNS = ("seq", "recorded_at", "actor_id", "actor_label", "action", "subject_type",
                  "subject_id", "subject_label", "authority", "signoffs", "details",
                  "retention_class", "canonical", "prev_hash", "leaf_hash")


def _event(now: dt.datetime, row: tuple[Any, ...], actor: Any) -> Event:
    """A model instance for record(), holding the same values as the batch path's row."""
    (seq, _, _, label, action, subject_type, subject_id, subject_label, authority,
     signoffs, details, retention_class, text, prev, leaf) = row
    return Event(
        seq=seq, recorded_at=now, actor=actor, actor_label=label, action=action,
        subject_type=subject_type, subject_id=subject_id, subject_label=subject_label,
        authority=authority, signoffs=_DECODE(signoffs), details=_DECODE(details),
        retention_class=retention_class, canonical=text, prev_hash=prev, leaf_hash=leaf)


def _save_new(event: Event, *, signoffs_text: str, details_text: str) -> None:
    """record()'s insert. On SQLite the JSON columns get the text the canonical bytes hold,
    as the batch path writes them (the ORM would write json.dumps()'s, with spaces), so
    the database's column check compares text with text (quickwalk.column_query).
    PostgreSQL's jsonb keeps a text of its own whatever is written."""
    if connection.vendor != "sqlite":
        event.save(force_insert=True)
        return
    signoffs, details = event.signoffs, event.details
    event.signoffs = RawSQL("%s", [signoffs_text])  # type: ignore[assignment]
    event.details = RawSQL("%s", [details_text])  # type: ignore[assignment]
    try:
        event.save(force_insert=True)
    finally:
        event.signoffs, event.details = signoffs, details


def _insert_rows(rows: list[tuple[Any, ...]], nodes: list[tuple[int, int, str]]) -> None:
    """The batch path: every entry and every node in one statement each, through the
    driver's own cursor on the connection (and transaction) Django holds. The JSON
    columns get the same text the canonical bytes hold (the same values the ORM would
    write). PostgreSQL: COPY (psycopg 3 sends an executemany row by row); SQLite: one
    executemany."""
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "postgresql":
        with connection.wrap_database_errors, raw.cursor() as cursor:
            with cursor.copy(f"COPY eventlog_event ({', '.join(_EVENT_COLUMNS)}) "
                             "FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
            if nodes:
                with cursor.copy('COPY eventlog_node (level, "index", hash) FROM STDIN') as copy:
                    write = copy.write_row
                    for node in nodes:
                        write(node)
        return
    cursor = raw.cursor()
    try:
        with connection.wrap_database_errors:
            cursor.executemany(f"INSERT INTO eventlog_event ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608
                               f"VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})", rows)
            if nodes:
                cursor.executemany('INSERT INTO eventlog_node (level, "index", hash) '
                                   "VALUES (?, ?, ?)", nodes)
    finally:
        cursor.close()


def _insert_nodes(nodes: list[tuple[int, int, str]]) -> None:
    if nodes:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO eventlog_node (level, {connection.ops.quote_name('index')}, "  # noqa: S608
                "hash) VALUES (%s, %s, %s)", nodes)

# Complete subtrees of 2**STORED_LEVEL leaves (16) and more are stored as Node rows when
# the append that completes them happens; a smaller one is computed from its leaf hashes
# (at most 8) when a proof or root needs it. Logs written when every level was stored
# keep their rows of the lower levels; they are not read.
STORED_LEVEL = 4

