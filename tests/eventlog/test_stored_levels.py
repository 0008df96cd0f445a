"""Only subtrees of 2**STORED_LEVEL leaves and more are stored as Node rows; the smaller
ones are computed from leaf hashes. Proofs, roots and a log written when every level was
stored (its lower rows are kept and never read)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from secman.eventlog import merkle, proofs, services
from secman.eventlog.models import Event, Node
from tests.conftest import tamper


def append(count: int, start: int = 0) -> None:
    with transaction.atomic():
        services.record_batch([services.Entry(action="tests.thing", authority="SM 4.2",
                                              details={"number": start + n})
                               for n in range(count)])


def leaves() -> list[bytes]:
    return [bytes.fromhex(h) for h in Event.objects.order_by("seq")
            .values_list("leaf_hash", flat=True)]


def every_subtree(size: int) -> list[tuple[int, int, bytes]]:
    """Every complete subtree of a tree of `size` leaves (level >= 1), from the leaves."""
    found = []
    compact = merkle.CompactRange()
    for leaf in leaves()[:size]:
        compact.append(leaf, lambda level, index, h: found.append((level, index, h)))
    return found


def proofs_hold(size: int) -> None:
    all_leaves = leaves()
    root = merkle.root_of(all_leaves[:size])
    assert proofs.root_at(size) == root
    for seq in range(1, size + 1):
        proof = proofs.inclusion_proof(seq, size)
        assert proof["root_hash"] == root.hex()
        assert merkle.verify_inclusion(all_leaves[seq - 1], seq - 1, size,
                                       [bytes.fromhex(h) for h in proof["proof"]], root)
    for first in range(1, size + 1, 7):
        proof = proofs.consistency_proof(first, size)
        assert merkle.verify_consistency(
            first, size, merkle.root_of(all_leaves[:first]), root,
            [bytes.fromhex(h) for h in proof["proof"]]), first


def test_only_subtrees_of_sixteen_leaves_and_more_are_stored(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    append(40)
    append(1, 40)
    append(30, 41)
    size = proofs.tree_size()
    stored = {(n.level, n.index): n.hash for n in Node.objects.all()}
    expected = {(level, index): h.hex() for level, index, h in every_subtree(size)
                if level >= services.STORED_LEVEL}
    assert stored == expected and min(level for level, _ in stored) == 4
    for at in (1, 2, 3, 15, 16, 17, 31, 32, 33, size):
        proofs_hold(at)


def test_rows_of_the_lower_levels_from_an_older_log_are_not_read(db, settings, tmp_path):
    """A log written when every level was stored: its level 1-3 rows stay (nothing may
    delete them) and are not read; here they are wrong, and the proofs still hold."""
    settings.DATA_DIR = tmp_path / "data"
    append(37)
    with connection.cursor() as cursor:
        for level, index, _ in every_subtree(37):
            if level < services.STORED_LEVEL:
                cursor.execute('INSERT INTO eventlog_node (level, "index", hash) '
                               "VALUES (%s, %s, %s)", [level, index, "ab" * 32])
    assert Node.objects.filter(level__lt=services.STORED_LEVEL).count() == 18 + 9 + 4
    proofs_hold(37)


def test_a_missing_leaf_is_named(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    append(20)
    tamper("DELETE FROM eventlog_event WHERE seq = 18")
    for lookup in (proofs.node_lookup(), proofs.prefetched_lookup(
            lambda lk: lk(1, 8))):
        with pytest.raises(LookupError, match="the tree has no node 1/8"):
            lookup(1, 8)
