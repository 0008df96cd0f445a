"""CSV import benchmark: the inventory importer (secman/physical/csvio.py) on the largest
file it accepts, beside main's per-row path measured in the same run.

    .venv/bin/python benchmarks/csv_import_bench.py [--database sqlite|postgres]
        [--rows 20000] [--baseline-rows 1000] [--runs 3]

Runs in a database made for the run and dropped after it (as eventlog_bench.py: a
temporary SECMAN_DATA_DIR with a SQLite file, or a temporary database on the server
DATABASE_URL names). For computers and for storage media it times, --runs times each:

- dry run and import of a generated file of --rows rows (by default the row cap,
  csvio.MAX_ROWS), each row 200-240 bytes so that file is close to the byte cap
  (csvio.MAX_BYTES, 5 MB): about the largest file the importer takes;
- the same on a --baseline-rows sample with the new path, and with the baseline: the
  per-row path of main before this change (csvio._write at d1498e5), which called
  create_computer / register_media once per row inside one transaction (a uniqueness
  query, an authority lookup and a single Event Log append per row) and, for a dry run,
  did the same and rolled back. It is reproduced here, calling the same services;
- the parse floor: csv.DictReader over the same bytes, nothing checked or written.

Every import goes to the command line's actor (None). Each import uses asset tags and
serial numbers of its own, so the inventory grows from run to run (the importer reads it
once per import). Results go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from scratch import scratch_database  # beside this script, on sys.path when it runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
console = Console()


NOTES = ("Bought from stock, sealed box checked on arrival, firmware verified against "
         "the vendor's published hashes.")


def computers_file(prefix: str, rows: int) -> bytes:
    from secman.physical import csvio

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csvio.IMPORT_COMPUTER)
    for n in range(rows):
        writer.writerow([f"{prefix}-{n:06d}", f"{prefix.lower()}-host-{n}", "Acme Systems",
                         "R740 rack server", f"{prefix}SN{n:08d}", "Acme support, +1 555 0100",
                         f"Rack {n % 40}, U{n % 42}", "signing and OCSP", "",
                         NOTES])
    return out.getvalue().encode()


def media_file(prefix: str, rows: int) -> bytes:
    from secman.physical import csvio

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csvio.IMPORT_MEDIA)
    for n in range(rows):
        writer.writerow([f"{prefix}-M{n:08d}", "ssd", 960, "Enterprise SSD, encrypted "
                         "with the server's key; " + NOTES, f"Safe {n % 4}, shelf "
                         f"{n % 12}", "yes" if n % 3 else "no"])
    return out.getvalue().encode()


def baseline(kind: str, data: bytes, *, dry_run: bool, present: list[Any]) -> int:
    """main's per-row path (csvio.import_* at d1498e5): the file read and checked as
    there, then each row through its service in one transaction; a dry run rolls back."""
    from django.db import transaction

    from secman.core.errors import Refused
    from secman.physical import csvio, services

    report = csvio.ImportReport(dry_run=dry_run)
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    created = 0

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for row in rows:
                try:
                    if kind == "computers":
                        services.create_computer(actor=None, authority="SP 2.2.1",
                                                 **{k: row[k] for k in csvio.IMPORT_COMPUTER})
                    else:
                        services.register_media(
                            actor=None, serial_number=row["serial_number"],
                            media_type=row["media_type"], capacity_gb=int(row["capacity_gb"]),
                            location=row["location"], present=present,
                            steps_taken="Imported from the inventory file; secure erase and "
                            "reformat done before use.", erased_and_reformatted=True,
                            description=row["description"],
                            critical_data=row["critical_data"] in ("yes", "true", "1"))
                    created += 1
                except Refused as exc:
                    report.errors.append(str(exc))
            if report.errors or dry_run:
                raise Rollback
    except Rollback:
        pass
    assert not report.errors, report.errors[:3]
    return created


def new_path(kind: str, data: bytes, *, dry_run: bool, present: list[Any]) -> int:
    from secman.physical import csvio

    if kind == "computers":
        report = csvio.import_computers(data, actor=None, authority="SP 2.2.1",
                                        dry_run=dry_run)
    else:
        report = csvio.import_media(data, actor=None, present=present, dry_run=dry_run)
    assert report.ok, report.errors[:3]
    return report.created


def parse_floor(data: bytes) -> int:
    return sum(1 for _ in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def timed(function: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = function()
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=0, help="default: csvio.MAX_ROWS")
    parser.add_argument("--baseline-rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with scratch_database(args.database, "csv") as url:
        from django.db import connection

        from secman.people.models import Person
        from secman.physical import csvio

        rows = args.rows or csvio.MAX_ROWS
        present = [Person.objects.create(name="Bench Sysadmin", email="bench@example.org")]
        console.print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}"
                      f", {connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"  # noqa: E501
                      f", {url.split('@')[-1]}, load {os.getloadavg()[0]:.2f}, "
                      f"{os.cpu_count()} CPUs; rows {rows}, baseline rows "
                      f"{args.baseline_rows}, runs {args.runs}")
        table = Table(title="CSV import: rows/s (median of runs; each run's figure)")
        for column in ("what", "rows", "file", "median", "runs"):
            table.add_column(column)
        serial = 0
        for kind in ("computers", "media"):
            make = computers_file if kind == "computers" else media_file
            for label, path, count in (
                    ("new", new_path, rows), ("new", new_path, args.baseline_rows),
                    ("baseline (main's per-row path)", baseline, args.baseline_rows)):
                for dry_run in (True, False):
                    figures = []
                    size = 0
                    for _ in range(args.runs):
                        serial += 1
                        data = make(f"B{serial}", count)
                        size = len(data)
                        seconds, done = timed(
                            lambda path=path, kind=kind, data=data, dry_run=dry_run:
                            path(kind, data, dry_run=dry_run, present=present))
                        assert done == count, (done, count)
                        figures.append(count / seconds)
                    name = f"{kind}: {label}, {'dry run' if dry_run else 'import'}"
                    table.add_row(name, f"{count:,}", f"{size / 1e6:.2f} MB",
                                  f"[bold]{statistics.median(figures):,.0f}[/bold]",
                                  " / ".join(f"{f:,.0f}" for f in figures))
                    console.print(f"  {name} ({count:,} rows): "
                                  + " / ".join(f"{f:,.0f}" for f in figures) + " rows/s, "
                                  f"load {os.getloadavg()[0]:.2f}")
            data = make("FLOOR", rows)
            floor = [rows / timed(lambda data=data: parse_floor(data))[0]
                     for _ in range(args.runs)]
            table.add_row(f"{kind}: parse floor (csv.DictReader only)", f"{rows:,}",
                          f"{len(data) / 1e6:.2f} MB", f"{statistics.median(floor):,.0f}",
                          " / ".join(f"{f:,.0f}" for f in floor))
        console.print(table)
        console.print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
