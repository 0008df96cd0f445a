"""Event Log benchmark: appends, verification, checkpoints and proofs, each beside the
floors it cannot beat, measured in the same run on the same rows.

    .venv/bin/python benchmarks/eventlog_bench.py [--database sqlite|postgres]
                                                  [--entries N] [--batch B]

Runs in a database made for the run and removed after it: a temporary SECMAN_DATA_DIR
with a SQLite file, or (--database postgres) a temporary database on the server that
DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/postgres). Floors:

- hashing floor: raw `hashlib.sha256` over the same bytes (0x00 + each entry's canonical
  bytes), in a plain Python loop over bytes already in memory;
- storage floor: the same rows written with a plain INSERT (executemany, the same batch
  size and one transaction per batch) into a copy of the entries table, with no hashing,
  no tree and no head row (on PostgreSQL also with COPY, which record_batch() uses
  there); for verification, a plain SELECT of the rows it reads, in one process.

Ratios are time / floor time (1.0x would be as fast as the floor). Results go to
docs/performance.md by hand, with the machine, date and command this prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from scratch import scratch_database  # beside this script, on sys.path when it runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
console = Console()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def entry(number: int) -> Any:
    """A typical entry: an actor, a subject, an authority and a few details (about 400
    bytes of canonical JSON, like the entries the services write)."""
    from secman.eventlog.services import Entry

    return Entry(
        action="physical.media.retire", authority="SM 2.2.3.3", actor_label="Sam Admin",
        details={"media": f"HDD-{number:07d}", "location": "safe 2, shelf 3",
                 "method": "degaussed and shredded", "witness": "Sue Admin (#9)",
                 "ticket": number, "reason": "end of service life"},
        signoffs=[{"role": "systems_administrator", "person": "Sue Admin (#9)",
                   "at": "2025-01-01T12:00:00Z"}],
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(self, name: str, figure: str, target: str, met: bool | None,
            hashing: str = "", storage: str = "") -> None:
        verdict = "" if met is None else ("meets" if met else "MISSES")
        self.rows.append((name, figure, target, verdict, hashing, storage))
        console.print(f"  {name}: {figure} (target {target}) {verdict}"
                      f"{'; hashing floor ' + hashing if hashing else ''}"
                      f"{'; storage floor ' + storage if storage else ''}")

    def table(self, title: str) -> Table:
        table = Table(title=title)
        for column in ("measure", "figure", "target", "", "hashing floor (ratio)",
                       "storage floor (ratio)"):
            table.add_column(column)
        for row in self.rows:
            table.add_row(*row)
        return table


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} entries/s"


def ratio(seconds: float, floor: float) -> str:
    return f"{seconds / floor:.1f}x" if floor > 0 else "-"


# --- floors -------------------------------------------------------------------------------


def scratch_table() -> Any:
    """A copy of eventlog_event (same columns, types and indexes, no triggers) for the
    storage floor."""
    from django.db import connection, models

    from secman.eventlog.models import Event

    attrs: dict[str, Any] = {"__module__": __name__}
    for field in Event._meta.local_fields:
        if field.name != "id":
            attrs[field.name] = field.clone()
    attrs["Meta"] = type("Meta", (), {
        "app_label": "eventlog_bench", "db_table": "eventlog_bench_event",
        "indexes": [models.Index(fields=["retention_class", "recorded_at"],
                                 name="bench_class_time")]})
    model = type("BenchEvent", (models.Model,), attrs)
    with connection.schema_editor() as editor:
        editor.create_model(model)
    return model


COLUMNS = ("seq", "recorded_at", "actor_id", "actor_label", "action", "subject_type",
           "subject_id", "subject_label", "authority", "signoffs", "details",
           "retention_class", "canonical", "prev_hash", "leaf_hash", "purged_at")


def rows_as_written(start: int, stop: int) -> list[tuple[Any, ...]]:
    """The rows the log holds for seq start..stop-1, read back (so the floor writes
    exactly the same values)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM eventlog_event "  # noqa: S608
                       "WHERE seq >= %s AND seq < %s ORDER BY seq", [start, stop])
        return list(cursor.fetchall())


def storage_floor_insert(rows: list[tuple[Any, ...]], batch: int, bar: Progress) -> float:
    from django.db import connection, transaction

    marks = ", ".join(["%s"] * len(COLUMNS))
    if connection.vendor == "postgresql":
        marks = ", ".join("%s::jsonb" if c in ("signoffs", "details") else "%s"
                          for c in COLUMNS)
    sql = f"INSERT INTO eventlog_bench_event ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    task = bar.add_task("storage floor: plain INSERT", total=len(rows))
    start = time.perf_counter()
    for offset in range(0, len(rows), batch):
        chunk = rows[offset:offset + batch]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)
        bar.advance(task, len(chunk))
    return time.perf_counter() - start


