"""Walking the Event Log's hash chain: the one walker every check of the chain uses.

Standard library only (with secman.eventlog.canonical and merkle), no Django: the
offline verifier (`python -m secman.eventlog.verify`) walks an exported bundle with it,
the quick walk's spawned worker processes walk their ranges with it, and the database
checks (secman.eventlog.verification: the entry-by-entry walk and verify_chain) feed it
rows they read.

A row is (sequence number, canonical bytes or None for a purged entry, stored leaf hash
as hex). For each row, in the order given, the walker checks the sequence number, re-hashes
the bytes and compares the leaf hash, reads the header (sequence number and the link to
the entry before), and adds the leaf to the Merkle tree (a compact range, so the tree's
root can be compared with signed checkpoints as it grows). What it finds is a Problem: a
kind and the entries it concerns. Each reader words problems for its own audience (the
operator, the auditor, the tests' oracle); what counts as wrong is decided here only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256

from secman.eventlog import canonical, merkle

# The kinds of problem, with what `seq` and `other` of a Problem say for each.
GAP = "gap"  # entries #seq .. #other-1 are missing: the next row is #other
REPEATED = "repeated"  # #seq comes again, or after a later one (#other came before it)
HASH = "hash"  # the stored bytes of #seq do not hash to its stored leaf hash
LEAF = "leaf"  # a purged entry's stored leaf hash is not 64 lowercase hex digits
NOT_ENTRY = "not_entry"  # the stored bytes of #seq have no entry header
MOVED = "moved"  # the bytes stored as #seq are the bytes of entry #other
CHAIN = "chain"  # the header of #seq does not name the leaf hash of the row before it
ROOT = "root"  # the first #seq entries' root differs from the one signed in `label`

GENESIS_LINK = canonical.GENESIS.encode()

# A header reader: the sequence number and the link an entry's bytes name (None: the
# bytes are not an entry). The default reads canonical.HEADER_RE; verify_chain reads
# the parsed JSON instead.
HeaderReader = Callable[[bytes], "tuple[object, bytes | None] | None"]
# (sequence number, canonical bytes or None if purged, stored leaf hash as hex)
Row = tuple[int, bytes | None, str]

_HEX64 = re.compile(r"[0-9a-f]{64}")
# After an entry's header up to its time: the rest of HEADER_RE (time and class).
_TIME_AND_CLASS = re.compile(rb'[^"\\]+","class":"[a-z_]+",')
_LEAF = sha256(b"\x00")
_NODE = sha256(b"\x01")


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    seq: int
    other: int = 0
    label: str = ""


def regex_header(data: bytes) -> tuple[object, bytes | None] | None:
    found = canonical.HEADER_RE.match(data)
    return None if found is None else (int(found[1]), found[2])


class ChainWalk:
    """The running state of one walk: rows are given to walk() in order, in as many
    calls as the reader likes (one per batch it fetches).

    `start`: the entries before the first row (0 for the whole log); `prefix`: the
    compact range of those entries (the tree then continues from it), or None for a
    range walked on its own (the quick walk: its tree counts from its first row);
    `link`: the leaf hash (hex, ASCII) the first row's header must name, None if not
    known (the first row's link is then kept as first_link, unchecked); `roots`: signed
    roots by tree size, (label, root), compared when the walk reaches that size;
    `sizes`: tree sizes at which a copy of the compact range is kept (at_sizes);
    `stop`: give up at the first problem (the quick walk only needs yes or no);
    `header`: how the header is read (default: the canonical header, bytes compared
    first with what they must start with, the regular expression only when they do not).
    """

    def __init__(self, *, start: int = 0, prefix: merkle.CompactRange | None = None,
                 link: bytes | None = GENESIS_LINK,
                 roots: Mapping[int, Iterable[tuple[str, bytes]]] | None = None,
                 sizes: Iterable[int] = (), stop: bool = False,
                 header: HeaderReader | None = None) -> None:
        self.start = start
        self.compact = prefix if prefix is not None else merkle.CompactRange()
        self.count = start  # the entries walked, those before the first row included
        self.expected = start + 1
        self.previous = link
        self.first_link: bytes | None = None
        self.problems: list[Problem] = []
        self.roots = {size: list(signed) for size, signed in (roots or {}).items()}
        self.at_sizes: dict[int, merkle.CompactRange] = {}
        self._sizes = set(sizes)
        self._marks = self._sizes | set(self.roots)
        self._stop = stop
        self._header = header or regex_header
        # The next header is read with the reader (not by the bytes it must start
        # with): the first one, any after a leaf hash that is not 64 hex digits, and
        # every one when the reader is not the canonical header's.
        self._careful = True
        self._always_careful = header is not None
        self._seen = b"\x00"  # the time and class last matched (no entry starts with NUL)

    def walk(self, rows: Iterable[Row]) -> bool:
        """Walk these rows; False if the walk gave up (`stop` and a problem found).

        The hot loop (a million entries a run): local names; SHA-256 from a copy of a
        hash already fed its 0x00 or 0x01 prefix; the header compared as the bytes it
        must start with (sequence number and the leaf hash before, which is 64 lowercase
        hex digits since it was just compared with a hash's hex()), then its time and
        class as HEADER_RE reads them, where the same time and class as the entry before
        (a batch shares them) are compared as bytes instead of matched again; the
        problems worked out only when something is not as it should be."""
        if self._stop and self.problems:
            return False
        add = self.problems.append
        stop = self._stop
        hashes = self.compact.hashes
        size = self.compact.size
        count, expected, previous = self.count, self.expected, self.previous
        careful, always_careful, seen = self._careful, self._always_careful, self._seen
        offset = count - size  # the marks are counts: as sizes of this tree
        read_header, time_and_class = self._header, _TIME_AND_CLASS.match
        leaf_hash, node_hash = _LEAF.copy, _NODE.copy
        marks = {mark - offset for mark in self._marks}
        going = True
        for seq, data, leaf_text in rows:
            if seq != expected:
                if seq > expected:
                    add(Problem(GAP, expected, seq))
                    expected = seq
                else:
                    # A row that comes again, or after a later one, takes no place of
                    # its own in the order.
                    add(Problem(REPEATED, seq, expected - 1))
                    expected -= 1
                if stop:
                    going = False
                    break
            if data is None:  # purged: its stored leaf hash stands for it
                if _HEX64.fullmatch(leaf_text):
                    leaf = bytes.fromhex(leaf_text)
                else:
                    add(Problem(LEAF, seq))
                    leaf = sha256(leaf_text.encode()).digest()  # some leaf: the root differs
                    careful = True
                    if stop:
                        going = False
                        break
            else:
                digest = leaf_hash()
                digest.update(data)
                leaf = digest.digest()
                if leaf.hex() != leaf_text:
                    add(Problem(HASH, seq))
                    if not _HEX64.fullmatch(leaf_text):
                        careful = True
                    if stop:
                        going = False
                        break
                if careful or not data.startswith(
                        start := b'{"v":2,"seq":%d,"prev":"%s","time":"' % (seq, previous)):
                    found = read_header(data)
                    if found is None:
                        add(Problem(NOT_ENTRY, seq))
                    else:
                        named, link = found
                        if named != seq:
                            add(Problem(MOVED, seq, named if isinstance(named, int) else 0))
                        if previous is None:
                            self.first_link = link
                        elif link != previous:
                            add(Problem(CHAIN, seq))
                    if stop and self.problems:
                        going = False
                        break
                    careful = always_careful or _HEX64.fullmatch(leaf_text) is None
                elif not data.startswith(seen, len(start)):
                    found_rest = time_and_class(data, len(start))
                    if found_rest is None:
                        add(Problem(NOT_ENTRY, seq))
                        if stop:
                            going = False
                            break
                    else:
                        seen = found_rest[0]
            previous = leaf_text.encode()
            index, current = size, leaf
            while index & 1:
                digest = node_hash()
                digest.update(hashes.pop() + current)
                current = digest.digest()
                index >>= 1
            hashes.append(current)
            size += 1
            expected += 1
            if size in marks:
                self.compact.size = size
                self._mark(size + offset)
        self.compact.size = size
        self.count, self.expected, self.previous = size + offset, expected, previous
        self._careful, self._seen = careful, seen
        return going

    def _mark(self, count: int) -> None:
        if count in self._sizes:
            self.at_sizes[count] = merkle.CompactRange(self.compact.size, self.compact.hashes)
        signed = self.roots.pop(count, None)
        if signed:
            root = self.compact.root()
            for label, signed_root in signed:
                if signed_root != root:
                    self.problems.append(Problem(ROOT, count, label=label))

    @property
    def last_leaf(self) -> bytes | None:
        """The stored leaf hash (hex, ASCII) of the last row walked."""
        return None if self.count == self.start else self.previous
