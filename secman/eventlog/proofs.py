"""Reading the Event Log's Merkle tree: the hash of any perfect subtree (from the leaf
hashes of the entries, or the Node rows the append stores for subtrees of
2**services.STORED_LEVEL leaves and more), the root at any size, and the RFC 9162
inclusion and consistency proofs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.db import connection

from secman.eventlog import merkle
from secman.eventlog.models import LogHead, Node
from secman.eventlog.services import STORED_LEVEL


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