def storage_floor_copy(rows: list[tuple[Any, ...]], batch: int, bar: Progress) -> float:
    """PostgreSQL: the same rows with COPY (as record_batch() writes them there), the
    same batch per transaction, into the emptied copy of the table."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE eventlog_bench_event")
    task = bar.add_task("storage floor: plain COPY", total=len(rows))
    start = time.perf_counter()
    for offset in range(0, len(rows), batch):
        chunk = rows[offset:offset + batch]
        with transaction.atomic(), connection.connection.cursor() as cursor, cursor.copy(
                f"COPY eventlog_bench_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row(row)
        bar.advance(task, len(chunk))
    return time.perf_counter() - start


def hashing_floor(data: list[bytes]) -> float:
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for item in data:
        sha256(b"\x00" + item).digest()
    return time.perf_counter() - start


def canonical_bytes(start: int, stop: int) -> list[bytes]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM eventlog_event WHERE seq >= %s AND seq < %s "
                       "ORDER BY seq", [start, stop])
        return [row[0].encode() for row in cursor.fetchall()]


# --- the measures -------------------------------------------------------------------------


def batched_append(total: int, batch: int, bar: Progress) -> float:
    from django.db import transaction

    from secman.eventlog.services import record_batch

    task = bar.add_task(f"batched append ({batch} per transaction)", total=total)
    elapsed = 0.0
    number = 0
    while number < total:
        size = min(batch, total - number)
        entries = [entry(number + i) for i in range(size)]
        number += size
        start = time.perf_counter()
        with transaction.atomic():
            record_batch(entries)
        elapsed += time.perf_counter() - start
        bar.advance(task, size)
    return elapsed


def single_appends(count: int) -> list[float]:
    from django.db import transaction

    from secman.eventlog.services import record

    times = []
    for number in range(count):
        item = entry(number)
        start = time.perf_counter()
        with transaction.atomic():
            record(item.action, actor=None, actor_label=item.actor_label,
                   authority=item.authority, details=item.details, signoffs=item.signoffs)
        times.append(time.perf_counter() - start)
    return times


def single_inserts(rows: list[tuple[Any, ...]]) -> list[float]:
    from django.db import connection, transaction

    marks = ", ".join(["%s"] * len(COLUMNS))
    if connection.vendor == "postgresql":
        marks = ", ".join("%s::jsonb" if c in ("signoffs", "details") else "%s"
                          for c in COLUMNS)
    sql = f"INSERT INTO eventlog_bench_event ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    times = []
    for row in rows:
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, row)
        times.append(time.perf_counter() - start)
    return times


def read_floor(total: int, bar: Progress) -> float:
    from django.db import connection, transaction

    task = bar.add_task("storage floor: plain SELECT", total=total)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT seq, canonical, leaf_hash, purged_at FROM eventlog_event "
                       "ORDER BY seq")
        while rows := cursor.fetchmany(5000):
            bar.advance(task, len(rows))
    return time.perf_counter() - start


def timed(function: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--entries", type=int, default=1_000_000,
                        help="size of the log built (and appended in batches)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="entries per record_batch() transaction")
    parser.add_argument("--singles", type=int, default=1000,
                        help="single-entry appends timed for the latency figure")
    args = parser.parse_args()
    command = "benchmarks/eventlog_bench.py " + " ".join(sys.argv[1:])
    with scratch_database(args.database, "eventlog") as url:
        from django.db import connection

        vendor = connection.vendor
        console.print(f"[bold]Event Log benchmark[/bold] {dt.date.today()} · python "
                      f"{platform.python_version()} · {platform.machine()} "
                      f"{os.cpu_count()} CPUs ({_cpu_name()}) · {vendor} "
                      f"{_server_version()} · {url}")
        console.print(f"command: .venv/bin/python {command}")
        results = Results()
        with progress_bar() as bar:
            append_time = batched_append(args.entries, args.batch, bar)
            data = canonical_bytes(1, args.entries + 1)
            hash_time = hashing_floor(data)
            size = sum(len(d) for d in data) / len(data)
            del data
            scratch_table()
            rows = rows_as_written(1, args.entries + 1)
            store_time = storage_floor_insert(rows, args.batch, bar)
            copy_time = (storage_floor_copy(rows, args.batch, bar) if vendor == "postgresql"
                         else 0.0)
            del rows
        target = 20_000 if vendor == "sqlite" else 10_000
        results.add(f"batched append, {args.entries:,} entries of ~{size:.0f} bytes",
                    rate(args.entries, append_time), f">= {target:,}/s",
                    args.entries / append_time >= target,
                    f"{rate(args.entries, hash_time)} ({ratio(append_time, hash_time)})",
                    f"{rate(args.entries, store_time)} ({ratio(append_time, store_time)})")
        if copy_time:
            results.add("  the same rows with COPY (record_batch() writes with COPY here)",
                        rate(args.entries, append_time), "-", None, "",
                        f"{rate(args.entries, copy_time)} COPY ({ratio(append_time, copy_time)})")

        singles = single_appends(args.singles)
        floor_rows = rows_as_written(args.entries + 1, args.entries + 1 + args.singles)
        floor_rows = [(-row[0], *row[1:]) for row in floor_rows]  # unique seqs in the copy
        floor_singles = single_inserts(floor_rows)
        single_hash = timed(lambda: hashlib.sha256(b"\x00" + floor_rows[0][12].encode())
                            .digest(), 1000)
        p95, floor95 = percentile(singles, 0.95), percentile(floor_singles, 0.95)
        hash95 = percentile(single_hash, 0.95)
        results.add(f"single-entry append, p95 of {args.singles} (commit included)",
                    f"{p95 * 1000:.2f} ms (median {statistics.median(singles) * 1000:.2f})",
                    "<= 5 ms" if vendor == "sqlite" else "-",
                    p95 <= 0.005 if vendor == "sqlite" else None,
                    f"{hash95 * 1e6:.1f} µs ({ratio(p95, hash95)})",
                    f"{floor95 * 1000:.2f} ms ({ratio(p95, floor95)})")

        from secman.eventlog import checkpoints, proofs, services, verification

        total = proofs.tree_size()
        with progress_bar() as bar:
            task = bar.add_task(f"verify_log() over {total:,} entries", total=total)
            start = time.perf_counter()
            report = verification.verify_log(progress=lambda n: bar.advance(task, n))
            verify_time = time.perf_counter() - start
            read_time = read_floor(total, bar)
        if not report.ok:
            console.print(f"[red]verification failed: {report.problems[:5]}[/red]")
        data = canonical_bytes(1, total + 1)
        verify_hash = hashing_floor(data)
        del data
        results.add(f"full verification (verify_log, {total:,} entries, "
                    f"{report.checkpoints} checkpoints, ok={report.ok})",
                    rate(total, verify_time),
                    ">= 500,000/s" if vendor == "sqlite" else "-",
                    total / verify_time >= 500_000 if vendor == "sqlite" else None,
                    f"{rate(total, verify_hash)} ({ratio(verify_time, verify_hash)})",
                    f"{rate(total, read_time)} read ({ratio(verify_time, read_time)})")

        checkpoint_times = []
        for _ in range(5):
            from django.db import transaction

            with transaction.atomic():
                services.record("bench.tick", actor=None, authority="SM 4.2.1")
            start = time.perf_counter()
            checkpoint = checkpoints.write_checkpoint()
            checkpoint_times.append(time.perf_counter() - start)
        assert checkpoint.tree_size == proofs.tree_size()
        compact = services._frontier(services.LogHead.objects.get(pk=1))
        root_hash = timed(compact.root, 100)
        checkpoint_time = statistics.median(checkpoint_times)
        results.add(f"checkpoint over {checkpoint.tree_size:,} entries (median of 5)",
                    f"{checkpoint_time * 1000:.2f} ms", "<= 2 s", checkpoint_time <= 2.0,
                    f"{statistics.median(root_hash) * 1e6:.1f} µs root from the compact "
                    f"range ({ratio(checkpoint_time, statistics.median(root_hash))})")

        size = proofs.tree_size()
        picks = random.Random(4).sample(range(1, size + 1), 200)  # noqa: S311
        proof_times = []
        for seq in picks:
            start = time.perf_counter()
            proof = proofs.inclusion_proof(seq)
            proof_times.append(time.perf_counter() - start)
        from secman.eventlog import merkle

        assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"],
                                       proof["tree_size"], [bytes.fromhex(h) for h in
                                                            proof["proof"]],
                                       bytes.fromhex(proof["root_hash"]))
        hashes = [bytes.fromhex(h) for h in proof["proof"]]
        leaf, root = bytes.fromhex(proof["leaf_hash"]), bytes.fromhex(proof["root_hash"])
        check = timed(lambda: merkle.verify_inclusion(leaf, proof["leaf_index"], size,
                                                      hashes, root), 200)
        from secman.eventlog.models import Node

        lookup = timed(lambda: Node.objects.filter(
            level=services.STORED_LEVEL, index=7).values_list(
            "hash", flat=True).first(), 200)
        proof95 = percentile(proof_times, 0.95)
        results.add(f"inclusion proof in {size:,} entries, p95 of 200 "
                    f"({len(proof['proof'])} hashes)",
                    f"{proof95 * 1000:.2f} ms (median "
                    f"{statistics.median(proof_times) * 1000:.2f})", "<= 10 ms",
                    proof95 <= 0.010,
                    f"{statistics.median(check) * 1e6:.1f} µs to check it "
                    f"({ratio(proof95, statistics.median(check))})",
                    f"{statistics.median(lookup) * 1000:.3f} ms one node SELECT "
                    f"({ratio(proof95, statistics.median(lookup))})")
        connection.close()
    console.print(results.table(f"Event Log on {vendor}, {args.entries:,} entries"))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


if __name__ == "__main__":
    main()
