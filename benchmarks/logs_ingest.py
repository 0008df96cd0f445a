"""Systems' logs benchmark (issue 16): rsyslog's spool into secman, the Sigma rules' share
of it, and the search, each beside its floor, measured in the same run.

    .venv/bin/python benchmarks/logs_ingest.py --db sqlite|postgresql [--messages N]
        [--repeats 2] [--batch 5000] [--search-rows M] [--search-steps 1000000]
        [--per-day 1000000] [--profile-lines 100000] [--parts ...] [--json FILE]

Everything runs against a real rsyslogd (/usr/sbin/rsyslogd, unprivileged: no imuxsock,
imtcp on a free high port, its own work directory and pid file; a new rsyslogd for each
measurement, stopped after it) and a database made for the run: a SQLite file in a
temporary SECMAN_DATA_DIR, or a PostgreSQL database made for the run (benchmarks/scratch.py)
on the server DATABASE_URL names (default postgres://postgres@127.0.0.1:5432), dropped after.

N messages (default 300,000) are made once: RFC 3164 and RFC 5424 lines from 20 hosts,
mostly ordinary daemon lines (cron, systemd, postfix, nginx...), ~2% sshd "Failed
password" from four addresses (a brute force: the correlation rule fires), some sshd
logins, sudo (a tenth of them failures), ~1% kernel `secman-drop-in` lines of the
generated firewall. A Python thread writes them, newline-framed, over one TCP connection.

1. floor: rsyslog with docs/rsyslog/secman-server.conf, its omfile action writing to one
   plain file instead of the hourly spool: messages/s from the first send until the file
   holds N lines.
2. ingest: for each run the same N messages through the same configuration into a new
   spool directory (timed as 1.), then `secman logs ingest` called in this process
   (secman.logs.ingest.read_spool(spool, batch=5000) after django.setup(), not the CLI in
   a subprocess) until all N are stored, into emptied tables. Three kinds of run,
   alternating, --repeats times: "live" (the six seeded detection rules enabled, the
   spool just written: the received times are now, as for an ingest that keeps up),
   "disabled" (DetectionRule.enabled=False for all, in the benchmark's database), and
   "replayed" (rules enabled, the spool's received times moved an hour back: an ingest
   catching up, where every correlation window closes with its batch).
   Where the time goes: per-batch wrappers around store(), _insert(), append_leaves(),
   sign_if_due(), the commit and the detector's steps, and cProfile of --profile-lines
   messages with the rules disabled and enabled.
   follow (--parts ...,follow): the ingest reading while rsyslog writes, as --follow
   does: first send until all N are stored.
3. omprog: the same N messages to rsyslog's omprog (confirmMessages="on"
   useTransactions="on", the action of /tmp/rs/rs.conf) feeding a Python program that
   answers OK / DEFER_COMMIT and does nothing else: first send until it has confirmed N,
   with an in-memory action queue and with the example's disk-assisted one.
4. search: the message table filled to each of --search-steps rows and to M with rows
   written directly with SQL (sqlite3 executemany / COPY; the columns of
   secman.logs.ingest._insert; leaf_hash a 64-hex counter, not a hash of the message),
   messages of the same mix classified by secman's class rules, --per-day a day; then the
   query secman.logs.services.search runs after recording the search, one host, one class,
   one day (the last complete one), first page of 100: median of --search-runs, for the
   day's largest (host, class), a middling one and the smallest; services.search()
   itself (with its Event Log entry) beside it. Then, with the M rows in place, one more
   ingest of a new spool with the rules disabled.

Results go to docs/performance.md by hand, with the command this prints.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scratch import scratch_database  # noqa: E402  (beside this script, on sys.path)

console = Console(width=None if sys.stdout.isatty() else 150)
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
SERVER_CONF = ROOT / "docs" / "rsyslog" / "secman-server.conf"


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


# --- the database -------------------------------------------------------------------------



LOG_TABLES = ("logs_anomalymessage", "logs_anomaly", "logs_message", "logs_treenode",
              "logs_treecheckpoint", "logs_spoolfile", "logs_treehead")


def empty_log_tables() -> None:
    """The systems' log as a new installation has it (the rules stay)."""
    from django.db import connection

    from secman.logs import detection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(LOG_TABLES)}")
        else:
            for table in LOG_TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    detection.reset()


def set_rules(enabled: bool) -> int:
    from secman.logs import detection
    from secman.logs.models import DetectionRule

    DetectionRule.objects.update(enabled=enabled)
    detection.reset()
    return DetectionRule.objects.filter(enabled=True).count()


# --- the messages -------------------------------------------------------------------------

HOSTS = ["web1.example.org", "web2.example.org", "db1", "db2", "signer", "mail1",
         "ldap1.example.org", "fw1", "fw2", "backup1", "wiki", "svn", "blog", "lists",
         "irc", "dns1", "dns2", "vpn1", "monitor", "build"]
# Busier hosts first (a few hosts send most of the traffic).
HOST_WEIGHTS = [20, 14, 10, 8, 6, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1]
ATTACKERS = ["203.0.113.9", "198.51.100.23", "192.0.2.77", "203.0.113.140"]
USERS = ["root", "admin", "oracle", "test", "ubuntu", "postgres", "git"]
STAFF = ["alice", "bob", "carol", "dave"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
UNITS = ["apt-daily", "logrotate", "man-db", "fstrim"]
PAGES = ["", "index.php", "wiki/Main_Page", "account.php"]


def daemon_line(rng: random.Random) -> tuple[str, int, int, str]:
    """(program, facility, severity, text) of an ordinary line."""
    kind = rng.randrange(10)
    number = rng.randrange(1, 99999)
    octet = rng.randrange(1, 255)
    if kind == 0:
        return ("CRON", 9, 6, f"(root) CMD (/usr/lib/sysstat/debian-sa1 1 1 # {number})")
    if kind == 1:
        return ("systemd", 3, 6, f"Started session-{number}.scope - Session {number} of User "
                f"{rng.choice(STAFF)}.")
    if kind == 2:
        return ("systemd", 3, 6, f"Starting {rng.choice(UNITS)}.service - Daily "
                f"{rng.choice(UNITS)} activities...")
    if kind == 3:
        return ("postfix/smtpd", 2, 6, f"connect from unknown[192.0.2.{octet}]")
    if kind == 4:
        return ("postfix/qmgr", 2, 6, f"{rng.getrandbits(40):010X}: "
                f"from=<bounce@lists.example.org>, size={number}, nrcpt=1 (queue active)")
    if kind == 5:
        return ("nginx", 3, 6, f"192.0.2.{octet} - - \"GET /{rng.choice(PAGES)} HTTP/1.1\" "
                f"{rng.choice([200, 200, 200, 304, 404])} {number}")
    if kind == 6:
        return ("chronyd", 3, 6, f"Selected source 192.0.2.{octet % 9} (ntp.example.org)")
    if kind == 7:
        return ("dhclient", 3, 6, f"DHCPREQUEST for 10.0.{octet % 4}.{octet} on eth0 to "
                "10.0.0.1 port 67")
    if kind == 8:
        return ("slapd", 20, 7, f"conn={number} op={octet % 9} SRCH base=\"ou=people,dc=example,"
                f"dc=org\" scope=2 deref=0 filter=\"(uid={rng.choice(STAFF)})\"")
    return ("smartd", 3, 5, f"Device: /dev/sd{'ab'[octet % 2]} [SAT], SMART Usage Attribute: "
            f"194 Temperature_Celsius changed from {octet % 30 + 30} to {octet % 30 + 31}")


def make_messages(count: int, seed: int = 16) -> tuple[list[bytes], Counter[str]]:
    """`count` syslog frames (without their newline) and how many of each kind."""
    rng = random.Random(seed)  # noqa: S311
    kinds: Counter[str] = Counter()
    frames = []
    now = dt.datetime.now(dt.UTC)
    for n in range(count):
        host = rng.choices(HOSTS, HOST_WEIGHTS)[0]
        pid = rng.randrange(300, 65000)
        draw = rng.random()
        if draw < 0.02:
            user = rng.choice(USERS)
            invalid = "invalid user " if user not in ("root", "postgres") else ""
            program, facility, severity = "sshd", 10, 6
            text = (f"Failed password for {invalid}{user} from {rng.choice(ATTACKERS)} port "
                    f"{rng.randrange(1024, 65535)} ssh2")
            kinds["sshd Failed password"] += 1
        elif draw < 0.025:
            program, facility, severity = "sshd", 10, 6
            who = "root" if n % 20000 == 7 else rng.choice(STAFF)
            text = (f"Accepted publickey for {who} from 10.0.1.{rng.randrange(2, 60)} port "
                    f"{rng.randrange(1024, 65535)} ssh2: ED25519 SHA256:"
                    f"{hashlib.sha256(who.encode()).hexdigest()[:43]}")
            kinds["sshd Accepted"] += 1
        elif draw < 0.035:
            program, facility, severity = "sudo", 10, 5
            who = rng.choice(STAFF)
            if rng.random() < 0.1:
                text = (f"   {who} : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/"
                        f"{who} ; USER=root ; COMMAND=/bin/sh")
                kinds["sudo failure"] += 1
            else:
                text = (f"   {who} : TTY=pts/{rng.randrange(0, 5)} ; PWD=/home/{who} ; "
                        f"USER=root ; COMMAND=/usr/bin/systemctl restart nginx")
                kinds["sudo"] += 1
        elif draw < 0.045:
            program, facility, severity = "kernel", 0, 4
            text = (f"[{rng.randrange(1000, 9999999)}.{rng.randrange(1000000):06d}] secman-drop-in "
                    f"IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100."
                    f"{rng.randrange(1, 255)} DST=10.0.0.{rng.randrange(2, 40)} LEN=60 TOS=0x00 "
                    f"PREC=0x00 TTL=51 ID={rng.randrange(65535)} DF PROTO=TCP SPT="
                    f"{rng.randrange(1024, 65535)} DPT={rng.choice([23, 3389, 5900, 8080])} "
                    f"WINDOW=64240 RES=0x00 SYN URGP=0")
            kinds["kernel secman-drop-in"] += 1
        else:
            program, facility, severity, text = daemon_line(rng)
            kinds["daemon"] += 1
        pri = facility * 8 + severity
        stamp = now + dt.timedelta(milliseconds=n)
        if rng.random() < 0.6:  # RFC 3164
            tag = "kernel:" if program == "kernel" else f"{program}[{pid}]:"
            frames.append(f"<{pri}>{MONTHS[stamp.month - 1]} {stamp.day:2d} "
                          f"{stamp:%H:%M:%S} {host.split('.')[0] if n % 3 else host} {tag} "
                          f"{text}".encode())
            kinds["RFC 3164"] += 1
        else:  # RFC 5424
            frames.append(f"<{pri}>1 {stamp:%Y-%m-%dT%H:%M:%S.%f}Z {host} {program} {pid} - - "
                          f"{text}".encode())
            kinds["RFC 5424"] += 1
    return frames, kinds


# --- rsyslogd -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_config(port: int, work: Path, spool: Path, action: str | None = None) -> str:
    """docs/rsyslog/secman-server.conf with this run's port and directories; `action`
    replaces its omfile action (the floor's plain file, omprog)."""
    text = SERVER_CONF.read_text()
    text = (text.replace('port="6514"', f'port="{port}"')
            .replace("/var/spool/secman", str(spool))
            .replace('workDirectory="/var/lib/rsyslog"', f'workDirectory="{work}"'))
    if action is not None:
        start = text.index('  action(type="omfile"')
        end = text.index(")", text.index('flushOnTXEnd="on"')) + 1
        text = text[:start] + action + text[end:]
    return text


@contextmanager
def rsyslogd(directory: Path, config_for: Callable[[int, Path], str]) -> Iterator[int]:
    """A real rsyslogd with the configuration given, listening on a free high port."""
    work = directory / "work"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "rsyslog.conf"
    config.write_text(config_for(port, work))
    log = (directory / "rsyslogd.out").open("wb")
    process = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i",  # noqa: S603
                                str(directory / "rsyslogd.pid")], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"rsyslogd stopped: {(directory / 'rsyslogd.out').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("rsyslogd did not listen") from None
                time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


class Sender(threading.Thread):
    """Writes the payload over one TCP connection; `started` is the first send."""

    def __init__(self, port: int, payload: bytes) -> None:
        super().__init__(daemon=True)
        self.port, self.payload = port, payload
        self.started = 0.0
        self.finished = 0.0

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            view = memoryview(self.payload)
            self.started = time.perf_counter()
            for offset in range(0, len(view), 1 << 20):
                sock.sendall(view[offset:offset + (1 << 20)])
            sock.shutdown(socket.SHUT_WR)
            self.finished = time.perf_counter()


class LineCounter:
    """Lines written so far to the files matching `pattern` in `directory`, read as they
    grow (each byte once)."""

    def __init__(self, directory: Path, pattern: str) -> None:
        self.directory, self.pattern = directory, pattern
        self.offsets: dict[Path, int] = {}
        self.count = 0

    def poll(self) -> int:
        for path in self.directory.glob(self.pattern):
            size = path.stat().st_size
            done = self.offsets.get(path, 0)
            if size > done:
                with path.open("rb") as handle:
                    handle.seek(done)
                    data = handle.read(size - done)
                self.count += data.count(b"\n")
                self.offsets[path] = done + len(data)
        return self.count


def wait_until(check: Callable[[], int], count: int, timeout: float,
               interval: float = 0.005) -> float:
    deadline = time.monotonic() + timeout
    while check() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {check()} of {count} after {timeout:.0f} s")
        time.sleep(interval)
    return time.perf_counter()


def to_file(payload: bytes, count: int, directory: Path, *, action: str | None = None,
            pattern: str = "*.jsonl", out: Path | None = None) -> float:
    """rsyslogd receives `count` messages and writes them (the shipped spool action, or
    `action`) into `out`: seconds from the first send until they are all there."""
    out = out or directory / "spool"
    out.mkdir(parents=True, exist_ok=True)

    def config(port: int, work: Path) -> str:
        return server_config(port, work, out, action)

    with rsyslogd(directory, config) as port:
        counter = LineCounter(out, pattern)
        sender = Sender(port, payload)
        sender.start()
        end = wait_until(counter.poll, count, timeout=max(120, count / 2000))
        sender.join()
    if counter.count != count:
        raise RuntimeError(f"rsyslog wrote {counter.count} lines for {count} messages")
    return end - sender.started


OMPROG = '''import os, sys
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
write = os.write
write(1, b"OK\\n")
n = 0
for line in sys.stdin.buffer:
    if line[:1] == b"{":
        n += 1
        write(1, b"DEFER_COMMIT\\n")
    elif line.startswith(b"COMMIT"):
        os.pwrite(out, b"%20d\\n" % n, 0)
        write(1, b"OK\\n")
    else:
        write(1, b"OK\\n")
'''


