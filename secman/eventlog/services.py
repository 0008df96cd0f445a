"""Appending to the Event Log, checkpoints, retention: the only place that changes it.

Every service of every app calls `record()` inside the transaction that makes its
change, so the entry and the change are committed together or not at all. Appending
locks the log head row, computes the entry's canonical bytes (eventlog.canonical), its
RFC 9162 leaf hash, the Merkle subtrees it completes (those of STORED_LEVEL and up
stored as Node rows) and the new compact range; every SECMAN_EVENTLOG_CHECKPOINT_EVERY
entries or _SECONDS seconds it also signs a checkpoint, in the same transaction.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from secman.core import channel
from secman.core.authorities import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, holds_any
from secman.eventlog import canonical, keys, merkle, note
from secman.eventlog.models import (
    Checkpoint,
    Event,
    LegalHold,
    LogHead,
    Node,
    RetentionClass,
    RetentionPolicy,
    SigningKey,
    WitnessCheckpoint,
)

GENESIS_HASH = canonical.GENESIS
ACTOR_ID_RE = canonical.ACTOR_ID_RE

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
    _checkpoint_if_due(head, compact, now)
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


# --- checkpoints --------------------------------------------------------------------------


def _checkpoint_if_due(head: LogHead, compact: merkle.CompactRange, now: dt.datetime) -> None:
    last = Checkpoint.objects.order_by("-tree_size", "-id").first()
    done = last.tree_size if last else 0
    if compact.size - done >= settings.EVENTLOG_CHECKPOINT_EVERY or (
        compact.size > done
        and (last is None
             or (now - last.time).total_seconds() >= settings.EVENTLOG_CHECKPOINT_SECONDS)
    ):
        _sign_checkpoint(head, compact.size, compact.root(), last, now)


def _sign_checkpoint(head: LogHead, size: int, root: bytes, last: Checkpoint | None,
                     now: dt.datetime) -> Checkpoint:
    """`head` is the locked head row: it holds the origin, which the key's name is."""
    key_row, private = keys.current(head)
    prev_hash = note.note_hash(last.note) if last else None
    body = note.CheckpointBody(
        origin=key_row.name, size=size, root=root,
        time=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"), prev=prev_hash)
    signed = note.sign(body.text(), key_row.name, private)
    checkpoint = Checkpoint.objects.create(
        tree_size=size, root_hash=root.hex(), time=now,
        prev_note_hash=prev_hash.hex() if prev_hash else "", note=signed, key=key_row)
    if settings.EVENTLOG_WITNESSES:
        transaction.on_commit(lambda: _email_checkpoint(checkpoint.pk))
    return checkpoint


def change_origin(new: str, *, authority: Any, actor: Any | None = None,
                  actor_label: str = "secman command line") -> tuple[str, Checkpoint]:
    """Rename the log (its origin): retire every signing key, make the key that signs as
    `new` (the configured key file's key, or a new one), record the change with the old
    and the new name, and sign a checkpoint under the new name at once, linked to the
    last one under the old name. Returns (old name, that checkpoint). Old checkpoints
    keep verifying with their keys, which keep their names (keys.verifier_keys)."""
    from secman.eventlog.selectors import require_sysadmin

    require_sysadmin(actor, "renaming the Event Log")
    try:
        note.check_key_name(new)
    except note.NoteError as exc:
        raise RuleViolation(f"{new!r} cannot name the log: {exc}", field="origin") from None
    if settings.EVENTLOG_ORIGIN_EXPLICIT and new != settings.EVENTLOG_ORIGIN:
        raise RuleViolation(f"SECMAN_EVENTLOG_ORIGIN is {settings.EVENTLOG_ORIGIN!r}: set it "
                            f"to {new!r} (or unset it) to rename the log to {new!r}",
                            field="origin")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        head = _locked_head()
        old = head.origin or settings.EVENTLOG_ORIGIN
        if new == head.origin:
            raise RuleViolation(f"the log is named {new!r} already", field="origin")
        retired, key = keys.replace_key(head, new)
        record("eventlog.origin.change", actor=actor, actor_label=actor_label,
               authority=authority_row, subject=key,
               retention_class=RetentionClass.CONFIGURATION,
               details={"old": old, "new": new, "retired": [row.key_id for row in retired],
                        "key": key.key_id, "verifier_key": keys.verifier_key(key)})
        head = _locked_head()  # as the entry left it
        last = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and last.tree_size == head.seq and last.key_id == key.pk:
            return old, last  # the entry's own append signed it
        compact = _frontier(head)
        return old, _sign_checkpoint(head, compact.size, compact.root(), last, timezone.now())


def rotate_key() -> tuple[SigningKey, SigningKey]:
    """Retire the current key and make a new one under the same origin; returns (old,
    new). Checkpoints name their key, so old checkpoints still verify with the retired
    key's public half."""
    if settings.EVENTLOG_KEY_FILE:
        raise ValueError("the signing key comes from SECMAN_EVENTLOG_KEY_FILE: rotate it "
                         "there and point the setting at the new file")
    with transaction.atomic():
        head = _locked_head()
        name = keys._fixed_origin(head)
        unretired = SigningKey.objects.filter(retired_at__isnull=True, name=name).first()
        if unretired is None:
            old, _ = keys.current(head)
        else:
            old = unretired
        _, new = keys.replace_key(head, name)
        # The log says when its signer changed (the checkpoints name their key ids).
        record("eventlog.key.rotate", actor=None, actor_label="secman command line",
               authority="SM 4.2.2", subject=new,
               retention_class=RetentionClass.CONFIGURATION,
               details={"retired": old.key_id, "new": new.key_id,
                        "verifier_key": keys.verifier_key(new)})
    old.refresh_from_db()
    return old, new


def write_checkpoint(actor: Any | None = None) -> Checkpoint:
    """Sign a checkpoint of the log as it is now (on demand, or by the scheduler). If the
    newest checkpoint already covers every entry, it is returned instead."""
    from secman.eventlog.selectors import require_sysadmin

    require_sysadmin(actor, "a checkpoint on demand")
    with transaction.atomic():
        head = _locked_head()
        last = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and last.tree_size == head.seq:
            return last
        compact = _frontier(head)
        return _sign_checkpoint(head, compact.size, compact.root(), last, timezone.now())


def checkpoint_if_due() -> Checkpoint | None:
    """For the scheduler: a checkpoint when entries wait longer than the configured time."""
    with transaction.atomic():
        head = _locked_head()
        before = Checkpoint.objects.count()
        _checkpoint_if_due(head, _frontier(head), timezone.now())
        if Checkpoint.objects.count() > before:
            return Checkpoint.objects.order_by("-tree_size", "-id").first()
    return None


def _email_checkpoint(checkpoint_pk: int) -> None:
    checkpoint = Checkpoint.objects.get(pk=checkpoint_pk)
    try:
        send_mail(
            f"{settings.EMAIL_SUBJECT_PREFIX}Event Log checkpoint at {checkpoint.tree_size}",
            "Keep this checkpoint. Anyone can later check with it that secman's Event Log "
            "has only grown since now (secman eventlog import-checkpoint FILE).\n\n"
            + checkpoint.note,
            settings.DEFAULT_FROM_EMAIL, settings.EVENTLOG_WITNESSES,
        )
    except OSError:
        logging.getLogger(__name__).exception(
            "could not mail the checkpoint at %s to the witnesses", checkpoint.tree_size)
        return
    Checkpoint.objects.filter(pk=checkpoint_pk).update(emailed_at=timezone.now())


# --- reading the tree ---------------------------------------------------------------------

# Complete subtrees of 2**STORED_LEVEL leaves (16) and more are stored as Node rows when
# the append that completes them happens; a smaller one is computed from its leaf hashes
# (at most 8) when a proof or root needs it. Logs written when every level was stored
# keep their rows of the lower levels; they are not read.
STORED_LEVEL = 4


def _subtree_from_leaves(level: int, index: int, leaves: dict[int, bytes]) -> bytes:
    """A subtree below STORED_LEVEL from its leaf hashes (by sequence number)."""
    first = (index << level) + 1
    try:
        hashes = [leaves[seq] for seq in range(first, first + (1 << level))]
    except KeyError:
        raise LookupError(f"the tree has no node {level}/{index}") from None
    return merkle.root_of(hashes)


def _leaf_hashes(cursor: Any, seqs: list[int]) -> dict[int, bytes]:
    if not seqs:
        return {}
    cursor.execute("SELECT seq, leaf_hash FROM eventlog_event WHERE seq IN "  # noqa: S608
                   f"({', '.join(['%s'] * len(seqs))})", seqs)
    return {seq: bytes.fromhex(h) for seq, h in cursor.fetchall()}


def _leaves_under(level: int, index: int) -> range:
    """The sequence numbers of the leaves of subtree level/index (level 0: the leaf)."""
    return range((index << level) + 1, ((index + 1) << level) + 1)


def node_lookup() -> merkle.NodeLookup:
    """Hashes of perfect subtrees from the database: leaves from entries, subtrees of
    STORED_LEVEL and up from Node rows, the ones between from their leaves. Cached for
    the life of the returned function (one proof)."""
    cache: dict[tuple[int, int], bytes] = {}

    def lookup(level: int, index: int) -> bytes:
        key = (level, index)
        if key not in cache:
            if level < STORED_LEVEL:
                with connection.cursor() as cursor:
                    leaves = _leaf_hashes(cursor, list(_leaves_under(level, index)))
                if level == 0:
                    if index + 1 not in leaves:
                        raise LookupError(f"the tree has no node {level}/{index}")
                    cache[key] = leaves[index + 1]
                else:
                    cache[key] = _subtree_from_leaves(level, index, leaves)
            else:
                value = Node.objects.filter(level=level, index=index).values_list(
                    "hash", flat=True).first()
                if value is None:
                    raise LookupError(f"the tree has no node {level}/{index}")
                cache[key] = bytes.fromhex(value)
        return cache[key]

    return lookup


def tree_size() -> int:
    return LogHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


def root_at(size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.subtree_hash(0, size, node_lookup())


def prefetched_lookup(plan: Callable[[merkle.NodeLookup], object]) -> merkle.NodeLookup:
    """A lookup holding every node `plan` asks for, read in two queries instead of one
    per node: `plan` runs once with placeholder hashes (which nodes a proof or root
    needs depends only on sizes and positions, never on hash values)."""
    wanted: set[tuple[int, int]] = set()

    def note_wanted(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(32)

    plan(note_wanted)
    found: dict[tuple[int, int], bytes] = {}
    low = [(level, index) for level, index in wanted if level < STORED_LEVEL]
    inner = [(level, index) for level, index in wanted if level >= STORED_LEVEL]
    with connection.cursor() as cursor:
        if low:
            seqs = sorted({seq for level, index in low for seq in _leaves_under(level, index)})
            leaves = _leaf_hashes(cursor, seqs)
            for level, index in low:
                if level == 0:
                    if index + 1 in leaves:
                        found[(0, index)] = leaves[index + 1]
                else:
                    with contextlib.suppress(LookupError):  # raised when looked up
                        found[(level, index)] = _subtree_from_leaves(level, index, leaves)
        if inner:
            index_column = connection.ops.quote_name("index")
            condition = " OR ".join([f"(level = %s AND {index_column} = %s)"] * len(inner))
            cursor.execute(f"SELECT level, {index_column}, hash FROM eventlog_node "  # noqa: S608
                           f"WHERE {condition}", [v for pair in inner for v in pair])
            found.update(((level, index), bytes.fromhex(h))
                         for level, index, h in cursor.fetchall())

    def lookup(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise LookupError(f"the tree has no node {level}/{index}") from None

    return lookup


def inclusion_proof(seq: int, size: int | None = None) -> dict[str, Any]:
    size = tree_size() if size is None else size
    if not 1 <= seq <= size <= tree_size():
        raise ValueError(f"entry #{seq} is not in a tree of {size} entries")
    lookup = prefetched_lookup(lambda lk: (merkle.inclusion_proof(seq - 1, size, lk),
                                           merkle.subtree_hash(0, size, lk), lk(0, seq - 1)))
    proof = merkle.inclusion_proof(seq - 1, size, lookup)
    return {"seq": seq, "leaf_index": seq - 1, "tree_size": size,
            "leaf_hash": lookup(0, seq - 1).hex(),
            "root_hash": merkle.subtree_hash(0, size, lookup).hex(),
            "proof": [h.hex() for h in proof]}


def consistency_proof(first: int, second: int | None = None) -> dict[str, Any]:
    second = tree_size() if second is None else second
    if not 1 <= first <= second <= tree_size():
        raise ValueError(f"no consistency proof from {first} to {second} entries in a log "
                         f"of {tree_size()}")
    proof = merkle.consistency_proof(first, second, node_lookup())
    return {"first": first, "second": second, "first_root": root_at(first).hex(),
            "second_root": root_at(second).hex(), "proof": [h.hex() for h in proof]}


# --- witnesses ----------------------------------------------------------------------------


def import_checkpoint(note_text: str, *, source: str) -> WitnessCheckpoint:
    """Check a checkpoint kept outside secman against the log now, and remember it."""
    # A copy saved from the witnesses' mail has the mail's CRLF line endings.
    note_text = note_text.replace("\r\n", "\n")
    try:
        signed = note.SignedNote.parse(note_text)
        body = note.CheckpointBody.parse(signed.text)
    except note.NoteError as exc:
        raise ValueError(f"not a checkpoint: {exc}") from None
    verifiers = [note.Verifier.parse(v) for v in keys.verifier_keys()]
    # The origin first: another log's checkpoint is not a forgery of this one. A copy
    # signed before the log was renamed carries a name the log had.
    if body.origin not in keys.names():
        consistent, message = False, f"it is for another log ({body.origin})"
    elif not any(signed.verify(v) for v in verifiers):
        consistent, message = False, "its signature does not verify with any of secman's keys"
    elif body.size > tree_size():
        consistent, message = False, (f"it covers {body.size} entries but the log has only "
                                      f"{tree_size()}: entries were removed")
    elif root_at(body.size) != body.root:
        consistent, message = False, (f"the first {body.size} entries no longer hash to its "
                                      "root: the log was changed after it was published")
    else:
        consistent, message = True, (f"consistent: the log has grown from {body.size} to "
                                     f"{tree_size()} entries without changing")
    with transaction.atomic():
        return WitnessCheckpoint.objects.create(
            note=note_text, tree_size=body.size, root_hash=body.root.hex(),
            source=source[:200], consistent=consistent, message=message)


# --- retention (SM 4.2.1) -----------------------------------------------------------------


def update_retention(*, actor: Any, retention_class: str, minimum_days: int | None,
                     maximum_days: int | None, rule: str, restricted: bool,
                     authority: Any) -> RetentionPolicy:
    if not holds_any(actor, Role.BOARD_MEMBER, Role.SYSTEMS_ADMINISTRATOR):
        raise NotAllowed("retention periods are set by the Board or Systems Administrators",
                         section="SM 4.2.1")
    if retention_class not in RetentionClass.values:
        raise RuleViolation(f"{retention_class!r} is not a retention class",
                            field="retention_class")
    if minimum_days is not None and maximum_days is not None and minimum_days > maximum_days:
        raise RuleViolation("the minimum period is longer than the maximum",
                            field="maximum_days")
    if not rule.strip():
        raise RuleViolation("say the period as the manual says it", field="rule")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        policy = RetentionPolicy.objects.select_for_update().get(retention_class=retention_class)
        before = {"minimum_days": policy.minimum_days, "maximum_days": policy.maximum_days,
                  "rule": policy.rule, "restricted": policy.restricted}
        policy.minimum_days, policy.maximum_days = minimum_days, maximum_days
        policy.rule, policy.restricted = rule.strip(), restricted
        policy.save()
        record("eventlog.retention.update", actor=actor, authority=authority_row,
               subject=policy, retention_class=RetentionClass.CONFIGURATION,
               details={"class": retention_class, "before": before,
                        "after": {"minimum_days": minimum_days, "maximum_days": maximum_days,
                                  "rule": policy.rule, "restricted": restricted}})
    return policy


def place_hold(*, actor: Any, case: Any, retention_class: str = "", action_prefix: str = "",
               subject_type: str = "", subject_id: str = "", since: dt.date | None = None,
               until: dt.date | None = None) -> LegalHold:
    """SM 4.4.2: the Arbitrator (or Case Manager) keeps matching entries past their
    maximum for the case."""
    if not holds_any(actor, Role.ARBITRATOR, Role.CASE_MANAGER):
        raise NotAllowed("legal holds are placed by the Arbitrator or Case Manager",
                         section="SM 4.4.2")
    if not any([retention_class, action_prefix, subject_type, since, until]):
        raise RuleViolation("say which entries the hold keeps (class, action, subject or "
                            "dates); a hold on everything is not a hold", field="action_prefix")
    if retention_class and retention_class not in RetentionClass.values:
        raise RuleViolation(f"{retention_class!r} is not a retention class",
                            field="retention_class")
    if subject_id and not subject_type:
        raise RuleViolation("a subject id needs its subject type", field="subject_type")
    if since and until and since > until:
        raise RuleViolation("the hold's period ends before it starts", field="until")
    with transaction.atomic():
        authority_row = resolve_authority(case)
        hold = LegalHold.objects.create(
            case=case, retention_class=retention_class, action_prefix=action_prefix,
            subject_type=subject_type, subject_id=subject_id, since=since, until=until,
            placed_by=actor)
        record("eventlog.hold.place", actor=actor, authority=authority_row, subject=hold,
               retention_class=RetentionClass.INCIDENT,  # kept as long as the case file
               details={"case": case.number, "class": retention_class,
                        "action_prefix": action_prefix, "subject_type": subject_type,
                        "subject_id": subject_id, "since": since, "until": until})
    return hold


def release_hold(*, actor: Any, hold: LegalHold) -> LegalHold:
    if not holds_any(actor, Role.ARBITRATOR):
        raise NotAllowed("a legal hold is released by the Arbitrator", section="SM 4.4.2")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at:
            raise RuleViolation("this hold was released already")
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at"])
        record("eventlog.hold.release", actor=actor, authority=hold.case.number,
               subject=hold, retention_class=RetentionClass.INCIDENT,
               details={"case": hold.case.number})
    return hold


def _held(queryset: models.QuerySet[Event]) -> models.QuerySet[Event]:
    """Narrow `queryset` to entries some active legal hold keeps."""
    condition = models.Q(pk__in=[])
    for hold in LegalHold.objects.filter(released_at__isnull=True):
        match = models.Q()
        if hold.retention_class:
            match &= models.Q(retention_class=hold.retention_class)
        if hold.action_prefix:
            match &= models.Q(action__startswith=hold.action_prefix)
        if hold.subject_type:
            match &= models.Q(subject_type=hold.subject_type)
        if hold.subject_id:
            match &= models.Q(subject_id=hold.subject_id)
        if hold.since:
            match &= models.Q(recorded_at__date__gte=hold.since)
        if hold.until:
            match &= models.Q(recorded_at__date__lte=hold.until)
        condition |= match
    return queryset.filter(condition)


@dataclass
class PurgeResult:
    purged: dict[str, int]
    held: int
    event: Event | None


def purge(*, actor: Any | None = None, before: dt.datetime | None = None,
          now: dt.datetime | None = None) -> PurgeResult:
    """Empty the entries past their class's maximum (or, with `before`, older than that
    date, which must still respect every class's minimum), keeping their leaf hashes.
    Held entries stay. The purge is itself an entry."""
    now = now or timezone.now()
    policies = {p.retention_class: p for p in RetentionPolicy.objects.all()}
    cutoffs: dict[str, dt.datetime] = {}
    for retention_class, policy in policies.items():
        if before is not None:
            if policy.minimum_days is None or before > now - dt.timedelta(
                    days=policy.minimum_days):
                if Event.objects.filter(retention_class=retention_class,
                                        recorded_at__lt=before,
                                        purged_at__isnull=True).exists():
                    kept = ("indefinitely" if policy.minimum_days is None
                            else f"at least {policy.minimum_days} days")
                    raise RuleViolation(
                        f"{policy.get_retention_class_display()} entries are kept {kept}: "
                        f"purging before {before:%Y-%m-%d} would remove some too early",
                        section="SM 4.2.1")
                continue
            cutoffs[retention_class] = before
        elif policy.maximum_days is not None:
            cutoffs[retention_class] = now - dt.timedelta(days=policy.maximum_days)
    purged: dict[str, int] = {}
    with transaction.atomic():
        _locked_head()
        held_total = 0
        ranges: dict[str, list[int]] = {}
        for retention_class, cutoff in cutoffs.items():
            due = Event.objects.filter(retention_class=retention_class, recorded_at__lt=cutoff,
                                       purged_at__isnull=True)
            held_ids = set(_held(due).values_list("pk", flat=True))
            held_total += len(held_ids)
            ids = [pk for pk in due.values_list("pk", flat=True) if pk not in held_ids]
            if not ids:
                continue
            seqs = list(Event.objects.filter(pk__in=ids).values_list("seq", flat=True))
            ranges[retention_class] = [min(seqs), max(seqs)]
            purged[retention_class] = _empty(ids, now)
        event = None
        if purged or held_total:
            event = record(
                "eventlog.purge", actor=actor, actor_label="" if actor else "retention duty",
                authority="SM 4.2.1", retention_class=RetentionClass.CONFIGURATION,
                details={"purged": purged, "seq_ranges": ranges, "held": held_total,
                         "before": before})
    return PurgeResult(purged, held_total, event)


def _empty(ids: list[int], now: dt.datetime) -> int:
    """The one UPDATE the database triggers allow on entries: payload out, leaf kept.
    (EventQuerySet.update refuses every update, so the purge calls the plain one.)"""
    count = 0
    for start in range(0, len(ids), 500):
        rows = Event.objects.filter(pk__in=ids[start:start + 500], purged_at__isnull=True)
        count += models.QuerySet.update(
            rows, canonical="", details={}, signoffs=[], actor=None, actor_label="",
            subject_type="", subject_id="", subject_label="", authority="", purged_at=now)
    return count


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
    named = ACTOR_ID_RE.search(str(fields.get("actor", "")))
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


def verify_chain(events: Iterable[Event] | None = None,
                 progress: Callable[[int], None] | None = None) -> list[ChainProblem]:
    """Entry by entry, with the JSON parsed: leaf hashes, the chain, sequence numbers and
    the query columns. (secman.eventlog.verification adds the tree, checkpoints and
    signatures, and is the fast whole-log check.) `progress` is told every 2,000
    entries."""
    if events is None:
        events = Event.objects.order_by("seq").iterator(chunk_size=2000)
    problems: list[ChainProblem] = []
    previous_leaf = GENESIS_HASH
    expected_seq = 1
    walked = 0
    for event in events:
        walked += 1
        if progress is not None and walked % 2000 == 0:
            progress(2000)
        if event.seq != expected_seq:
            problems.append(ChainProblem(expected_seq, f"missing; next entry is #{event.seq}"))
            expected_seq = event.seq
        if event.purged_at is not None:
            previous_leaf = event.leaf_hash
            expected_seq += 1
            continue
        encoded = event.canonical.encode()
        if leaf_hex(encoded) != event.leaf_hash:
            problems.append(ChainProblem(event.seq, "hash does not match its stored bytes"))
        try:
            fields = canonical.decode(encoded)
        except ValueError:
            problems.append(ChainProblem(event.seq, "stored bytes are not valid JSON"))
            fields = {}
        if fields and fields.get("seq") != event.seq:
            problems.append(ChainProblem(event.seq, "sequence number differs from hashed entry"))
        if fields and fields.get("prev") != previous_leaf:
            problems.append(ChainProblem(event.seq, "does not chain to the entry before it"))
        if fields and (mismatch := column_mismatch(event, fields)):
            problems.append(ChainProblem(event.seq, mismatch))
        previous_leaf = event.leaf_hash
        expected_seq += 1
    if progress is not None and walked % 2000:
        progress(walked % 2000)
    head = LogHead.objects.filter(pk=1).first()
    if head is not None and head.seq != expected_seq - 1:
        problems.append(ChainProblem(
            head.seq, f"log head says #{head.seq} but the last entry is #{expected_seq - 1}"))
    return problems


def public_key_bytes(key_row: Any) -> bytes:
    return base64.b64decode(key_row.public_key)
