"""The chain walker (secman.eventlog.walk) on chains built by hand: every kind of problem
it names, the same findings however the rows are split into batches, and the quick
walk's way of giving up at the first one. No database: the walker is standard library
only, for the offline verifier."""

from __future__ import annotations

import pytest

from secman.eventlog import canonical, merkle, walk

TAIL = canonical.entry_tail(retention_class="application", actor="system", action="tests.walk",
                            subject_type="", subject_id="", subject_label="",
                            authority="SM 4.2", signoffs_json="[]", details_json="{}")
TIME = canonical.time_literal("2026-01-02T03:04:05Z")

Row = tuple[int, bytes | None, str]


def chain(count: int) -> list[Row]:
    """`count` entries as record() writes them: (seq, canonical bytes, leaf hash)."""
    rows: list[Row] = []
    prev = canonical.GENESIS
    for seq in range(1, count + 1):
        data = canonical.entry_text(seq, prev, TIME, TAIL).encode()
        prev = merkle.leaf_hash(data).hex()
        rows.append((seq, data, prev))
    return rows


def found(rows: list[Row], **options: object) -> list[tuple[str, int, int]]:
    walker = walk.ChainWalk(**options)  # type: ignore[arg-type]
    walker.walk(rows)
    return [(p.kind, p.seq, p.other) for p in walker.problems]


def test_an_intact_chain_has_no_problem_and_the_tree_of_its_leaves():
    rows = chain(21)
    walker = walk.ChainWalk(sizes=[5, 16])
    assert walker.walk(rows)
    assert walker.problems == []
    leaves = [bytes.fromhex(leaf) for _, _, leaf in rows]
    assert walker.compact.root() == merkle.root_of(leaves)
    assert walker.count == 21 and walker.last_leaf == rows[-1][2].encode()
    assert {size: at.root() for size, at in walker.at_sizes.items()} == {
        5: merkle.root_of(leaves[:5]), 16: merkle.root_of(leaves[:16])}


def test_a_purged_entry_stands_by_its_leaf_hash():
    rows = chain(6)
    rows[2] = (3, None, rows[2][2])
    walker = walk.ChainWalk()
    walker.walk(rows)
    assert walker.problems == []
    assert walker.compact.root() == merkle.root_of([bytes.fromhex(r[2]) for r in rows])


@pytest.mark.parametrize("batch", [1, 2, 5, 100])
def test_the_findings_do_not_depend_on_how_the_rows_are_batched(batch):
    rows = chain(12)
    rows[4] = (5, rows[4][1].replace(b"SM 4.2", b"SM 9.9"), rows[4][2])  # edited
    del rows[7]  # removed
    whole = found(rows)
    walker = walk.ChainWalk()
    for start in range(0, len(rows), batch):
        walker.walk(rows[start:start + batch])
    assert [(p.kind, p.seq, p.other) for p in walker.problems] == whole == [
        (walk.HASH, 5, 0), (walk.GAP, 8, 9), (walk.CHAIN, 9, 0)]


def test_every_kind_of_tampering_is_named():
    rows = chain(10)
    rows[1] = (2, rows[1][1], "ab" * 32)  # a leaf hash replaced
    rows[3], rows[4] = (4, rows[4][1], rows[4][2]), (5, rows[3][1], rows[3][2])  # swapped
    rows[6] = (7, b'{"not":"an entry"}', merkle.leaf_hash(b'{"not":"an entry"}').hex())
    rows[8] = (9, None, "not a hash")  # a purged entry's leaf hash made unreadable
    assert found(rows) == [
        (walk.HASH, 2, 0),
        (walk.CHAIN, 3, 0),
        (walk.MOVED, 4, 5), (walk.CHAIN, 4, 0),
        (walk.MOVED, 5, 4), (walk.CHAIN, 5, 0),
        (walk.CHAIN, 6, 0),
        (walk.NOT_ENTRY, 7, 0),
        (walk.CHAIN, 8, 0),
        (walk.LEAF, 9, 0),
        (walk.CHAIN, 10, 0),
    ]


def test_a_row_that_comes_again_or_late_takes_no_place_of_its_own():
    rows = chain(5)
    # Lines 2 and 3 swapped: #2 is missing before #3, and comes after it.
    assert found([rows[0], rows[2], rows[1], rows[3], rows[4]]) == [
        (walk.GAP, 2, 3), (walk.CHAIN, 3, 0), (walk.REPEATED, 2, 3), (walk.CHAIN, 2, 0),
        (walk.CHAIN, 4, 0)]
    assert found([rows[0], rows[1], rows[1], rows[2]]) == [
        (walk.REPEATED, 2, 2), (walk.CHAIN, 2, 0)]


def test_a_link_to_a_leaf_hash_that_is_not_a_hash_is_named():
    """After a leaf hash that is not 64 hex digits, the next header is read, not compared
    by the bytes it starts with: bytes that name that text as their link are no entry."""
    rows = chain(3)
    rows[0] = (1, rows[0][1], "NOT-A-HASH")
    data = canonical.entry_text(2, "NOT-A-HASH", TIME, TAIL).encode()
    rows[1] = (2, data, merkle.leaf_hash(data).hex())
    assert found(rows) == [(walk.HASH, 1, 0), (walk.NOT_ENTRY, 2, 0), (walk.CHAIN, 3, 0)]


def test_signed_roots_are_compared_as_the_tree_reaches_their_size():
    rows = chain(8)
    leaves = [bytes.fromhex(leaf) for _, _, leaf in rows]
    walker = walk.ChainWalk(roots={3: [("good", merkle.root_of(leaves[:3]))],
                                   6: [("forged", bytes(32))], 20: [("later", bytes(32))]})
    walker.walk(rows)
    assert [(p.kind, p.seq, p.label) for p in walker.problems] == [(walk.ROOT, 6, "forged")]
    assert set(walker.roots) == {20}  # not reached


def test_a_range_walked_on_its_own_keeps_its_first_link_and_a_tree_of_its_own():
    rows = chain(12)
    walker = walk.ChainWalk(start=8, link=None, sizes=[10])
    assert walker.walk(rows[8:])
    assert walker.first_link == rows[7][2].encode()
    assert walker.compact.size == 4 and walker.count == 12
    leaves = [bytes.fromhex(leaf) for _, _, leaf in rows]
    assert walker.compact.root() == merkle.root_of(leaves[8:])
    assert walker.at_sizes[10].root() == merkle.root_of(leaves[8:10])


def test_a_range_continues_the_tree_before_it_from_its_prefix():
    rows = chain(7)
    leaves = [bytes.fromhex(leaf) for _, _, leaf in rows]
    prefix = merkle.CompactRange()
    for leaf in leaves[:4]:
        prefix.append(leaf)
    walker = walk.ChainWalk(start=4, prefix=prefix, link=None,
                            roots={6: [("at 6", merkle.root_of(leaves[:6]))]})
    walker.walk(rows[4:])
    assert walker.problems == []
    assert walker.compact.root() == merkle.root_of(leaves)


def test_the_quick_walk_gives_up_at_the_first_problem():
    rows = chain(6)
    rows[1] = (2, rows[1][1], "ab" * 32)
    walker = walk.ChainWalk(stop=True)
    assert not walker.walk(rows)
    assert [(p.kind, p.seq) for p in walker.problems] == [(walk.HASH, 2)]
    assert not walker.walk(rows[2:])  # and stays given up