def omprog_ceiling(payload: bytes, count: int, directory: Path,
                   disk_assisted: bool) -> dict[str, Any]:
    """rsyslog's omprog with per-message confirmation, into a program that only answers:
    first send until it has confirmed `count` (or until nothing moved for 30 s)."""
    directory.mkdir(parents=True)
    program, counted = directory / "confirm.py", directory / "count"
    program.write_text(OMPROG)
    disk = 'queue.filename="secman" queue.saveOnShutdown="on" ' if disk_assisted else ""
    action = (f'  action(type="omprog" binary="{sys.executable} {program} {counted}" '
              'template="secman_json"\n'
              '         confirmMessages="on" useTransactions="on" confirmTimeout="30000"\n'
              f'         queue.type="LinkedList" {disk}queue.dequeueBatchSize="1024"\n'
              '         action.resumeRetryCount="-1" action.resumeInterval="1")')

    def seen() -> int:
        try:
            return int(counted.read_bytes().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def config(port: int, work: Path) -> str:
        return server_config(port, work, directory, action).replace(
            'module(load="imtcp")', 'module(load="imtcp")\nmodule(load="omprog")')

    with rsyslogd(directory, config) as port:
        sender = Sender(port, payload)
        sender.start()
        last, moved = 0, time.perf_counter()
        while (now := seen()) < count:
            if now != last:
                last, moved = now, time.perf_counter()
            elif time.perf_counter() - moved > 30:
                break
            time.sleep(0.005)
        end = time.perf_counter() if now >= count else moved
        sender.join()
    return {"messages": now, "of": count, "seconds": end - sender.started,
            "rate": rate(now, end - sender.started), "stalled": now < count,
            "queue": "LinkedList, disk-assisted (queue.filename)" if disk_assisted
            else "LinkedList in memory", "action": action.strip()}


# --- the ingest ---------------------------------------------------------------------------


class Breakdown:
    """Seconds spent in the per-batch steps of ingest.store() and of the detector, by
    wrapping them (a few calls per batch: no per-message overhead). `correlation_joins`
    is the part of `correlations` spent recording anomalies."""

    STEPS = ("store", "insert", "append_leaves", "sign_if_due", "commit", "examine",
             "load_batch", "plain_rules", "joins", "correlations", "correlation_joins")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.STEPS, 0.0)
        self._undo: list[Callable[[], None]] = []
        self._in_correlations = False

    def _wrap(self, owner: Any, name: str, step: str) -> None:
        original = getattr(owner, name)
        own = name in vars(owner)

        def timed(*args: Any, **kwargs: Any) -> Any:
            key = step
            if step == "joins" and self._in_correlations:
                key = "correlation_joins"
            if step == "correlations":
                self._in_correlations = True
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                if step == "correlations":
                    self._in_correlations = False

        setattr(owner, name, timed)
        if own:
            self._undo.append(lambda: setattr(owner, name, original))
        else:  # an instance attribute shadowing a method
            self._undo.append(lambda: delattr(owner, name))

    def __enter__(self) -> Breakdown:
        from django.db import connections

        from secman.logs import detection, ingest, tree

        self._wrap(ingest, "store", "store")
        self._wrap(ingest, "_insert", "insert")
        self._wrap(detection, "examine", "examine")
        self._wrap(tree, "append_leaves", "append_leaves")
        self._wrap(tree, "sign_if_due", "sign_if_due")
        self._wrap(connections["default"], "commit", "commit")
        self._wrap(detection.Detector, "_load_batch", "load_batch")
        self._wrap(detection.Detector, "_plain_matches", "plain_rules")
        self._wrap(detection.Detector, "_correlate", "correlations")
        self._wrap(detection.OpenAnomalies, "join", "joins")
        return self

    def __exit__(self, *exc: Any) -> None:
        for undo in reversed(self._undo):
            undo()

    def result(self, total: float) -> dict[str, float]:
        out = {k: round(v, 3) for k, v in self.seconds.items()}
        # What is left: reading and parsing the lines (outside store()), and in store()
        # the class rules, the canonical bytes and their hashes, the spool offset.
        out["outside_store"] = round(total - self.seconds["store"], 3)
        return out


def live_spool(payload: bytes, count: int, directory: Path) -> tuple[float, Path]:
    """rsyslog writes the messages into a new spool now: their received times are now,
    as they are for an ingest that keeps up."""
    seconds = to_file(payload, count, directory)
    return seconds, directory / "spool"


def replayed_spool(spool: Path, directory: Path, hours: int = 1) -> Path:
    """A copy of the spool whose received times are `hours` earlier: what an ingest
    catching up on an old spool reads (every correlation window is past once its batch
    is examined)."""
    out = directory / "replayed"
    out.mkdir(parents=True)
    shift = dt.timedelta(hours=hours)
    for path in sorted(spool.glob("*.jsonl")):
        with path.open("rb") as source, (out / path.name).open("wb") as target:
            for line in source:
                end = line.index(b'"', 7)
                when = dt.datetime.fromisoformat(line[6:end].decode()) - shift
                target.write(b'{"r":"' + when.isoformat().encode() + line[end:])
    return out


def ingest_spool(spool: Path, batch: int, expected: int) -> dict[str, Any]:
    """read_spool() in this process until every message is stored."""
    from secman.logs import ingest
    from secman.logs.models import Anomaly, AnomalyMessage, Message, TreeCheckpoint

    with Breakdown() as breakdown:
        start = time.perf_counter()
        stored = ingest.read_spool(spool, batch=batch, remove_finished=False)
        seconds = time.perf_counter() - start
    if stored != expected or Message.objects.count() != expected:
        raise RuntimeError(f"stored {stored} ({Message.objects.count()} rows) of {expected}")
    matches = sum(Anomaly.objects.values_list("matches", flat=True))
    return {"seconds": seconds, "rate": rate(stored, seconds), "messages": stored,
            "anomalies": Anomaly.objects.count(), "matches": matches,
            "evidence_links": AnomalyMessage.objects.count(),
            "checkpoints": TreeCheckpoint.objects.count(),
            "breakdown": breakdown.result(seconds)}


