"""The systems' log as a Merkle log of its own (RFC 9162, the Event Log's engine in
eventlog.merkle): each stored message is a leaf, subtrees of 16 leaves and more are kept
as TreeNode rows, and a checkpoint is signed as a C2SP note under the name
`<Event Log origin>/systems-logs` (eventlog.checkpoints.companion_signer).

Kept apart from the Event Log: secman's own actions and the systems' messages have their
own trees, sizes and checkpoints, so neither can hide in the other and a purge of one
never touches the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secman.eventlog import merkle, note
from secman.eventlog.checkpoints import companion_signer
from secman.logs.models import Message, TreeCheckpoint, TreeHead, TreeNode

SUFFIX = "systems-logs"
# Subtrees of 2**STORED_LEVEL leaves and more are stored; smaller ones are hashed from
# at most 2**STORED_LEVEL leaf hashes when a proof needs them.
STORED_LEVEL = 4
# The canonical bytes' format version (the first element of the array).
FORMAT = 1


def time_text(value: dt.datetime | None) -> str | None:
    """A time as the canonical bytes hold it: UTC, microseconds, a Z."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    # isoformat rather than strftime: the same text, several times faster (per message).
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical(seq: int, received: dt.datetime, reported: dt.datetime | None, host: str,
              source_ip: str, facility: int, severity: int, program: str, log_class: str,
              text: str) -> bytes:
    """The bytes a message's leaf hashes: a JSON array in a fixed order. Everything the
    message says is in it, its class too, so a message cannot be moved to a class that
    is purged sooner without the tree noticing."""
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes,
    # byte for byte (tests/logs/test_store.py); the offline verifier uses the latter.
    return orjson.dumps([FORMAT, seq, time_text(received), time_text(reported), host,
                         source_ip, facility, severity, program, log_class, text])


def leaf_of(data: bytes) -> bytes:
    return sha256(b"\x00" + data).digest()


def locked_head() -> TreeHead:
    head, _ = TreeHead.objects.select_for_update().get_or_create(pk=1)
    return head


def compact_range(head: TreeHead) -> merkle.CompactRange:
    return merkle.CompactRange(head.size, [bytes.fromhex(h) for h in head.frontier.split(",")
                                           if h])


def append_leaves(head: TreeHead, leaves: list[bytes]) -> merkle.CompactRange:
    """Append leaf hashes to the locked head: store the subtrees they complete, move the
    head. The caller's transaction also stores the messages."""
    compact = compact_range(head)
    nodes: list[TreeNode] = []

    def keep(level: int, index: int, value: bytes) -> None:
        if level >= STORED_LEVEL:
            nodes.append(TreeNode(level=level, index=index, hash=value.hex()))

    for leaf in leaves:
        compact.append(leaf, keep)
    if nodes:
        TreeNode.objects.bulk_create(nodes)
    head.size = compact.size
    head.frontier = ",".join(h.hex() for h in compact.hashes)
    head.save(update_fields=["size", "frontier"])
    return compact


def sign_if_due(head: TreeHead, compact: merkle.CompactRange, now: dt.datetime,
                force: bool = False) -> TreeCheckpoint | None:
    """A checkpoint when SECMAN_EVENTLOG_CHECKPOINT_SECONDS have passed since the last
    one and messages came since (or `force`, with anything new)."""
    last = TreeCheckpoint.objects.order_by("-tree_size", "-id").first()
    done = last.tree_size if last else 0
    if compact.size == done:
        return None
    if not force and last is not None and (
            now - last.time).total_seconds() < settings.EVENTLOG_CHECKPOINT_SECONDS:
        return None
    return _sign(compact.size, compact.root(), last, now)


