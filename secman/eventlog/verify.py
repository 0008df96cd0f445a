"""Verify an Event Log export bundle offline: python -m secman.eventlog.verify DIR

What an auditor runs. It needs the Python standard library and `cryptography`, nothing
else: no Django, no database, no network. It checks that every file the manifest names is
there and unchanged, re-hashes every entry, checks the chain and the sequence numbers,
rebuilds the Merkle tree, checks every checkpoint's signature (with the keys in the
bundle, or with keys you trust given by --key) and that the tree matches every checkpoint
it covers; for a partial range, it checks the consistency proof to the newest checkpoint.
Checkpoints held outside secman (a witness's copy, --checkpoint FILE) are checked too: the
bundle's entries must hash to their roots. It then says how many of the bundle's entries
no signed checkpoint, and no witnessed checkpoint, covers (docs/eventlog.md: what each
leaves undetected).

Exit status 0: verified. 1: a problem, named on standard output (FAIL lines). 2: unusable
input, nothing verified: DIR is not a directory or has no readable manifest.json, or a
--key or --checkpoint given cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from secman.eventlog import merkle, note, walk
from secman.files import FileRefused, read_capped_text

# A manifest names a handful of files and their hashes; a checkpoint is a few hundred
# bytes. Anything far larger is not one (and /dev/zero given as one must not be read).
SMALL_FILE_CAP = 1024 * 1024

SEPARATOR = "\n---\n"
FILES = ("entries.jsonl", "checkpoints.txt", "keys.txt", "proofs.json")

# What the chain walker (secman.eventlog.walk) finds, as the auditor reads it.
WORDS = {
    walk.GAP: "entry #{seq} is missing (the next entry is #{other})",
    walk.REPEATED: "entry #{seq} is out of order (it comes after #{other})",
    walk.HASH: "entry #{seq}: its bytes do not hash to its leaf hash",
    walk.LEAF: "entry #{seq}: its leaf hash is not a SHA-256 hash",
    walk.NOT_ENTRY: "entry #{seq}: its bytes are not entry #{seq}",
    walk.MOVED: "entry #{seq}: its bytes are not entry #{seq}",
    walk.CHAIN: "entry #{seq}: does not chain to entry #{before}",
    walk.ROOT: "the first {seq} entries do not match the root in the {label}",
}


def walk_problem(problem: walk.Problem) -> str:
    return WORDS[problem.kind].format(seq=problem.seq, other=problem.other,
                                      before=problem.seq - 1, label=problem.label)


class Unusable(Exception):
    """The input cannot be verified at all (exit status 2)."""


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    first: int = 1
    last: int = 0
    # The bundle's entries (first..last) no signed checkpoint covers, and those no
    # witnessed checkpoint (--checkpoint) covers; None: none was given.
    not_signed: int = 0
    not_witnessed: int | None = None


def read_manifest(directory: Path) -> dict:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise Unusable(f"the bundle has no manifest.json in {directory}")
    try:
        manifest = json.loads(read_capped_text(manifest_path, SMALL_FILE_CAP))
        int(manifest["first"]), int(manifest["last"])
        if not isinstance(manifest["files"], dict):
            raise TypeError("files")
    except (FileRefused, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Unusable(f"manifest.json cannot be read ({type(exc).__name__}: {exc})") from None
    return manifest


def read_witness(path: Path) -> str:
    try:
        text = read_capped_text(path, SMALL_FILE_CAP).replace("\r\n", "\n")
        note.CheckpointBody.parse(note.SignedNote.parse(text).text)
    except (FileRefused, note.NoteError) as exc:
        raise Unusable(f"{path} cannot be read as a checkpoint: {exc}") from None
    return text


def verify_bundle(directory: Path, pinned_keys: list[str] | None = None) -> list[str]:
    return check_bundle(directory, pinned_keys).problems


def check_bundle(directory: Path, pinned_keys: list[str] | None = None,
                 witnesses: Iterable[tuple[str, str]] = ()) -> Outcome:
    """Raises Unusable when there is nothing to verify; `witnesses`: (name, note text) of
    checkpoints held outside secman."""
    manifest = read_manifest(directory)
    first, last, files = int(manifest["first"]), int(manifest["last"]), manifest["files"]
    outcome = Outcome(first=first, last=last)
    try:
        pinned = {v.key_id: v for v in (note.Verifier.parse(t) for t in pinned_keys or [])}
    except note.NoteError as exc:
        raise Unusable(f"a verifier key given with --key cannot be read: {exc}") from None
    outcome.problems = _check_bundle(directory, first, last, files, pinned or None,
                                     list(witnesses), outcome)
    return outcome


def _check_bundle(directory: Path, first: int, last: int, files: dict,
                  pinned: dict[int, note.Verifier] | None,
                  witnesses: list[tuple[str, str]], outcome: Outcome) -> list[str]:
    problems: list[str] = []
    for name in FILES:
        path = directory / name
        if not path.is_file():
            problems.append(f"the bundle is missing {name}")
        elif sha256(path.read_bytes()).hexdigest() != files.get(name):
            problems.append(f"{name} differs from its hash in manifest.json")
    if problems:
        return problems

    try:
        key_texts = [line for line in
                     (directory / "keys.txt").read_text(encoding="utf-8").splitlines()
                     if line.strip()]
        verifiers = pinned or {v.key_id: v for v in map(note.Verifier.parse, key_texts)}
        checkpoint_text = (directory / "checkpoints.txt").read_text(encoding="utf-8")
        proofs = json.loads((directory / "proofs.json").read_text(encoding="utf-8"))
        if not isinstance(proofs, dict):
            raise ValueError("proofs.json is not a JSON object")
    # UnicodeDecodeError is a ValueError; RecursionError: JSON nested beyond Python's stack.
    except (OSError, ValueError, RecursionError, note.NoteError) as exc:
        return [f"the bundle cannot be read: {exc}"]

    bodies: dict[int, list[tuple[str, bytes]]] = {}
    newest: note.CheckpointBody | None = None
    previous_note: str | None = None
    for number, text in enumerate(filter(None, checkpoint_text.split(SEPARATOR)), start=1):
        text = text if text.endswith("\n") else text + "\n"
        label = f"checkpoint {number}"
        try:
            signed = note.SignedNote.parse(text)
            body = note.CheckpointBody.parse(signed.text)
        except note.NoteError as exc:
            problems.append(f"{label} cannot be read: {exc}")
            continue
        label = f"checkpoint at {body.size} ({body.time})"
        known = [verifiers[k] for k in signed.key_ids() if k in verifiers]
        if not known:
            problems.append(f"{label}: signed by an unknown key")
        elif not any(signed.verify(v) for v in known):
            problems.append(f"{label}: its signature does not verify (forged or wrong key)")
        expected_prev = note.note_hash(previous_note) if previous_note else None
        if body.prev != expected_prev:
            problems.append(f"{label}: does not link to the checkpoint before it")
        previous_note = text
        bodies.setdefault(body.size, []).append((label, body.root))
        newest = body

    signed_roots = {size: [root for _, root in labels] for size, labels in bodies.items()}
    witnessed = _witnesses(witnesses, verifiers, first, last, newest, signed_roots, bodies,
                           problems)
    try:
        prefix = [bytes.fromhex(h) for h in proofs.get("prefix", [])]
        compact = merkle.CompactRange(first - 1, prefix)
    except (ValueError, TypeError) as exc:
        return [*problems, f"proofs.json: the prefix does not fit the range ({exc})"]
    # The first entry of a range that does not start at #1 links to an entry the bundle
    # does not hold: its link is not checked (the prefix and the proofs cover it).
    chain = walk.ChainWalk(start=first - 1, prefix=compact,
                           link=walk.GENESIS_LINK if first == 1 else None, roots=bodies)
    unreadable = 0

    def rows(entries: Iterable[str]) -> Iterator[tuple[int, bytes | None, str]]:
        nonlocal unreadable
        for line_number, line in enumerate(entries, start=1):
            try:
                row = json.loads(line)
                seq, leaf_text, text = int(row["seq"]), row["leaf"], row["canonical"]
                bytes.fromhex(leaf_text)
                data = None if text is None else text.encode()
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                unreadable = line_number
                return
            yield seq, data, leaf_text

    try:
        with (directory / "entries.jsonl").open(encoding="utf-8") as entries:
            chain.walk(rows(entries))
    except UnicodeDecodeError as exc:
        return [*problems, f"entries.jsonl cannot be read: {exc}"]
    problems.extend(walk_problem(problem) for problem in chain.problems)
    if unreadable:
        problems.append(f"entries.jsonl line {unreadable} cannot be read")
        return problems
    signed_to = newest.size if newest is not None else 0
    outcome.not_signed = max(0, last - max(first - 1, signed_to))
    if witnesses:
        outcome.not_witnessed = max(0, last - max(first - 1, witnessed))
    compact = chain.compact
    if compact.size != last:
        problems.append(f"the manifest says the range ends at #{last}, the entries end at "
                        f"#{compact.size}")
    consistency = proofs.get("consistency")
    if newest is not None and newest.size > compact.size:
        if not consistency:
            problems.append(f"no consistency proof from #{compact.size} to the checkpoint at "
                            f"{newest.size}")
        elif not merkle.verify_consistency(
                compact.size, newest.size, compact.root(), newest.root,
                [bytes.fromhex(h) for h in consistency["proof"]]):
            problems.append(f"the entries up to #{compact.size} are not consistent with the "
                            f"checkpoint at {newest.size}")
    return problems


def _witnesses(witnesses: list[tuple[str, str]], verifiers: dict[int, note.Verifier],
               first: int, last: int, newest: note.CheckpointBody | None,
               signed_roots: dict[int, list[bytes]],
               bodies: dict[int, list[tuple[str, bytes]]], problems: list[str]) -> int:
    """Check each checkpoint held outside: its signature, and that the bundle agrees with
    its root (the walk compares the roots of those inside the range: they join `bodies`).
    Returns the most entries of the range a witnessed checkpoint covers."""
    covered = 0
    for name, text in witnesses:
        signed = note.SignedNote.parse(text)  # read_witness parsed it already
        body = note.CheckpointBody.parse(signed.text)
        label = f"checkpoint {name}, held outside, at {body.size}"
        known = [verifiers[k] for k in signed.key_ids() if k in verifiers]
        if not known or not any(signed.verify(v) for v in known):
            problems.append(f"{label}: its signature does not verify with the log's keys")
            continue
        if first <= body.size <= last:
            bodies.setdefault(body.size, []).append((label, body.root))
            covered = max(covered, body.size)
        elif body.size in signed_roots:
            if body.root not in signed_roots[body.size]:
                problems.append(f"{label}: the bundle's checkpoint at {body.size} has another "
                                "root: the log was rewritten and signed again")
            else:
                covered = max(covered, min(body.size, last))
        elif newest is None or body.size > newest.size:
            problems.append(f"{label}: the bundle's newest checkpoint covers "
                            f"{newest.size if newest else 0} entries: entries were cut off "
                            "the end of the log (or the bundle is older than the witness)")
        elif body.size:
            problems.append(f"{label}: cannot be checked with this bundle (it covers entries "
                            "outside its range and no checkpoint in it has that size): export "
                            "the whole log")
    return covered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secman.eventlog.verify",
        description="Verify a secman Event Log export bundle offline. Exit status 0: "
        "verified; 1: a problem (FAIL lines); 2: unusable input (no readable bundle, or a "
        "--key or --checkpoint that cannot be read).")
    parser.add_argument("directory", type=Path, help="the bundle (secman eventlog export)")
    parser.add_argument("--key", action="append", default=[], metavar="VKEY",
                        help="a verifier key you trust (name+id+key); repeatable. Without "
                        "it, the keys in the bundle are used.")
    parser.add_argument("--checkpoint", action="append", default=[], type=Path,
                        metavar="FILE", help="a checkpoint held outside secman (a witness's "
                        "copy of a checkpoint mail); repeatable. The bundle must agree with it.")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"{args.directory} is not a directory")
        return 2
    try:
        witnesses = [(str(path), read_witness(path)) for path in args.checkpoint]
        manifest = read_manifest(args.directory)
        outcome = check_bundle(args.directory, args.key or None, witnesses)
    except Unusable as exc:
        print(exc)
        return 2
    if outcome.problems:
        for problem in outcome.problems:
            print(f"FAIL {problem}")
        return 1
    print(f"OK entries #{outcome.first} to #{outcome.last} of "
          f"{manifest.get('origin', '?')} verified")
    for line in coverage(outcome):
        print(line)
    return 0


def coverage(outcome: Outcome) -> list[str]:
    """NOTE lines: what the signed and the witnessed checkpoints leave open."""
    lines = []
    if outcome.not_signed:
        lines.append(f"NOTE {outcome.not_signed} entries (up to #{outcome.last}) are covered "
                     "by no signed checkpoint in the bundle: they could have been cut off "
                     "the end undetected")
    if outcome.not_witnessed is None:
        lines.append("NOTE no witnessed checkpoint given (--checkpoint FILE): whoever held "
                     "the signing key could have rewritten and signed these entries again "
                     "undetected")
    elif outcome.not_witnessed:
        lines.append(f"NOTE {outcome.not_witnessed} entries (up to #{outcome.last}) are "
                     "covered by no witnessed checkpoint")
    return lines


if __name__ == "__main__":
    sys.exit(main())
