"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and their checks.

Standard library only: the offline verifier (`python -m secman.eventlog.verify`) uses
this module without Django or a database.

    leaf = SHA-256(0x00 || entry bytes)        node = SHA-256(0x01 || left || right)

A tree over n leaves splits at k, the largest power of two below n (RFC 9162 §2.1.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from hashlib import sha256

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes, straight from the definition (for tests and small trees)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


class CompactRange:
    """The roots of the perfect subtrees that make up a tree of `size` leaves, largest
    first: enough to append a leaf and to compute the root without reading old leaves.

    `on_node(level, index, hash)` is told about every complete subtree an append closes
    (level 1 and up; level 0 is the leaf itself), so they can be stored for proofs."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != bin(size).count("1"):
            raise ValueError(f"a range of {size} leaves has {bin(size).count('1')} roots, "
                             f"not {len(self.hashes)}")

    def append(self, leaf: bytes,
               on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        index, level, current = self.size, 0, leaf
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            if on_node is not None:
                on_node(level, index, current)
        self.hashes.append(current)
        self.size += 1

    def extend(self, other: CompactRange) -> None:
        """Append the leaves `other` covers (a compact range of the leaves that follow,
        counted from 0): its subtrees are appended whole, each merged with the perfect
        subtrees before it as append() merges a leaf. Every subtree must stay aligned:
        self.size a multiple of the largest subtree in `other`."""
        level = other.size.bit_length()
        for subtree in other.hashes:
            level -= 1
            while not other.size >> level & 1:
                level -= 1
            width = 1 << level
            if self.size % width:
                raise ValueError(f"a subtree of {width} leaves cannot start at leaf "
                                 f"{self.size}")
            index, current = self.size >> level, subtree
            while index & 1:
                current = node_hash(self.hashes.pop(), current)
                index >>= 1
            self.hashes.append(current)
            self.size += width

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        current = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            current = node_hash(left, current)
        return current


# A function giving the hash of a perfect, aligned subtree: level 0 is a leaf.
NodeLookup = Callable[[int, int], bytes]


def subtree_hash(start: int, end: int, node: NodeLookup) -> bytes:
    """MTH(D[start:end]) from stored perfect subtrees."""
    width = end - start
    if width <= 0:
        raise ValueError("empty subtree")
    if width & (width - 1) == 0 and start % width == 0:
        return node(width.bit_length() - 1, start // width)
    k = split(width)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def inclusion_proof(index: int, size: int, node: NodeLookup) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*path(m, start, start + k), subtree_hash(start + k, end, node)]
        return [*path(m - k, start + k, end), subtree_hash(start, start + k, node)]

    return path(index, 0, size)


def consistency_proof(first: int, second: int, node: NodeLookup) -> list[bytes]:
    """PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [subtree_hash(start, end, node)]
        k = split(n)
        if m <= k:
            return [*subproof(m, start, start + k, complete), subtree_hash(start + k, end, node)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(start, start + k, node)]

    return subproof(first, 0, second, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes],
                     root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