def follow_run(payload: bytes, count: int, directory: Path, batch: int) -> dict[str, Any]:
    """rsyslog writing the spool while the ingest reads it (as --follow, polling every
    50 ms when there is nothing new): first send until every message is stored."""
    from secman.logs import ingest

    spool = directory / "spool"
    spool.mkdir(parents=True)

    def config(port: int, work: Path) -> str:
        return server_config(port, work, spool)

    total = 0
    with rsyslogd(directory, config) as port:
        sender = Sender(port, payload)
        sender.start()
        deadline = time.monotonic() + max(1800, count / 100)
        while total < count:
            got = ingest.read_spool(spool, batch=batch, remove_finished=False)
            total += got
            if not got:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"stored {total} of {count}")
                time.sleep(0.05)
        end = time.perf_counter()
        sender.join()
    return {"seconds": end - sender.started, "rate": rate(count, end - sender.started),
            "send_seconds": sender.finished - sender.started}


def profile_ingest(payload: bytes, lines: int, batch: int, directory: Path,
                   rules_enabled: bool) -> str:
    """cProfile of read_spool over the first `lines` messages, written by rsyslog just
    before (live)."""
    from secman.logs import ingest

    first = b"".join(payload.splitlines(keepends=True)[:lines])
    _, spool = live_spool(first, lines, directory)
    empty_log_tables()
    set_rules(rules_enabled)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    stored = ingest.read_spool(spool, batch=batch, remove_finished=False)
    profiler.disable()
    seconds = time.perf_counter() - start
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    text.write(f"{stored} messages (live spool, rules {'enabled' if rules_enabled else 'disabled'})"
               f" in {seconds:.2f} s under cProfile\n")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(
        r"(ingest|detection|tree|rules|merkle|operations|query)\.py.*\((store|_read_file|"
        r"parse_line|examine|_insert|append_leaves|canonical|leaf_of|classify|_plain_matches|"
        r"_correlate|_fire|_load_batch|_event|join|refresh|append|sign_if_due|"
        r"adapt_datetimefield_value|bulk_create|time_text)\)")
    return text.getvalue()


# --- the search ---------------------------------------------------------------------------


