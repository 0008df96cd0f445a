"""Appending to the Event Log, and checking its chain.

Every service calls `record()` inside the transaction that makes its change, so the
entry and the change are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from secman.eventlog.models import Event, LogHead, RetentionClass

GENESIS_HASH = "0" * 64
ACTOR_ID_RE = re.compile(r" \(#([0-9]+)\)$")
CANONICAL_VERSION = 1

# Words that must never appear as keys of an entry's details: the log is read by many
# and kept for years, so a secret written there cannot be taken back.
SECRET_WORDS = ("password", "passphrase", "secret", "token", "private_key")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: the same entry always gives the
    same bytes."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def _plain(value: Any) -> Any:
    """Dates, decimals and UUIDs to strings, so details hash the same after a round trip."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


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
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("record() must run inside the transaction of the change it records")
    if not str(authority):
        raise ValueError("every Event Log entry names its authority")
    details = _plain(details or {})
    signoffs = _plain(list(signoffs))
    _check_storable(details)
    if retention_class not in RetentionClass.values:
        raise ValueError(f"unknown retention class {retention_class!r}")

    head = LogHead.objects.select_for_update().get(pk=1)
    now = timezone.now()
    subject_type, subject_id, subject_label = _subject_fields(subject)
    # An actor is always named with their id, so verification can check the actor column.
    if actor is not None:
        label = f"{actor_label or actor.name} (#{actor.pk})"
    else:
        label = actor_label or "system"
    _check_storable({"action": action, "actor": label, "authority": str(authority),
                     "signoffs": signoffs}, "entry")
    seq = head.seq + 1
    fields: dict[str, Any] = {
        "v": CANONICAL_VERSION,
        "seq": seq,
        "time": now.isoformat().replace("+00:00", "Z"),
        "actor": label,
        "action": action,
        "subject": {"type": subject_type, "id": subject_id, "label": subject_label},
        "authority": str(authority),
        "signoffs": signoffs,
        "details": details,
        "class": retention_class,
        "prev": head.head_hash,
    }
    canonical = canonical_bytes(fields)
    digest = entry_hash(canonical)
    event = Event.objects.create(
        seq=seq,
        recorded_at=now,
        actor=actor,
        actor_label=label,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label,
        authority=str(authority),
        signoffs=signoffs,
        details=details,
        retention_class=retention_class,
        canonical=canonical.decode(),
        prev_hash=head.head_hash,
        entry_hash=digest,
    )
    LogHead.objects.filter(pk=1).update(seq=seq, head_hash=digest)
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.problem}"


def _column_mismatch(event: Event, fields: dict[str, Any]) -> str:
    """Name the first column that no longer says what the hashed bytes say."""
    expected = {
        "action": event.action,
        "authority": event.authority,
        "actor": event.actor_label,
        "class": event.retention_class,
        "details": event.details,
        "signoffs": event.signoffs,
        "prev": event.prev_hash,
        "subject": {
            "type": event.subject_type,
            "id": event.subject_id,
            "label": event.subject_label,
        },
    }
    for key, value in expected.items():
        if fields.get(key) != value:
            return f"column {key!r} differs from the hashed entry"
    # The actor column (what the log is filtered by) must be the person the hashed label
    # names, "Name (#12)"; an entry without an actor names nobody that way.
    named = ACTOR_ID_RE.search(str(fields.get("actor", "")))
    if (int(named[1]) if named else None) != event.actor_id:
        return "column 'actor' differs from the hashed entry"
    if fields.get("time") != event.recorded_at.isoformat().replace("+00:00", "Z"):
        return "column 'time' differs from the hashed entry"
    return ""


def verify_chain(events: Iterable[Event] | None = None) -> list[ChainProblem]:
    """Walk the chain from the start; return the problems found, first bad entry first."""
    if events is None:
        events = Event.objects.order_by("seq").iterator(chunk_size=2000)
    problems: list[ChainProblem] = []
    previous_hash = GENESIS_HASH
    expected_seq = 1
    for event in events:
        canonical = event.canonical.encode()
        if event.seq != expected_seq:
            problems.append(ChainProblem(expected_seq, f"missing; next entry is #{event.seq}"))
            expected_seq = event.seq
        if entry_hash(canonical) != event.entry_hash:
            problems.append(ChainProblem(event.seq, "hash does not match its stored bytes"))
        try:
            fields = json.loads(canonical)
        except ValueError:
            problems.append(ChainProblem(event.seq, "stored bytes are not valid JSON"))
            fields = {}
        if fields and fields.get("seq") != event.seq:
            problems.append(ChainProblem(event.seq, "sequence number differs from hashed entry"))
        if fields and fields.get("prev") != previous_hash:
            problems.append(ChainProblem(event.seq, "does not chain to the entry before it"))
        if fields and (mismatch := _column_mismatch(event, fields)):
            problems.append(ChainProblem(event.seq, mismatch))
        previous_hash = event.entry_hash
        expected_seq += 1
    head = LogHead.objects.filter(pk=1).first()
    if head is not None and head.seq != expected_seq - 1:
        problems.append(
            ChainProblem(head.seq, f"log head says #{head.seq} but the last entry is "
                         f"#{expected_seq - 1}")
        )
    return problems
