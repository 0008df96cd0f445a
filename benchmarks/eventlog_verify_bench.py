"""`secman eventlog verify` as an operator runs it: the default (with the column check)
beside `--no-columns`, alternating, on one log built once.

    .venv/bin/python benchmarks/eventlog_verify_bench.py [--database sqlite|postgres]
        [--entries N] [--runs R] [--keep DIR_OR_DATABASE_NAME]

Builds a log of N entries (record_batch(), 1,000 per transaction, the entries of
benchmarks/eventlog_bench.py) unless the database it is pointed at already holds one of
that size, then times R runs of each command, interpreter start and Django setup
included, each in its own process (`secman eventlog verify --no-columns`, then
`secman eventlog verify`, then again). The load average is printed before and after
every run: the machine may be shared.

Without --keep the database is made for the run and removed after it. With --keep it is
kept and reused by the next run with the same --keep (SQLite: a data directory;
PostgreSQL: a database name on the server DATABASE_URL names), so a 1,000,000-entry log
is built once for any number of measurements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    base = os.environ.get("DATABASE_URL", SERVER)
    return base if urlsplit(base).scheme.startswith("postgres") else SERVER


def environment(kind: str, keep: str) -> tuple[dict[str, str], str, str]:
    """The environment of the secman processes, the data dir and the database name
    (PostgreSQL) it uses; made if missing."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="secman.settings", PYTHONPATH=str(ROOT),
               SECMAN_LOG_LEVEL="WARNING")
    name = ""
    if kind == "postgres":
        import psycopg

        name = keep or f"secman_eventlog_verify_bench_{os.getpid()}"
        parts = urlsplit(server_url())
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")),
                             autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        # The signing key's file lives in the data dir: kept beside a kept database.
        data_dir = str(Path(tempfile.gettempdir()) / f"secman-verify-bench-{name}")
        Path(data_dir).mkdir(exist_ok=True)
    else:
        data_dir = keep or tempfile.mkdtemp(prefix="secman-verify-bench-")
        Path(data_dir).mkdir(parents=True, exist_ok=True)
    env["SECMAN_DATA_DIR"] = data_dir
    return env, data_dir, name


BUILD = """
import sys, time
sys.path.insert(0, {root!r})
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import transaction
from secman.eventlog import proofs, services
from benchmarks.eventlog_bench import entry
total = {total}
have = proofs.tree_size()
if have not in (0, total):
    sys.exit(f"the database holds a log of {{have}} entries, not {{total}}: use another --keep")
start = time.perf_counter()
number = have
while number < total:
    size = min(1000, total - number)
    with transaction.atomic():
        services.record_batch([entry(number + i) for i in range(size)])
    number += size
    if number % 100000 == 0:
        print(f"  {{number:,}} entries", flush=True)
if have < total:
    print(f"built {{total - have:,}} entries in {{time.perf_counter() - start:.0f}} s")
else:
    print(f"reusing the log of {{total:,}} entries")
"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def timed_verify(env: dict[str, str], *options: str) -> tuple[float, str, str, str]:
    before = load()
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).with_name("secman")), "eventlog", "verify", *options],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    last = (done.stderr.strip().splitlines() or [""])[-1]
    if done.returncode != 0:
        sys.exit(f"secman eventlog verify {' '.join(options)} failed:\n{done.stderr}")
    return elapsed, before, load(), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each command (0: only build the log)")
    parser.add_argument("--keep", default="", help="SQLite: a data directory; PostgreSQL: "
                        "a database name; kept after the run and reused")
    args = parser.parse_args()
    env, data_dir, name = environment(args.database, args.keep)
    try:
        print(f"eventlog verify benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · "
              f"{os.cpu_count()} CPUs · load {load()} · {args.database} · "
              f"{env.get('DATABASE_URL') or data_dir}")
        print(f"command: .venv/bin/python benchmarks/eventlog_verify_bench.py "
              f"{' '.join(sys.argv[1:])}")
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", BUILD.format(root=str(ROOT), total=args.entries)],
            env=env, cwd=ROOT, check=True)
        times: dict[str, list[float]] = {"--no-columns": [], "(default)": []}
        for run in range(1, args.runs + 1):
            for label, options in (("--no-columns", ("--no-columns",)), ("(default)", ())):
                elapsed, before, after, said = timed_verify(env, *options)
                times[label].append(elapsed)
                print(f"run {run}: secman eventlog verify {label:13} {elapsed:7.2f} s  "
                      f"(load {before} -> {after})  {said}", flush=True)
        if not args.runs:
            return
        plain, full = (statistics.median(times["--no-columns"]),
                       statistics.median(times["(default)"]))
        print(f"median of {args.runs}: --no-columns {plain:.2f} s, default {full:.2f} s: "
              f"{full / plain:.2f}x ({args.entries / full:,.0f} entries/s with the column "
              "check)")
    finally:
        if not args.keep:
            if name:
                import psycopg

                with psycopg.connect(urlunsplit(urlsplit(server_url())._replace(
                        path="/postgres")), autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
