"""The Merkle tree against its definition in RFC 9162, for every small size and random
larger ones: roots agree, every proof verifies, and any changed byte is caught."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secman.eventlog import merkle


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def lookup_for(leaf_list: list[bytes]):
    def node(level: int, index: int) -> bytes:
        width = 1 << level
        return merkle.root_of(leaf_list[index * width:(index + 1) * width])

    return node


def test_it_hashes_as_rfc_9162_says():
    assert merkle.root_of([]) == sha256(b"").digest()
    assert merkle.leaf_hash(b"x") == sha256(b"\x00x").digest()
    a, b, c = leaves(3)
    assert merkle.root_of([a, b, c]) == merkle.node_hash(merkle.node_hash(a, b), c)


def test_it_keeps_the_root_with_a_compact_range_and_reports_every_closed_subtree():
    leaf_list = leaves(70)
    compact = merkle.CompactRange()
    closed = {}
    for n, leaf in enumerate(leaf_list, start=1):
        compact.append(leaf, lambda level, index, h: closed.__setitem__((level, index), h))
        assert compact.root() == merkle.root_of(leaf_list[:n])
    node = lookup_for(leaf_list)
    assert closed == {key: node(*key) for key in closed}
    assert (6, 0) in closed  # the first 64 leaves


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_it_proves_inclusion_and_consistency(size, data):
    leaf_list = leaves(size)
    node = lookup_for(leaf_list)
    root = merkle.root_of(leaf_list)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, node)
    assert merkle.verify_inclusion(leaf_list[index], index, size, proof, root)
    assert not merkle.verify_inclusion(leaf_list[index], index, size, proof,
                                       sha256(b"other").digest())
    if size > 1:
        other = (index + 1) % size
        assert not merkle.verify_inclusion(leaf_list[other], index, size, proof, root)
    first = data.draw(st.integers(1, size))
    first_root = merkle.root_of(leaf_list[:first])
    consistency = merkle.consistency_proof(first, size, node)
    assert merkle.verify_consistency(first, size, first_root, root, consistency)
    if first < size:
        assert not merkle.verify_consistency(first, size, sha256(b"forged").digest(), root,
                                             consistency)
        bent = [*consistency[:-1], sha256(b"bent").digest()]
        assert not merkle.verify_consistency(first, size, first_root, root, bent)


def test_a_compact_range_extended_by_aligned_ranges_is_the_range_of_all_leaves():
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(300)]
    for chunk in (1, 2, 8, 64):
        for total in (0, 1, 7, 64, 65, 130, 300):
            whole = merkle.CompactRange()
            for start in range(0, total, chunk):
                part = merkle.CompactRange()
                for leaf in leaves[start:min(start + chunk, total)]:
                    part.append(leaf)
                whole.extend(part)
            assert whole.size == total
            assert whole.root() == merkle.root_of(leaves[:total])
    with pytest.raises(ValueError, match="cannot start at leaf 3"):
        merkle.CompactRange(3, [leaves[0], leaves[1]]).extend(
            merkle.CompactRange(2, [leaves[2]]))