def message_pool(size: int = 9973) -> list[tuple[str, str, int, int, str, str]]:
    """(host, program, facility, severity, text, class) of messages of the same mix, as
    rsyslog parses them, classified by secman's class rules (the order repeats every
    `size` rows)."""
    from secman.logs import rules
    from secman.logs.ingest import Parsed

    frames, _ = make_messages(size, seed=4216)
    classify = rules.classifier()
    now = dt.datetime.now(dt.UTC)
    pool = []
    for frame in frames:
        text = frame.decode()
        if text[text.index(">") + 1:].startswith("1 "):  # RFC 5424
            _, _, host, program, _, _, _, message = text.split(" ", 7)
        else:
            rest = text[text.index(">") + 1 + 16:]
            host, tag, message = rest.split(" ", 2)
            program = tag.split("[", 1)[0].rstrip(":")
        pri = int(text[1:text.index(">")])
        item = Parsed(now, now, host, "127.0.0.1", pri // 8, pri % 8, program, message)
        if any(c in message for c in "\t\\\n\r"):
            raise ValueError("the pool's texts are written to COPY unescaped")
        pool.append((host, program, pri // 8, pri % 8, message, classify(item)))
    return pool


def fill(start: int, stop: int, pool: list[tuple[Any, ...]], base: dt.datetime,
         per_day: int, bar: Progress) -> float:
    """Rows start..stop-1 written with SQL (executemany / COPY) in transactions of 200,000,
    the columns ingest._insert writes. Returns seconds."""
    from django.db import connection, transaction

    from secman.logs.ingest import _COLUMNS

    step_us = 86_400_000_000 // per_day
    size = len(pool)
    chunk = 200_000
    task = bar.add_task(f"filling rows {start:,}..{stop - 1:,}", total=stop - start)
    began = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    naive = base.replace(tzinfo=None)
    for first in range(start, stop, chunk):
        last = min(stop, first + chunk)
        with transaction.atomic():
            if postgres:
                buffer = []
                for seq in range(first, last):
                    host, program, facility, severity, text, log_class = pool[seq % size]
                    when = f"{naive + dt.timedelta(microseconds=seq * step_us)}+00"
                    buffer.append(f"{seq}\t{when}\t{when}\t{host}\t\\N\t127.0.0.1\t{facility}\t"
                                  f"{severity}\t{program}\t{text}\t{log_class}\t{seq:064x}\n")
                data = "".join(buffer).encode()
                with connection.connection.cursor() as cursor, cursor.copy(
                        f"COPY logs_message ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for offset in range(0, len(data), 1 << 20):
                        copy.write(data[offset:offset + (1 << 20)])
            else:
                def rows(first: int = first, last: int = last) -> Iterator[tuple[Any, ...]]:
                    for seq in range(first, last):
                        host, program, facility, severity, text, log_class = pool[seq % size]
                        when = str(naive + dt.timedelta(microseconds=seq * step_us))
                        yield (seq, when, when, host, None, "127.0.0.1", facility, severity,
                               program, text, log_class, f"{seq:064x}")

                connection.connection.executemany(
                    f"INSERT INTO logs_message ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608
                    f"({', '.join(['?'] * len(_COLUMNS))})", rows())
        bar.advance(task, last - first)
    return time.perf_counter() - began


def search_query(host: str, log_class: str, day: dt.datetime) -> Any:
    from secman.logs.models import Message

    return Message.objects.filter(
        host=host, log_class=log_class, received_at__gte=day,
        received_at__lt=day + dt.timedelta(days=1)).order_by("-received_at", "-seq")[:100]


def explain(query: Any) -> str:
    from django.db import connection

    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def time_search(host: str, log_class: str, day: dt.datetime, runs: int) -> dict[str, Any]:
    from secman.logs import services

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        found = list(search_query(host, log_class, day))
        times.append(time.perf_counter() - start)
    service = []
    for _ in range(max(3, runs // 2)):
        start = time.perf_counter()
        page, _more = services.search(actor=None, search=services.Search(
            host=host, log_class=log_class, since=day, until=day + dt.timedelta(days=1)))
        service.append(time.perf_counter() - start)
    assert [m.seq for m in page] == [m.seq for m in found]
    from secman.logs.models import Message

    rows = Message.objects.filter(host=host, log_class=log_class, received_at__gte=day,
                                  received_at__lt=day + dt.timedelta(days=1)).count()
    return {"host": host, "class": log_class, "day": day.date().isoformat(),
            "cell_rows": rows, "returned": len(found), "first_ms": times[0] * 1000,
            "median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
            "service_median_ms": statistics.median(service) * 1000,
            "plan": explain(search_query(host, log_class, day))}


def search_bench(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    empty_log_tables()
    pool = message_pool()
    cells = Counter((host, log_class) for host, _, _, _, _, log_class in pool)
    ordered = cells.most_common()
    picks = {"largest": ordered[0], "middling": ordered[len(ordered) // 2],
             "smallest": ordered[-1]}
    steps = sorted({min(int(s), args.search_rows) for s in args.search_steps.split(",")}
                   | {args.search_rows})
    days = -(-args.search_rows // args.per_day)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base = today - dt.timedelta(days=days)
    out: dict[str, Any] = {"per_day": args.per_day, "base": base.isoformat(),
                           "shares": {name: count / len(pool)
                                      for name, (_, count) in picks.items()},
                           "steps": []}
    done = 0
    fill_seconds = 0.0
    for step in steps:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            fill_seconds += fill(done, step, pool, base, args.per_day, bar)
        done = step
        if connection.vendor == "postgresql":
            # What autovacuum does after a bulk insert, done now so the plan is settled;
            # secman never runs ANALYZE on SQLite, so neither does the benchmark.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE logs_message")
        complete = done // args.per_day
        if complete < 1:
            console.print(f"  {done:,} rows: less than a day of {args.per_day:,}; no search")
            continue
        day = base + dt.timedelta(days=complete - 1)
        result = {"rows": done, "fill_seconds": fill_seconds, "load": load_average()}
        for name, (cell, _) in picks.items():
            result[name] = time_search(*cell, day, args.search_runs)
        out["steps"].append(result)
        for name in picks:
            r = result[name]
            console.print(f"  {done:,} rows ({fill_seconds:.0f} s filling so far): {name} cell "
                          f"{r['host']}/{r['class']} on {r['day']} ({r['cell_rows']:,} rows): "
                          f"median {r['median_ms']:.2f} ms, first {r['first_ms']:.2f}, max "
                          f"{r['max_ms']:.2f}; services.search {r['service_median_ms']:.2f} ms")
    out["size_bytes"] = database_size()
    return out


def database_size() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size('logs_message')")
            return int(cursor.fetchone()[0])
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return int(pages * cursor.fetchone()[0])


def ingest_into_full_table(payload: bytes, count: int, rows: int, batch: int,
                           directory: Path) -> dict[str, Any]:
    """One more ingest, rules disabled (the storage path alone), of a new spool with
    `rows` filled rows in the table: the head is set to their count (with made-up
    subtree hashes) so the new leaves follow them."""
    from secman.logs import ingest
    from secman.logs.models import Message, SpoolFile, TreeHead

    spooled, spool = live_spool(payload, count, directory)
    SpoolFile.objects.all().delete()
    TreeHead.objects.update_or_create(pk=1, defaults={
        "size": rows, "frontier": ",".join(f"{n:064x}" for n in range(bin(rows).count("1")))})
    set_rules(False)
    with Breakdown() as breakdown:
        start = time.perf_counter()
        stored = ingest.read_spool(spool, batch=batch, remove_finished=False)
        seconds = time.perf_counter() - start
    assert stored == count, (stored, count)
    assert Message.objects.count() == rows + count
    return {"rows_before": rows, "messages": stored, "seconds": seconds,
            "rate": rate(stored, seconds), "spool_seconds": spooled,
            "breakdown": breakdown.result(seconds), "load": load_average()}


# --- the report ---------------------------------------------------------------------------


def code_version() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                              text=True).stdout.strip()

    digest = hashlib.sha256()
    for path in sorted((ROOT / "secman" / "logs").glob("*.py")):
        digest.update(path.read_bytes())
    changed = git("status", "--porcelain", "--", "secman")
    return (f"HEAD {git('rev-parse', '--short', 'HEAD')}, secman/logs/*.py sha256 "
            f"{digest.hexdigest()[:12]}"
            + (f" ({len(changed.splitlines())} files under secman/ differ from HEAD)"
               if changed else ""))


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


PARTS = ("floor", "ingest", "follow", "profile", "omprog", "search")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog="See the module docstring (and docs/performance.md) for what is measured.")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=300_000,
                        help="messages sent through rsyslog for each ingest measure")
    parser.add_argument("--batch", type=int, default=5000,
                        help="lines per read_spool() batch (the CLI's default)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="ingest runs of each kind (rules enabled live, disabled, "
                        "enabled on a replayed spool)")
    parser.add_argument("--search-rows", type=int, default=10_000_000,
                        help="the largest message table searched")
    parser.add_argument("--search-steps", default="1000000",
                        help="smaller table sizes searched on the way (comma-separated)")
    parser.add_argument("--per-day", type=int, default=1_000_000,
                        help="messages a day in the filled table")
    parser.add_argument("--search-runs", type=int, default=9,
                        help="timed runs of each search (the median is reported)")
    parser.add_argument("--profile-lines", type=int, default=100_000,
                        help="messages ingested under cProfile")
    parser.add_argument("--parts", default="floor,ingest,profile,omprog,search",
                        help=f"what to measure, of {','.join(PARTS)} (follow: the ingest "
                        "reading while rsyslog writes, first send to all stored)")
    parser.add_argument("--no-full-ingest", action="store_true",
                        help="skip the ingest into the filled table after the search")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    if not Path(RSYSLOGD).exists():
        parser.error(f"{RSYSLOGD} is not installed")
    command = ".venv/bin/python benchmarks/logs_ingest.py " + " ".join(sys.argv[1:])
    report: dict[str, Any] = {"command": command, "started": dt.datetime.now(dt.UTC)
                              .isoformat(timespec="seconds")}
    work = Path(tempfile.mkdtemp(prefix="secman-logs-bench-rsyslog-"))
    try:
        os.environ.pop("SECMAN_DEBUG", None)
        with scratch_database("postgres" if args.db == "postgresql" else "sqlite",
                              "logs") as url:
            run(args, parts, report, work, url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0


def run(args: argparse.Namespace, parts: set[str], report: dict[str, Any], work: Path,
        url: str) -> None:
    from django.db import connection

    rsyslog_version = subprocess.run([RSYSLOGD, "-v"], capture_output=True,  # noqa: S603
                                     text=True).stdout.split("\n", 1)[0].strip()
    report.update(database=connection.vendor, server=server_version(), url=url,
                  code=code_version(), cpus=os.cpu_count(), python=platform.python_version(),
                  rsyslog=rsyslog_version)
    console.print(f"[bold]Systems' logs benchmark[/bold] {report['started']} · python "
                  f"{report['python']} · {os.cpu_count()} CPUs · {connection.vendor} "
                  f"{report['server']} · {rsyslog_version} · {url}")
    console.print(f"command: {report['command']}\ncode: {report['code']}")
    n = args.messages
    frames, kinds = make_messages(n)
    payload = b"".join(frame + b"\n" for frame in frames)
    del frames
    report["mix"] = dict(kinds)
    report["payload_bytes"] = len(payload)
    console.print(f"{n:,} messages, {len(payload) / n:.0f} bytes a frame on average: "
                  + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
    serial = iter(range(1, 1000))

    def fresh(name: str) -> Path:
        return work / f"{next(serial):03d}-{name}"

    if "floor" in parts:
        console.print(f"[bold]1. rsyslog to a plain file[/bold] (load {load_average()})")
        floors = []
        for _ in range(args.repeats):
            out = fresh("floor")
            action = (f'  action(type="omfile" file="{out / "out" / "plain.jsonl"}" '
                      'template="secman_json" fileCreateMode="0640" dirCreateMode="0750" '
                      'flushOnTXEnd="on")')
            floors.append(to_file(payload, n, out, action=action, out=out / "out",
                                  pattern="plain.jsonl"))
            console.print(f"  {rate(n, floors[-1]):,.0f} messages/s ({floors[-1]:.2f} s)")
        report["floor"] = {"seconds": floors, "rate": rate(n, statistics.median(floors))}

    if "ingest" in parts:
        console.print(f"[bold]2. rsyslog to the spool, then the ingest[/bold] "
                      f"(load {load_average()})")
        runs: dict[str, list[dict[str, Any]]] = {"live": [], "disabled": [], "replayed": []}
        spools: list[float] = []
        for repeat in range(args.repeats):
            for kind in ("live", "disabled", "replayed"):
                spooled, spool = live_spool(payload, n, fresh("spool"))
                spools.append(spooled)
                if kind == "replayed":
                    spool = replayed_spool(spool, fresh("replay"))
                empty_log_tables()
                rules_on = set_rules(kind != "disabled")
                load = load_average()
                result = ingest_spool(spool, args.batch, n)
                result.update(load=load, rules=rules_on, spool_seconds=spooled)
                runs[kind].append(result)
                console.print(f"  \\[{kind}] rsyslog to the spool {rate(n, spooled):,.0f}/s; "
                              f"ingest, {rules_on} rules enabled (run {repeat + 1}): "
                              f"{result['rate']:,.0f} messages/s ({result['seconds']:.2f} s;"
                              f" {result['anomalies']} anomalies of {result['matches']} "
                              f"matches, {result['checkpoints']} checkpoints; load {load})")
                console.print(f"    {result['breakdown']}")
        report["spool"] = {"seconds": spools, "rate": rate(n, statistics.median(spools))}
        report["ingest"] = runs
        median = {kind: statistics.median(r["seconds"] for r in results)
                  for kind, results in runs.items()}
        spool_median = statistics.median(spools)
        report["ingest_summary"] = {
            **{f"{kind}_seconds": seconds for kind, seconds in median.items()},
            **{f"{kind}_rate": rate(n, seconds) for kind, seconds in median.items()},
            "rules_overhead_pct": (median["live"] - median["disabled"]) / median["disabled"]
            * 100,
            "replayed_overhead_pct": (median["replayed"] - median["disabled"])
            / median["disabled"] * 100,
            "end_to_end_live_rate": rate(n, spool_median + median["live"]),
            "end_to_end_disabled_rate": rate(n, spool_median + median["disabled"])}

    if "follow" in parts:
        empty_log_tables()
        set_rules(True)
        console.print(f"[bold]2b. the ingest reading while rsyslog writes[/bold] "
                      f"(load {load_average()})")
        report["follow"] = follow_run(payload, n, fresh("follow"), args.batch)
        console.print(f"  {report['follow']['rate']:,.0f} messages/s first send to all "
                      f"stored ({report['follow']['seconds']:.2f} s)")

    if "profile" in parts:
        report["profile"] = {}
        for enabled in (False, True):
            key = "enabled" if enabled else "disabled"
            report["profile"][key] = profile_ingest(payload, min(n, args.profile_lines),
                                                    args.batch, fresh("profile"), enabled)
            print(report["profile"][key])

    if "omprog" in parts:
        console.print(f"[bold]3. omprog with confirmations[/bold] (load {load_average()})")
        report["omprog"] = []
        for disk in (False, True):
            result = omprog_ceiling(payload, n, fresh("omprog"), disk)
            report["omprog"].append(result)
            console.print(f"  {result['queue']}: {result['rate']:,.0f} messages/s "
                          f"({result['messages']:,} in {result['seconds']:.2f} s"
                          f"{', then nothing for 30 s: STALLED' if result['stalled'] else ''})")

    if "search" in parts:
        console.print(f"[bold]4. search[/bold] (load {load_average()})")
        report["search"] = search_bench(args)
        if not args.no_full_ingest:
            full = ingest_into_full_table(payload, n, args.search_rows, args.batch,
                                          fresh("full"))
            report["full_ingest"] = full
            console.print(f"  ingest (rules disabled) with {args.search_rows:,} rows stored: "
                          f"{full['rate']:,.0f} messages/s ({full['seconds']:.2f} s); "
                          f"{full['breakdown']}")
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print_table(report, n)


def print_table(report: dict[str, Any], n: int) -> None:
    vendor = report["database"]
    target = 50_000 if vendor == "sqlite" else 20_000
    table = Table(title=f"Systems' logs, {vendor}, {n:,} messages ({report['finished']})")
    for column in ("measure", "figure", "target", ""):
        table.add_column(column)

    def verdict(met: bool) -> str:
        return "meets" if met else "MISSES"

    if "floor" in report:
        table.add_row("floor: rsyslog to a plain file", f"{report['floor']['rate']:,.0f} msg/s",
                      "", "")
    if "ingest_summary" in report:
        summary = report["ingest_summary"]
        table.add_row("rsyslog to the spool", f"{report['spool']['rate']:,.0f} msg/s", "", "")
        table.add_row("ingest, rules enabled, live spool", f"{summary['live_rate']:,.0f} msg/s",
                      f">= {target:,}/s", verdict(summary["live_rate"] >= target))
        table.add_row("ingest, rules disabled", f"{summary['disabled_rate']:,.0f} msg/s",
                      f">= {target:,}/s", verdict(summary["disabled_rate"] >= target))
        table.add_row("rule evaluation's share, live", f"{summary['rules_overhead_pct']:+.1f} %",
                      "<= 20 %", verdict(summary["rules_overhead_pct"] <= 20))
        table.add_row("ingest, rules enabled, spool replayed an hour later",
                      f"{summary['replayed_rate']:,.0f} msg/s", "", "")
        table.add_row("rule evaluation's share, replayed",
                      f"{summary['replayed_overhead_pct']:+.1f} %", "<= 20 %",
                      verdict(summary["replayed_overhead_pct"] <= 20))
        table.add_row("end to end (spool, then ingest), rules enabled, live",
                      f"{summary['end_to_end_live_rate']:,.0f} msg/s", "", "")
    if "follow" in report:
        table.add_row("end to end, ingest following rsyslog, rules enabled",
                      f"{report['follow']['rate']:,.0f} msg/s", "", "")
    for result in report.get("omprog", []):
        table.add_row(f"omprog with confirmations, {result['queue']}",
                      f"{result['rate']:,.0f} msg/s"
                      + (f" (stalled at {result['messages']:,})" if result["stalled"] else ""),
                      "", "")
    for step in report.get("search", {}).get("steps", []):
        for name in ("largest", "middling", "smallest"):
            r = step[name]
            table.add_row(f"search at {step['rows']:,} rows, {name} cell ({r['cell_rows']:,} rows)",
                          f"{r['median_ms']:.2f} ms", "<= 1,000 ms",
                          verdict(r["median_ms"] <= 1000))
    if "full_ingest" in report:
        full = report["full_ingest"]
        table.add_row(f"ingest, rules disabled, {full['rows_before']:,} rows stored",
                      f"{full['rate']:,.0f} msg/s", f">= {target:,}/s",
                      verdict(full["rate"] >= target))
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
