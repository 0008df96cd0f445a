"""Export bundles: everything an auditor needs to verify the log, or a part of it,
offline with `python -m secman.eventlog.verify DIR` (no Django, no database).

    manifest.json      origin, the range, the files and their SHA-256
    entries.jsonl      one line per entry: seq, leaf hash, canonical text (null if purged)
    checkpoints.txt    every signed checkpoint note up to the export, separated by a line "---"
    keys.txt           every verifier key that ever signed
    proofs.json        for a range not starting at #1: the compact range of the entries
                       before it; and a consistency proof from the end of the range to the
                       newest checkpoint
"""

from __future__ import annotations

import datetime as dt
import json
from hashlib import sha256
from pathlib import Path

from django.db import transaction

from secman.eventlog import keys, merkle, services
from secman.eventlog.models import Checkpoint, Event
from secman.eventlog.proofs import consistency_proof, node_lookup, tree_size
from secman.eventlog.selectors import require_sysadmin

FORMAT = "secman-eventlog-bundle/1"
SEPARATOR = "\n---\n"


def seq_range(since: dt.date | None, until: dt.date | None) -> tuple[int, int]:
    entries = Event.objects.all()
    if since:
        entries = entries.filter(recorded_at__date__gte=since)
    if until:
        entries = entries.filter(recorded_at__date__lte=until)
    seqs = entries.order_by("seq").values_list("seq", flat=True)
    first, last = seqs.first(), entries.order_by("-seq").values_list("seq", flat=True).first()
    if first is None or last is None:
        raise ValueError("no entries in that period")
    return first, last


def _prefix(first: int) -> list[str]:
    """The roots of the perfect subtrees covering entries 1..first-1."""
    lookup = node_lookup()
    hashes, start, remaining = [], 0, first - 1
    while remaining:
        width = 1 << (remaining.bit_length() - 1)
        hashes.append(merkle.subtree_hash(start, start + width, lookup).hex())
        start += width
        remaining -= width
    return hashes


def export(target: Path, *, since: dt.date | None = None, until: dt.date | None = None,
           actor: object | None = None) -> dict:
    # The bundle holds every payload, restricted classes included.
    require_sysadmin(actor, "an export bundle")
    target.mkdir(parents=True, exist_ok=False)
    with transaction.atomic():
        # One consistent view: appends wait for the head lock until the export is done.
        services._locked_head()
        first, last = (seq_range(since, until) if (since or until)
                       else (1, tree_size()))
        checkpoints = list(Checkpoint.objects.order_by("tree_size", "id"))
        newest = checkpoints[-1] if checkpoints else None
        with (target / "entries.jsonl").open("w", encoding="utf-8") as out:
            rows = (Event.objects.filter(seq__gte=first, seq__lte=last).order_by("seq")
                    .values_list("seq", "leaf_hash", "canonical", "purged_at"))
            for seq, leaf, text, purged in rows.iterator(chunk_size=5000):
                out.write(json.dumps({"seq": seq, "leaf": leaf,
                                      "canonical": None if purged else text},
                                     ensure_ascii=False) + "\n")
        (target / "checkpoints.txt").write_text(
            SEPARATOR.join(c.note for c in checkpoints), encoding="utf-8")
        (target / "keys.txt").write_text("\n".join(keys.verifier_keys()) + "\n",
                                         encoding="utf-8")
        proofs: dict = {"prefix": _prefix(first) if first > 1 else []}
        if newest is not None and newest.tree_size >= last and last >= 1:
            proofs["consistency"] = consistency_proof(last, newest.tree_size)
        (target / "proofs.json").write_text(json.dumps(proofs, indent=1), encoding="utf-8")
    files = {name: sha256((target / name).read_bytes()).hexdigest()
             for name in ("entries.jsonl", "checkpoints.txt", "keys.txt", "proofs.json")}
    manifest = {"format": FORMAT, "origin": keys.origin(), "first": first, "last": last,
                "files": files}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest
