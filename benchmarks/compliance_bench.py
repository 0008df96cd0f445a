"""Compliance benchmark: evaluating every control, and the /compliance/ dashboard under
concurrent clients, on an organisation the size issue 6 names.

    .venv/bin/python benchmarks/compliance_bench.py [--database sqlite|postgres]
        [--events 1000000] [--computers 5000] [--media 20000] [--visits 10000]
        [--runs 7] [--clients 10] [--requests 400] [--workers 2]

The organisation is the demo organisation (people, teams, lists, decisions, made through
the services), the CAcert Security Policy and Security Manual imported from
../shared/reference/cacert/, the duties scheduled, and then, with bulk_create because the
services would take hours: N Event Log entries (through the log's own batch append,
`record_batch()`, so the tree, head and checkpoints are real), computers, storage media
with their reports and the people present, visits with participants and reports. Most
records are in order; a few of each kind are not (missing inventory, a report that does
not match the medium's status, a visit with one report), so the controls find something.

Building takes minutes (the Event Log append is most of it), so the built database is
kept: SQLite as a data directory under var/bench/, PostgreSQL as a template database
`secman_cbench_<sizes>` on the server DATABASE_URL names (default
postgres://postgres@127.0.0.1:5432/postgres). Each run copies it and works on the copy;
--rebuild builds it again.

Measures:
(a) evaluate() of every declared control, --runs times: median and p95 (target <= 2 s);
(b) GET /compliance/ by --clients concurrent clients (threads, http.client, one logged-in
    session each) against `secman serve --no-duties` (gunicorn, --workers workers) on
    loopback with the same database: p95 (target <= 200 ms), beside the floor, the login
    page GET (a trivial Django page: template, CSRF cookie, no queries) on the same server
    with the same clients. Ratio = dashboard / floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REFERENCE = ROOT.parent / "shared" / "reference" / "cacert"
console = Console()
PASSWORD = "demo-secman-2026"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- the database: built once, copied per run ---------------------------------------------


def sizes_tag(args: argparse.Namespace) -> str:
    return f"e{args.events}_c{args.computers}_m{args.media}_v{args.visits}"


def server_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(base)._replace(path="/postgres"))


def pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(sql)


def pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone() is not None


@contextmanager
def working_copy(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """Environment (SECMAN_DATA_DIR, DATABASE_URL) of a fresh copy of the built database;
    builds it first if it is not cached."""
    tag = sizes_tag(args)
    cache_dir = ROOT / "var" / "bench" / f"compliance-{args.database}-{tag}"
    template = f"secman_cbench_{tag}"
    built = (cache_dir / "built").exists() and (
        args.database == "sqlite" or pg_exists(template))
    if args.rebuild or not built:
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache_dir.mkdir(parents=True)
        env = {"SECMAN_DATA_DIR": str(cache_dir)}
        if args.database == "postgres":
            pg_execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            pg_execute(f'CREATE DATABASE "{template}"')
            env["DATABASE_URL"] = urlunsplit(urlsplit(server_url())._replace(
                path=f"/{template}"))
        started = time.perf_counter()
        # A child process, so this one can set Django up on the copy afterwards.
        subprocess.run([sys.executable, __file__, "--build-only", *sys.argv[1:]],  # noqa: S603
                       env={**os.environ, **env}, check=True)
        (cache_dir / "built").write_text(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
                                         f"{time.perf_counter() - started:.0f} s\n")
    console.print(f"database built {(cache_dir / 'built').read_text().strip()} "
                  f"({cache_dir.relative_to(ROOT)})")
    work = Path(tempfile.mkdtemp(prefix="secman-compliance-bench-"))
    copy = f"secman_cbench_run_{os.getpid()}"
    try:
        shutil.copytree(cache_dir, work, dirs_exist_ok=True)
        env = {"SECMAN_DATA_DIR": str(work)}
        if args.database == "postgres":
            pg_execute(f'DROP DATABASE IF EXISTS "{copy}"')
            pg_execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
            env["DATABASE_URL"] = urlunsplit(urlsplit(server_url())._replace(path=f"/{copy}"))
        yield env
    finally:
        if args.database == "postgres":
            from django.db import connections

            connections.close_all()
            pg_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def build(args: argparse.Namespace) -> None:
    """Runs in the child process, with SECMAN_DATA_DIR / DATABASE_URL set to the cache."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from secman import demo
    from secman.compliance import services as compliance
    from secman.documents.services import import_document

    started = time.perf_counter()
    demo.load()
    for name, kind, filename in (("Security Policy", "policy", "SecurityPolicy.html"),
                                 ("Security Manual", "manual", "SecurityManual.txt")):
        path = REFERENCE / filename
        if path.exists():
            with transaction.atomic():
                import_document(actor=None, data=path.read_bytes(), filename=path.name,
                                name=name, kind=kind)
        else:
            console.print(f"[yellow]{path} is missing: no {name} imported[/yellow]")
    with transaction.atomic():
        compliance.sync_duties()
        compliance.generate_occurrences()
    console.print(f"demo organisation, documents and duties: "
                  f"{time.perf_counter() - started:.1f} s")
    rng = random.Random(6)  # noqa: S311 (test data)
    with progress_bar() as bar:
        build_events(args.events, bar, rng)
        build_physical(args.computers, args.media, bar, rng)
        build_visits(args.visits, bar, rng)
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connection.close()


ACTIONS = [
    ("physical.media.report", "SM 2.2.3"), ("visits.check_in", "SM 2.3.1"),
    ("visits.report", "SP 4.2.4"), ("people.login", "SP 1.2"),
    ("authority.sign", "SP 1.2"), ("physical.computer.maintenance", "SM 2.2.2"),
]


def build_events(total: int, bar: Progress, rng: random.Random) -> None:
    from django.db import transaction

    from secman.eventlog.services import Entry, record_batch
    from secman.people.models import Person

    people = list(Person.objects.filter(user__isnull=False))
    task = bar.add_task(f"Event Log: {total:,} entries (record_batch)", total=total)
    number = 0
    while number < total:
        size = min(1000, total - number)
        entries = []
        for i in range(number, number + size):
            action, authority = ACTIONS[i % len(ACTIONS)]
            entries.append(Entry(
                action=action, authority=authority, actor=people[i % len(people)],
                details={"ticket": i, "note": "routine work recorded by the benchmark",
                         "location": "Cage 2, rack A"}))
        with transaction.atomic():
            record_batch(entries)
        number += size
        bar.advance(task, size)


def build_physical(computers: int, media: int, bar: Progress, rng: random.Random) -> None:
    from django.db import transaction
    from django.utils import timezone

    from secman.authority.services import resolve_authority
    from secman.people.models import Person
    from secman.physical.choices import ComputerStatus, MediaStatus, RetirementMethod
    from secman.physical.models import Computer, Media, MediaReport

    now = timezone.now()
    sysadmins = list(Person.objects.filter(user__username__in=["samir", "lena", "piet"]))
    authority = resolve_authority("SM 2.2.3")
    task = bar.add_task(f"{computers:,} computers, {media:,} media with reports",
                        total=computers + media)
    weights = [(ComputerStatus.ACQUIRED, 3), (ComputerStatus.INVENTORIED, 5),
               (ComputerStatus.IN_SERVICE, 78), (ComputerStatus.MAINTENANCE, 5),
               (ComputerStatus.MUST_RETIRE, 1), (ComputerStatus.RETIRED, 8)]
    statuses, counts = zip(*weights, strict=True)
    with transaction.atomic():
        rows = []
        for n in range(computers):
            status = rng.choices(statuses, counts)[0]
            # One in 400 computers in service lacks part of its inventory.
            incomplete = status == ComputerStatus.IN_SERVICE and rng.random() < 0.0025
            rows.append(Computer(
                asset_tag=f"B-{n:06d}", nickname=f"node{n:05d}", vendor="Example Systems",
                model="ES-300", serial_number=f"BS{n:07d}",
                maintenance_contact="" if incomplete else "Example Systems support",
                rack_location=f"Cage {n % 9}, rack {n % 40}, U{n % 42}",
                intended_use="cluster node", legal_owner="Example Hosting Foundation",
                status=status, created_at=now - dt.timedelta(days=rng.randint(30, 2000)),
                retire_reason="vendor needs the unit for repair"
                if status == ComputerStatus.MUST_RETIRE else ""))
        Computer.objects.bulk_create(rows, batch_size=1000)
        bar.advance(task, computers)
        in_service = list(Computer.objects.filter(status=ComputerStatus.IN_SERVICE)
                          .values_list("pk", flat=True))
        retired = list(Computer.objects.filter(status=ComputerStatus.RETIRED)
                       .values_list("pk", flat=True))
    path = {MediaStatus.PROVISIONED: [MediaStatus.PROVISIONED],
            MediaStatus.IN_USE: [MediaStatus.PROVISIONED, MediaStatus.IN_USE],
            MediaStatus.STORED: [MediaStatus.PROVISIONED, MediaStatus.IN_USE,
                                 MediaStatus.STORED],
            MediaStatus.REUSED: [MediaStatus.PROVISIONED, MediaStatus.IN_USE,
                                 MediaStatus.STORED, MediaStatus.REUSED],
            MediaStatus.RETIRED: [MediaStatus.PROVISIONED, MediaStatus.IN_USE,
                                  MediaStatus.RETIRED]}
    media_weights = [(MediaStatus.PROVISIONED, 10), (MediaStatus.IN_USE, 55),
                     (MediaStatus.STORED, 15), (MediaStatus.REUSED, 5),
                     (MediaStatus.RETIRED, 15)]
    m_statuses, m_counts = zip(*media_weights, strict=True)
    present_model = MediaReport.present.through
    for start in range(0, media, 2000):
        with transaction.atomic():
            items, chains = [], []
            for n in range(start, min(media, start + 2000)):
                status = rng.choices(m_statuses, m_counts)[0]
                computer = None
                if status in (MediaStatus.IN_USE, MediaStatus.REUSED):
                    # One in 500 media in use sits in a retired computer.
                    pool = retired if rng.random() < 0.002 and retired else in_service
                    computer = rng.choice(pool)
                method, seal_year = "", None
                if status == MediaStatus.RETIRED:
                    method = rng.choice(list(RetirementMethod))
                    if method == RetirementMethod.SEALED:
                        seal_year = now.year + rng.randint(-1, 8)
                created = now - dt.timedelta(days=rng.randint(20, 1500))
                items.append(Media(
                    serial_number=f"BM-{n:07d}", media_type=rng.choice(
                        ["hdd", "ssd", "tape", "usb"]), capacity_gb=rng.choice([480, 960,
                                                                               4000]),
                    status=status, location=f"Safe {n % 3}, shelf {n % 7}",
                    computer_id=computer, critical_data=rng.random() < 0.7,
                    retirement_method=method, seal_expiry_year=seal_year,
                    destroyed_at=now if method == RetirementMethod.DESTROYED else None,
                    disposal_certificate="DC-1" if method else "", created_at=created))
                chain = path[status]
                # One in 300 media changed status without a report of the change.
                if len(chain) > 1 and rng.random() < 0.0033:
                    chain = chain[:-1]
                chains.append((created, chain))
            Media.objects.bulk_create(items, batch_size=1000)
            reports = []
            for medium, (created, chain) in zip(items, chains, strict=True):
                previous = ""
                for step, to_status in enumerate(chain):
                    reports.append(MediaReport(
                        media=medium, from_status=previous, to_status=to_status,
                        steps_taken="erased and verified" if step == 0 else "moved",
                        location=medium.location, erased=step == 0, authority=authority,
                        reported_by=sysadmins[step % len(sysadmins)],
                        reported_at=created + dt.timedelta(days=step * 30)))
                    previous = to_status
            MediaReport.objects.bulk_create(reports, batch_size=1000)
            links = []
            for report in reports:
                # One in 2,000 reports names nobody present.
                if rng.random() < 0.0005:
                    continue
                first = rng.randrange(len(sysadmins))
                for person in (sysadmins[first], sysadmins[(first + 1) % len(sysadmins)]):
                    links.append(present_model(mediareport_id=report.pk, person_id=person.pk))
            present_model.objects.bulk_create(links, batch_size=2000)
        bar.advance(task, len(items))


def build_visits(total: int, bar: Progress, rng: random.Random) -> None:
    from django.db import transaction
    from django.utils import timezone

    from secman.authority.services import resolve_authority
    from secman.people.models import Person
    from secman.visits.choices import OnSiteRole, ReportKind, VisitStatus
    from secman.visits.models import Participant, Visit, VisitReport

    now = timezone.now()
    by_login = {p.user.username: p for p in Person.objects.filter(
        user__username__in=["ana", "jonas", "samir", "lena", "piet"]).select_related("user")}
    engineers = [by_login["ana"], by_login["jonas"]]
    sysadmins = [by_login["samir"], by_login["lena"], by_login["piet"]]
    authority = resolve_authority("SM 2.3.1")
    task = bar.add_task(f"{total:,} visits with participants and reports", total=total)
    for start in range(0, total, 2000):
        with transaction.atomic():
            visits, plans = [], []
            for n in range(start, min(total, start + 2000)):
                age = (total - n) * 0.2 + 2  # days ago: spread over the years
                begin = now - dt.timedelta(days=age)
                roll = rng.random()
                if n >= total - 20:
                    status, begin = (VisitStatus.REQUESTED if n % 2 else
                                     VisitStatus.AUTHORISED), now + dt.timedelta(days=n % 10 + 1)
                elif roll < 0.003:
                    status = VisitStatus.LEFT  # a report is still owed
                else:
                    status = VisitStatus.CLOSED
                engineer = engineers[n % 2]
                admin = sysadmins[n % 3]
                visits.append(Visit(
                    purpose="replace a failed disk" if n % 2 else "quarterly inventory",
                    systems="signer, webdb", window_start=begin,
                    window_end=begin + dt.timedelta(hours=4), requested_by=admin,
                    requested_at=begin - dt.timedelta(days=3), status=status,
                    authorisation_reference=f"MoU annex B #{n}", authority=authority,
                    authorised_by=engineer if status != VisitStatus.REQUESTED else None,
                    authorised_at=(begin - dt.timedelta(days=1)
                                   if status != VisitStatus.REQUESTED else None),
                    closed_at=begin + dt.timedelta(days=1)
                    if status == VisitStatus.CLOSED else None,
                    closed_by=engineer if status == VisitStatus.CLOSED else None))
                plans.append((status, engineer, admin, begin))
            Visit.objects.bulk_create(visits, batch_size=1000)
            participants, reports = [], []
            for visit, (status, engineer, admin, begin) in zip(visits, plans, strict=True):
                if status in (VisitStatus.REQUESTED, VisitStatus.AUTHORISED):
                    continue
                participants.append(Participant(
                    visit=visit, person=engineer, role=OnSiteRole.ACCESS_ENGINEER,
                    accesses_data=False, checked_in_at=begin,
                    checked_out_at=begin + dt.timedelta(hours=2)))
                # One in 1,000 visits had only one person on site.
                if rng.random() >= 0.001:
                    participants.append(Participant(
                        visit=visit, person=admin, role=OnSiteRole.SYSTEMS_ADMINISTRATOR,
                        accesses_data=True, checked_in_at=begin,
                        checked_out_at=begin + dt.timedelta(hours=2)))
                kinds = list(ReportKind)
                if status == VisitStatus.LEFT:
                    kinds = kinds[:1]
                for kind in kinds:
                    reports.append(VisitReport(
                        visit=visit, kind=kind,
                        author=admin if kind == ReportKind.ACCESSOR else engineer,
                        text="Work done as authorised; nothing unusual.",
                        filed_at=begin + dt.timedelta(hours=3)))
            Participant.objects.bulk_create(participants, batch_size=1000)
            VisitReport.objects.bulk_create(reports, batch_size=1000)
        bar.advance(task, len(visits))


