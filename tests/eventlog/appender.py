"""A separate OS process that appends to the Event Log of a real database (for the
concurrency and crash tests): its own Django, settings from the environment it is given.

    python tests/eventlog/appender.py append WORKER COUNT   # batches and single records
    python tests/eventlog/appender.py forever WORKER        # batches until killed
    python tests/eventlog/appender.py inspect               # verify_log() and every tag

`append` and `forever` print "ready", wait for a line on stdin (so every worker starts
at once), then print "seqs N N ..." after each transaction has committed: whatever it
printed was acknowledged to a caller and must never be lost.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    import django

    django.setup()
    command = sys.argv[1]
    if command == "inspect":
        inspect()
    else:
        append(int(sys.argv[2]), int(sys.argv[3]) if command == "append" else None)


def append(worker: int, count: int | None) -> None:
    from django.db import transaction

    from secman.eventlog.services import Entry, record, record_batch

    rng = random.Random(worker)
    print("ready", flush=True)
    sys.stdin.readline()
    done = 0
    while count is None or done < count:
        left = 10**9 if count is None else count - done
        if count is not None and rng.random() < 0.05:
            # Some single record() calls among the batches, as services make them.
            with transaction.atomic():
                event = record("test.concurrency", actor=None, actor_label=f"worker {worker}",
                               authority="SP 4.2.1", details={"w": worker, "n": done})
            print(f"seqs {event.seq}", flush=True)
            done += 1
            continue
        size = min(left, rng.randint(50, 100))
        entries = [Entry(action="test.concurrency", authority="SP 4.2.1",
                         actor_label=f"worker {worker}", details={"w": worker, "n": done + i})
                   for i in range(size)]
        with transaction.atomic():
            seqs = record_batch(entries)
        print("seqs " + " ".join(map(str, seqs)), flush=True)
        done += size


def inspect() -> None:
    from django.db import connection

    from secman.eventlog.verification import verify_log

    report = verify_log()
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, details FROM eventlog_event ORDER BY seq")
        tags = []
        for seq, details in cursor.fetchall():
            values = json.loads(details) if isinstance(details, str) else details
            tags.append([seq, values.get("w"), values.get("n")])
    json.dump({"problems": report.problems, "entries": report.entries,
               "checkpoints": report.checkpoints, "tags": tags}, sys.stdout)


if __name__ == "__main__":
    main()
