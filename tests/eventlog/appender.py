"""A separate OS process that appends to the Event Log of a real database (for the
concurrency and crash tests): its own Django, settings from the environment it is given.

    python tests/eventlog/appender.py append WORKER COUNT   # batches and single records
    python tests/eventlog/appender.py forever WORKER        # batches until killed
    python tests/eventlog/appender.py inspect               # verify_log() and every tag
    python tests/eventlog/appender.py verify-ways           # verify_log() three ways

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
    elif command == "verify-ways":
        verify_ways()
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


def verify_ways() -> None:
    """Tamper with the log step by step (committed, so other processes see it) and
    verify it after each step three ways: the entry-by-entry walk alone, the quick walk
    in this process, the quick walk in two worker processes (both in ranges of 64
    entries). Prints, per step, what each way reported and whether the quick walk
    answered (rather than handing over to the entry-by-entry walk), and what the column
    check found here, in two workers, and entry by entry (verify_chain)."""
    from django.db import connection, transaction

    from secman.eventlog import checkpoints, verification
    from secman.eventlog.triggers import statements

    def tamper(sql: str, params: list | None = None) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements(connection.vendor, create=False):
                cursor.execute(statement)
            cursor.execute(sql, params or [])
            for statement in statements(connection.vendor, create=True):
                cursor.execute(statement)

    from secman.eventlog import quickwalk

    walk_ranges = quickwalk.walk_ranges
    walked_by: set[int] = set()

    def note_walkers(*args, **kwargs):  # which processes walked the ranges
        results = walk_ranges(*args, **kwargs)
        walked_by.update(result.walked_by for result in results
                         if isinstance(result, quickwalk.RangeResult))
        return results

    quickwalk.walk_ranges = note_walkers

    def ways() -> dict:
        found = {}
        quick = verification._quick_walk
        verification.CHUNK = 64
        for name, workers in (("quick-here", 0), ("quick-workers", 2)):
            answered = []

            def spy(*args, quick=quick, answered=answered):
                result = quick(*args)
                answered.append(result is not None)
                return result

            verification._quick_walk = spy
            walked_by.clear()
            report = verification.verify_log(workers=workers)
            found[name] = [report.problems, report.entries, report.root.hex(), answered,
                           len(walked_by - {os.getpid()})]
        verification._quick_walk = lambda *args: None
        report = verification.verify_log()
        found["walk"] = [report.problems, report.entries, report.root.hex(), [], 0]
        verification._quick_walk = quick
        # The column check here and in two workers, and what verify_chain names.
        found["columns"] = [
            verification.check_columns(workers=0), verification.check_columns(workers=2),
            [str(p) for p in verification.verify_chain()
             if p.problem.startswith("column") or "not valid JSON" in p.problem]]
        return found

    steps = {"untouched": ways()}
    with transaction.atomic():
        checkpoints.write_checkpoint()
    steps["checkpointed"] = ways()
    now = "2026-01-01 00:00:00" if connection.vendor == "sqlite" else "2026-01-01T00:00:00Z"
    tamper("UPDATE eventlog_event SET canonical = '', details = '{}', signoffs = '[]', "
           "actor_id = NULL, actor_label = '', subject_type = '', subject_id = '', "
           "subject_label = '', authority = '', purged_at = %s "
           "WHERE seq BETWEEN 60 AND 140", [now])
    steps["purged"] = ways()
    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM eventlog_event WHERE seq = 700")
        text = cursor.fetchone()[0]
    tamper("UPDATE eventlog_event SET canonical = %s WHERE seq = 700",
           [text.replace('"SP 4.2.1"', '"SP 4.2.2"')])
    steps["edited"] = ways()
    tamper("UPDATE eventlog_event SET canonical = %s WHERE seq = 700", [text])
    steps["edit undone"] = ways()
    tamper("UPDATE eventlog_event SET authority = 'SP 1.1' WHERE seq = 800")
    steps["column changed"] = ways()
    tamper("UPDATE eventlog_event SET seq = -129 WHERE seq = 129")
    tamper("UPDATE eventlog_event SET seq = 129 WHERE seq = 130")
    tamper("UPDATE eventlog_event SET seq = 130 WHERE seq = -129")
    steps["purged entries swapped"] = ways()
    tamper("UPDATE eventlog_event SET seq = -900 WHERE seq = 900")
    tamper("UPDATE eventlog_event SET seq = 900 WHERE seq = 901")
    tamper("UPDATE eventlog_event SET seq = 901 WHERE seq = -900")
    steps["swapped"] = ways()
    tamper("DELETE FROM eventlog_event WHERE seq = 1024")
    steps["deleted"] = ways()
    tamper("UPDATE eventlog_event SET leaf_hash = %s WHERE seq = 61", ["0" * 64])
    steps["purged leaf changed"] = ways()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(seq) FROM eventlog_event")
        last = cursor.fetchone()[0]
    tamper("DELETE FROM eventlog_event WHERE seq > %s", [last - 10])
    steps["truncated"] = ways()
    json.dump(steps, sys.stdout)


if __name__ == "__main__":
    main()