# --- (a) evaluate() -----------------------------------------------------------------------


def measure_evaluate(runs: int) -> tuple[list[float], dict[str, int], dict[str, float]]:
    from django.db import connection

    from secman.compliance.evaluation import evaluate

    evaluate()  # warm: imports, first connection
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        results = evaluate()
        times.append(time.perf_counter() - start)
    findings = {r.control.id: len(r.findings) for r in results}
    # Per control, once, so the slow ones are visible.
    per_control: dict[str, float] = {}
    for result in results:
        start = time.perf_counter()
        evaluate([result.control])
        per_control[result.control.id] = time.perf_counter() - start
    connection.close()
    return times, findings, per_control


# --- (b) the dashboard over HTTP ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, path: str, cookie: str = "", method: str = "GET",
            body: str = "", headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if cookie:
            all_headers["Cookie"] = cookie
        conn.request(method, path, body=body or None, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
        return response.status, dict(response.headers), data, cookies
    finally:
        conn.close()


def cookie_value(cookies: list[str], name: str) -> str:
    for item in cookies:
        if item.startswith(f"{name}="):
            return item.split(";", 1)[0].split("=", 1)[1]
    return ""


def log_in(port: int, username: str) -> str:
    """A real login through the form: the session cookie header for later requests."""
    status, _headers, body, cookies = request(port, "/login/")
    csrf = cookie_value(cookies, "csrftoken")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not csrf or not match:
        raise SystemExit(f"login page: HTTP {status}, no CSRF token")
    form = urlencode({"username": username, "password": PASSWORD,
                      "csrfmiddlewaretoken": match.group(1).decode()})
    status, _headers, _body, cookies = request(
        port, "/login/", cookie=f"csrftoken={csrf}", method="POST", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Referer": f"http://127.0.0.1:{port}/login/"})
    session = cookie_value(cookies, "sessionid")
    if status != 302 or not session:
        raise SystemExit(f"login as {username} failed: HTTP {status}")
    return f"sessionid={session}; csrftoken={csrf}"


def load(port: int, path: str, cookies: list[str], total: int) -> tuple[list[float], int]:
    """`total` GETs of `path` by len(cookies) concurrent clients; each client waits for
    its answer before sending the next (closed loop). Returns latencies and bytes."""
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [total]

    def client(cookie: str) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                status, _h, body, _c = request(port, path, cookie=cookie)
            except OSError as exc:  # a timeout, or gunicorn killed a worker (60 s limit)
                status, body = 0, f"{type(exc).__name__}".encode()
            elapsed = time.perf_counter() - start
            with lock:
                if status != 200:
                    errors.append(f"{path}: HTTP {status} {body[:40]!r} after {elapsed:.1f} s")
                latencies.append(elapsed)
                sizes.append(len(body))

    threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        # Counted in the latencies (a failure is at least as slow as its time to fail).
        console.print(f"[red]{path}: {len(errors)} of {total} requests failed, e.g. "
                      f"{errors[0]}[/red]")
    return latencies, int(statistics.median(sizes))


@contextmanager
def server(env: dict[str, str], workers: int) -> Iterator[int]:
    port = free_port()
    # PYTHONPATH: the server runs this checkout's secman, as the in-process measure does.
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "secman"), "serve", "--no-duties", "--port", str(port),
         "--workers", str(workers)], env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if request(port, "/login/")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                assert process.stderr is not None
                raise SystemExit("secman serve did not start:\n"
                                 + process.stderr.read().decode()[-3000:])
            time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_http(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    with server(env, args.workers) as port:
        cookies = [log_in(port, "beatrix") for _ in range(args.clients)]
        anonymous = [""] * args.clients
        # Warm every worker: imports, template loading, first queries.
        load(port, "/compliance/", cookies, args.clients * 2)
        load(port, "/login/", anonymous, args.clients * 2)
        rounds: dict[str, list[float]] = {"floor": [], "dashboard": []}
        size = {}
        # Side by side: alternate floor and dashboard in rounds, so both see the same
        # machine.
        for _ in range(args.rounds):
            lat, size["floor"] = load(port, "/login/", anonymous, args.requests // args.rounds)
            rounds["floor"].extend(lat)
            lat, size["dashboard"] = load(port, "/compliance/", cookies,
                                          args.requests // args.rounds)
            rounds["dashboard"].extend(lat)
    return {"latencies": rounds, "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="Event Log entries")
    parser.add_argument("--computers", type=int, default=5000)
    parser.add_argument("--media", type=int, default=20_000,
                        help="storage media (each with its reports)")
    parser.add_argument("--visits", type=int, default=10_000,
                        help="visits (with participants and reports)")
    parser.add_argument("--runs", type=int, default=7, help="evaluate() runs timed")
    parser.add_argument("--clients", type=int, default=10, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=400,
                        help="requests per page (dashboard and floor each)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating floor/dashboard rounds the requests are split in")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers (secman serve's default is 2)")
    parser.add_argument("--skip-http", action="store_true", help="measure evaluate() only")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the database again even if a built copy is cached")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args)
        return
    command = ".venv/bin/python benchmarks/compliance_bench.py " + " ".join(sys.argv[1:])
    with working_copy(args) as env:
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "secman.settings"
        import django

        django.setup()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite"
                           else "SHOW server_version")
            version = cursor.fetchone()[0]
        now = dt.datetime.now(dt.UTC)
        console.print(f"[bold]Compliance benchmark[/bold] {now:%Y-%m-%d %H:%M} UTC · "
                      f"python {platform.python_version()} · "
                      f"{os.cpu_count()} CPUs · {connection.vendor} {version}")
        console.print(f"command: {command}")
        console.print(f"load average at start: {os.getloadavg()}")
        from secman.eventlog.models import Event
        from secman.physical.models import Computer, Media, MediaReport
        from secman.visits.models import Participant, Visit, VisitReport

        console.print(
            f"sizes: {Event.objects.count():,} Event Log entries, "
            f"{Computer.objects.count():,} computers, {Media.objects.count():,} media, "
            f"{MediaReport.objects.count():,} media reports, {Visit.objects.count():,} "
            f"visits, {Participant.objects.count():,} participants, "
            f"{VisitReport.objects.count():,} visit reports")
        times, findings, per_control = measure_evaluate(args.runs)
        median, p95 = statistics.median(times), percentile(times, 0.95)
        console.print(f"(a) evaluate(), {len(findings)} controls, {args.runs} runs: "
                      f"median {ms(median)}, p95 {ms(p95)}, best {ms(min(times))} "
                      f"(target <= 2 s: {'met' if p95 <= 2 else 'NOT met'})")
        console.print("    findings per control: " + ", ".join(
            f"{k} {v}" for k, v in findings.items() if v))
        console.print("    slowest controls alone: " + ", ".join(
            f"{k} {ms(v)}" for k, v in sorted(per_control.items(), key=lambda kv: -kv[1])[:6]))
        if args.skip_http:
            return
        http_results = measure_http(env, args)
        console.print(f"load average after: {os.getloadavg()}")
        floor = http_results["latencies"]["floor"]
        dash = http_results["latencies"]["dashboard"]
        f95, d95 = percentile(floor, 0.95), percentile(dash, 0.95)
        console.print(
            f"(b) {args.clients} concurrent clients, {args.workers} gunicorn workers, "
            f"{len(dash)} requests each:\n"
            f"    floor GET /login/ ({http_results['size']['floor']:,} bytes): median "
            f"{ms(statistics.median(floor))}, p95 {ms(f95)}\n"
            f"    GET /compliance/ ({http_results['size']['dashboard']:,} bytes): median "
            f"{ms(statistics.median(dash))}, p95 {ms(d95)}; ratio to the floor: p95 "
            f"{d95 / f95:.1f}x, median "
            f"{statistics.median(dash) / statistics.median(floor):.1f}x "
            f"(target p95 <= 200 ms: {'met' if d95 <= 0.2 else 'NOT met'})")


if __name__ == "__main__":
    main()
