"""Verify an export of the systems' logs offline: `python -m secman.logs.verify DIR
[--key VERIFIER_KEY ...]`. Standard library and `cryptography` only (no Django, no
database): an auditor runs it on their own machine.

It checks every checkpoint's signature (against the keys given with --key, or else the
keys the bundle names, which proves less: say so), the chain of checkpoints, and then
either the whole tree (a full export: every message re-hashed unless purged, every leaf,
every checkpoint's root) or each selected message's inclusion proof in the newest
checkpoint (an export of a search)."""

from __future__ import annotations

import argparse
import json
import sys
from hashlib import sha256
from pathlib import Path

from secman.eventlog import merkle, note


def _leaf(row: dict) -> bytes:
    data = json.dumps([1, row["seq"], row["received"], row["reported"], row["host"],
                       row["source_ip"], row["facility"], row["severity"], row["program"],
                       row["class"], row["text"]], ensure_ascii=False,
                      separators=(",", ":")).encode()
    return sha256(b"\x00" + data).digest()


def check(directory: Path, keys: list[str]) -> tuple[list[str], list[str]]:
    """(problems, what was checked)."""
    manifest = json.loads((directory / "manifest.json").read_text())
    notes = json.loads((directory / "checkpoints.json").read_text())
    verifiers = [note.Verifier.parse(k) for k in (keys or manifest["verifier_keys"])]
    problems: list[str] = []
    said = [f"keys: {'given on the command line' if keys else 'named by the bundle itself'}"]
    bodies: dict[int, bytes] = {}
    previous = None
    for text in notes:
        signed = note.SignedNote.parse(text)
        body = note.CheckpointBody.parse(signed.text)
        if not any(signed.verify(v) for v in verifiers):
            problems.append(f"checkpoint at {body.size}: no key verifies its signature")
        if previous is not None and body.prev != note.note_hash(previous):
            problems.append(f"checkpoint at {body.size}: it does not name the one before")
        bodies[body.size] = body.root
        previous = text
    size = manifest["tree_size"]
    if size not in bodies:
        return [*problems, f"no checkpoint at the bundle's size {size}"], said
    compact = merkle.CompactRange()
    count = 0
    with (directory / "messages.jsonl").open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            count += 1
            if not row["purged"] and _leaf(row).hex() != row["leaf_hash"]:
                problems.append(f"message #{row['seq']} does not hash to its leaf")
            leaf = bytes.fromhex(row["leaf_hash"])
            if manifest["whole"]:
                if row["seq"] != compact.size:
                    problems.append(f"message #{compact.size} is missing")
                    break
                compact.append(leaf)
                if compact.size in bodies and compact.root() != bodies[compact.size]:
                    problems.append(f"the messages do not hash to the root of the "
                                    f"checkpoint at {compact.size}")
            elif not merkle.verify_inclusion(leaf, row["seq"], size,
                                             [bytes.fromhex(h) for h in row["proof"]],
                                             bodies[size]):
                problems.append(f"message #{row['seq']} is not in the checkpoint at {size}")
    if count != manifest["messages"]:
        problems.append(f"the manifest says {manifest['messages']} messages, the file holds "
                        f"{count}")
    said.append(f"{count} messages, {len(notes)} checkpoints, "
                f"{'the whole tree' if manifest['whole'] else 'an inclusion proof each'}")
    return problems, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secman.logs.verify",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--key", action="append", default=[],
                        help="a verifier key (name+id+base64) you hold; repeat for several")
    args = parser.parse_args(argv)
    try:
        problems, said = check(args.directory, args.key)
    except (OSError, ValueError, KeyError, note.NoteError) as exc:
        print(f"cannot verify {args.directory}: {exc}", file=sys.stderr)
        return 2
    for line in said:
        print(line)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("OK" if not problems else f"FAILED: {len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
