"""Pages benchmark: the pages people open most, as the product serves them, beside the
login page as the floor.

    python benchmarks/pages_bench.py [--database sqlite|postgres] [--clients 10]
        [--requests 40] [--rounds 4] [--workers 2] [--port 8230] [--duties]

Each run starts from nothing: a fresh SECMAN_DATA_DIR (and, with --database postgres, a
fresh database `<name>_bench` on the server DATABASE_URL names, dropped afterwards), then
`secman serve --demo` (migrations, the demo organisation with the CAcert SP and SM, then
gunicorn with --workers workers; `--no-duties` unless --duties is given). --clients
threads each log in through the real login form (GET /login/ for the CSRF token, POST
with it: a session cookie of their own, one demo login each) and then, in alternating
rounds so every URL sees the same machine, each client sends --requests GETs of every URL
one after the other (closed loop, http.client on loopback):

    /login/               the floor: a template and a CSRF cookie, no queries
    /documents/compare/   SP and SM side by side (target p95 <= 300 ms)
    /                     Today (target p95 <= 150 ms)

Printed: p50, p95 and max per URL, the ratio of each p95 to the floor's, response sizes,
the commit measured (with "+ changes" if the work tree differs from it) and the load
average before and after. Results go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# The HTTP client, the login through the form and the closed-loop load are the
# compliance benchmark's (this directory is on sys.path when a script here runs).
from compliance_bench import load, log_in, percentile, request
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
# The demo logins the clients use, one each (round robin past ten).
LOGINS = ["beatrix", "tomasz", "ingrid", "aurelio", "mina", "ana", "jonas", "samir", "lena",
          "piet", "clara", "oskar", "hana", "diego", "ursula", "ravi"]
FLOOR = "/login/"
PAGES = {"/documents/compare/": 0.300, "/": 0.150}
console = Console(width=200)  # one line per result, also in a log file


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                              text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return f"unknown ({ROOT} is not a git checkout)"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "secman")
    return head + (" + changes to secman/" if changed else "")


def postgres_url(database: str) -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))


def pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def fresh_database(kind: str) -> Iterator[dict[str, str]]:
    """The environment of a new, empty data directory (and PostgreSQL database)."""
    data_dir = Path(tempfile.mkdtemp(prefix="secman-pages-bench-"))
    env = {"SECMAN_DATA_DIR": str(data_dir)}
    name = ""
    if kind == "postgres":
        current = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "secman"
        name = f"{current}_bench"
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = postgres_url(name)
    else:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'secman.sqlite3'}"
    try:
        yield env
    finally:
        if name:
            pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def serve(env: dict[str, str], args: argparse.Namespace) -> Iterator[int]:
    """`secman serve --demo` of this checkout, until the block ends."""
    secman = Path(sys.executable).parent / "secman"
    command = [str(secman), "serve", "--demo", "--port", str(args.port),
               "--workers", str(args.workers)]
    if not args.duties:
        command.append("--no-duties")
    console.print("server: " + " ".join(command[1:]))
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 300  # migrations and the demo come first
            while True:
                try:
                    if request(args.port, FLOOR)[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit("secman serve did not start:\n"
                                     + log.read().decode(errors="replace")[-3000:])
                time.sleep(0.5)
            yield args.port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def summary(latencies: list[float]) -> tuple[float, float, float]:
    return statistics.median(latencies), percentile(latencies, 0.95), max(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a fresh database on the server DATABASE_URL names")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=40,
                        help="requests of each URL by each client")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating rounds the requests are split in")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers (secman serve's default is 2)")
    parser.add_argument("--port", type=int, default=8230)
    parser.add_argument("--duties", action="store_true",
                        help="serve with the duties round (default: --no-duties)")
    args = parser.parse_args()
    per_round = max(1, args.requests // args.rounds) * args.clients
    console.print(f"[bold]Pages benchmark[/bold] {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
                  f" · commit {commit()} · python {platform.python_version()} · "
                  f"{os.cpu_count()} CPUs · {args.database}")
    console.print(f"command: benchmarks/pages_bench.py {' '.join(sys.argv[1:])}")
    with fresh_database(args.database) as env:
        started = time.perf_counter()
        with serve(env, args) as port:
            console.print(f"migrated, demo loaded and serving in "
                          f"{time.perf_counter() - started:.0f} s")
            cookies = [log_in(port, LOGINS[i % len(LOGINS)]) for i in range(args.clients)]
            anonymous = [""] * args.clients
            urls = [FLOOR, *PAGES]
            # Warm every worker: imports, templates, the first evaluation and rendering.
            for url in urls:
                load(port, url, anonymous if url == FLOOR else cookies, args.clients * 2)
            load_before = os.getloadavg()
            latencies: dict[str, list[float]] = {url: [] for url in urls}
            sizes: dict[str, int] = {}
            for _ in range(args.rounds):
                for url in urls:
                    times, sizes[url] = load(port, url, anonymous if url == FLOOR
                                             else cookies, per_round)
                    latencies[url].extend(times)
            load_after = os.getloadavg()
    console.print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    console.print(f"{args.clients} clients, {args.workers} gunicorn workers, "
                  f"{'with' if args.duties else 'without'} the duties round, "
                  f"{len(latencies[FLOOR])} requests per URL in {args.rounds} rounds")
    _, floor95, _ = summary(latencies[FLOOR])
    for url in urls:
        p50, p95, top = summary(latencies[url])
        line = (f"  {url:<20} {sizes[url]:>8,} bytes  p50 {p50 * 1000:7.1f} ms  "
                f"p95 {p95 * 1000:7.1f} ms  max {top * 1000:7.1f} ms")
        if url in PAGES:
            target = PAGES[url]
            line += (f"  {p95 / floor95:5.1f}x the floor's p95  (target p95 <= "
                     f"{target * 1000:.0f} ms: {'met' if p95 <= target else 'NOT met'})")
        console.print(line)


if __name__ == "__main__":
    main()