def _sign(size: int, root: bytes, last: TreeCheckpoint | None,
          now: dt.datetime) -> TreeCheckpoint:
    key_row, name, private = companion_signer(SUFFIX)
    prev = note.note_hash(last.note) if last else None
    body = note.CheckpointBody(
        origin=name, size=size, root=root,
        time=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"), prev=prev)
    signed = note.sign(body.text(), name, private)
    return TreeCheckpoint.objects.create(tree_size=size, root_hash=root.hex(), time=now,
                                         note=signed, key=key_row)


def checkpoint_now() -> TreeCheckpoint | None:
    """A checkpoint of everything stored (`secman logs verify --checkpoint` asks for one
    rather than wait): signed now, or the newest if it covers every message already;
    None while nothing is stored."""
    with transaction.atomic():
        head = locked_head()
        signed = sign_if_due(head, compact_range(head), timezone.now(), force=True)
        return signed or TreeCheckpoint.objects.order_by("-tree_size", "-id").first()


def verifier_key(checkpoint: TreeCheckpoint) -> str:
    import base64

    name = note.SignedNote.parse(checkpoint.note).text.split("\n", 1)[0]
    return note.verifier_key(name, base64.b64decode(checkpoint.key.public_key))


# --- reading the tree back ----------------------------------------------------------------


def node_lookup() -> merkle.NodeLookup:
    """The hash of a perfect subtree: stored ones read, small ones from leaf hashes."""

    def lookup(level: int, index: int) -> bytes:
        if level >= STORED_LEVEL:
            stored = TreeNode.objects.filter(level=level, index=index).values_list(
                "hash", flat=True).first()
            if stored is not None:
                return bytes.fromhex(stored)
        width = 1 << level
        leaves = [bytes.fromhex(h) for h in Message.objects.filter(
            seq__gte=index * width, seq__lt=(index + 1) * width).order_by("seq")
            .values_list("leaf_hash", flat=True)]
        if len(leaves) != width:
            raise ValueError(f"leaves {index * width}..{(index + 1) * width - 1} are missing")
        return merkle.root_of(leaves)

    return lookup


def inclusion(seq: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(seq, size, node_lookup())


def consistency(first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(first, second, node_lookup())


# --- verification -------------------------------------------------------------------------


@dataclass
class Verification:
    messages: int
    purged: int
    checkpoints: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(batch: int = 20000) -> Iterator[tuple[Any, ...]]:
    """Every message in leaf order, in batches (the log may hold millions)."""
    after = -1
    while True:
        rows = list(Message.objects.filter(seq__gt=after).order_by("seq").values_list(
            "seq", "received_at", "reported_at", "host", "source_ip", "facility", "severity",
            "program", "log_class", "text", "leaf_hash", "purged_at")[:batch])
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def verify(progress: Any = None) -> Verification:
    """Re-hash every message that still has its text, rebuild the tree from the leaf
    hashes, and check every checkpoint's signature, its root at its size, and its link
    to the one before. `progress(done)` is told every 20,000 messages."""
    checkpoints = list(TreeCheckpoint.objects.select_related("key").order_by("tree_size", "id"))
    wanted = {c.tree_size for c in checkpoints}
    roots: dict[int, bytes] = {}
    compact = merkle.CompactRange()
    problems: list[str] = []
    purged = 0
    for expected, (seq, received, reported, host, ip, facility, severity, program,
                   log_class, text, leaf_hex, purged_at) in enumerate(_rows()):
        if seq != expected:
            problems.append(f"message #{expected} is missing (the next stored is #{seq})")
            break
        if purged_at is None:
            leaf = leaf_of(canonical(seq, received, reported, host, ip, facility, severity,
                                     program, log_class, text))
            if leaf.hex() != leaf_hex:
                problems.append(f"message #{seq} ({host} {program}) was changed after it was "
                                "stored: it no longer hashes to its leaf")
        else:
            purged += 1
        compact.append(bytes.fromhex(leaf_hex))
        if compact.size in wanted:
            roots[compact.size] = compact.root()
        if progress is not None and compact.size % 20000 == 0:
            progress(compact.size)
    head = TreeHead.objects.filter(pk=1).first()
    if head is not None and head.size != compact.size and not problems:
        problems.append(f"the head says {head.size} messages but {compact.size} are stored")
    previous: TreeCheckpoint | None = None
    for checkpoint in checkpoints:
        problems.extend(_check_checkpoint(checkpoint, previous, roots))
        previous = checkpoint
    return Verification(compact.size, purged, len(checkpoints), problems)


def _check_checkpoint(checkpoint: TreeCheckpoint, previous: TreeCheckpoint | None,
                      roots: dict[int, bytes]) -> list[str]:
    where = f"checkpoint at {checkpoint.tree_size}"
    try:
        signed = note.SignedNote.parse(checkpoint.note)
        body = note.CheckpointBody.parse(signed.text)
    except note.NoteError as exc:
        return [f"{where}: not a checkpoint ({exc})"]
    problems = []
    if not signed.verify(note.Verifier.parse(verifier_key(checkpoint))):
        problems.append(f"{where}: its signature does not verify")
    if body.size != checkpoint.tree_size or body.root.hex() != checkpoint.root_hash:
        problems.append(f"{where}: its note and its columns disagree")
    if checkpoint.tree_size not in roots:
        problems.append(f"{where}: the log holds fewer messages than it covers")
    elif roots[checkpoint.tree_size] != body.root:
        problems.append(f"{where}: the messages no longer hash to its root")
    if previous is not None and body.prev != note.note_hash(previous.note):
        problems.append(f"{where}: it does not name the checkpoint before it")
    return problems

