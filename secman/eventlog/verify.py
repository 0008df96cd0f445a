"""Verify an Event Log export bundle offline: python -m secman.eventlog.verify DIR

What an auditor runs. It needs the Python standard library and `cryptography`, nothing
else: no Django, no database, no network. It checks that every file the manifest names is
there and unchanged, re-hashes every entry, checks the chain and the sequence numbers,
rebuilds the Merkle tree, checks every checkpoint's signature (with the keys in the
bundle, or with keys you trust given by --key) and that the tree matches every checkpoint
it covers; for a partial range, it checks the consistency proof to the newest checkpoint.

Exit status 0: verified. 1: a problem, named on standard output. 2: unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from hashlib import sha256
from pathlib import Path

from secman.eventlog import merkle, note, walk

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


def verify_bundle(directory: Path, pinned_keys: list[str] | None = None) -> list[str]:
    problems: list[str] = []
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        return [f"the bundle has no manifest.json in {directory}"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        first, last, files = int(manifest["first"]), int(manifest["last"]), manifest["files"]
    except (ValueError, KeyError, TypeError):
        return ["manifest.json cannot be read"]
    for name in FILES:
        path = directory / name
        if not path.is_file():
            problems.append(f"the bundle is missing {name}")
        elif sha256(path.read_bytes()).hexdigest() != files.get(name):
            problems.append(f"{name} differs from its hash in manifest.json")
    if problems:
        return problems

    key_texts = pinned_keys or [line for line in
                                (directory / "keys.txt").read_text(encoding="utf-8").splitlines()
                                if line.strip()]
    try:
        verifiers = {v.key_id: v for v in (note.Verifier.parse(t) for t in key_texts)}
    except note.NoteError as exc:
        return [f"a verifier key cannot be read: {exc}"]

    checkpoint_text = (directory / "checkpoints.txt").read_text(encoding="utf-8")
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

    proofs = json.loads((directory / "proofs.json").read_text(encoding="utf-8"))
    prefix = [bytes.fromhex(h) for h in proofs.get("prefix", [])]
    try:
        compact = merkle.CompactRange(first - 1, prefix)
    except ValueError as exc:
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
            except (ValueError, KeyError, TypeError, AttributeError):
                unreadable = line_number
                return
            yield seq, data, leaf_text

    with (directory / "entries.jsonl").open(encoding="utf-8") as entries:
        chain.walk(rows(entries))
    problems.extend(walk_problem(problem) for problem in chain.problems)
    if unreadable:
        problems.append(f"entries.jsonl line {unreadable} cannot be read")
        return problems
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secman.eventlog.verify",
        description="Verify a secman Event Log export bundle offline.")
    parser.add_argument("directory", type=Path, help="the bundle (secman eventlog export)")
    parser.add_argument("--key", action="append", default=[], metavar="VKEY",
                        help="a verifier key you trust (name+id+key); repeatable. Without "
                        "it, the keys in the bundle are used.")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"{args.directory} is not a directory")
        return 2
    problems = verify_bundle(args.directory, args.key or None)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        return 1
    manifest = json.loads((args.directory / "manifest.json").read_text(encoding="utf-8"))
    print(f"OK entries #{manifest['first']} to #{manifest['last']} of {manifest['origin']} "
          "verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
