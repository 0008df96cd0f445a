"""Taking the systems' messages from rsyslog and storing them: parse the line rsyslog's
template wrote (docs/logs.md), classify it (logs.rules), hash it into the systems' log
(logs.tree), store it, and examine it with the detection rules (logs.detection), all in
one transaction per batch.

rsyslog hands messages over through spool files (`omfile`, one file an hour, JSON lines):
`secman logs ingest SPOOL` reads each file from the offset it committed last, in batches,
and commits each batch's messages with the file's new offset. A killed ingest therefore
resumes exactly where its last commit ended: no message is lost and none is stored twice.
rsyslog keeps writing while secman is down; the spool is the queue. (Why files and not
omprog's confirmed pipe: docs/logs.md, "Why a spool"; the figures are in
docs/performance.md.)
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from secman.logs import detection, rules, tree
from secman.logs.models import Message, SpoolFile
from secman.systems.selectors import ids_by_host_name

# A message longer than this is cut (rsyslog's own default maximum is 8 KiB).
MAX_TEXT = 64 * 1024
MAX_HOST = 255
MAX_PROGRAM = 64
# The host, program and facility given to a line that is not the template's JSON: it is
# stored all the same (nothing rsyslog handed over is dropped), as evidence of a broken
# or tampered spool.
UNPARSED_HOST = "(unparsed)"
SPOOL_SUFFIX = ".jsonl"
# A spool file rsyslog has not written for this long, with a newer one beside it, is
# finished: it is removed once read to its end.
FINISHED_AFTER = dt.timedelta(minutes=10)
# How often a quiet ingest tries again the mails of anomalies that could not be sent.
MAIL_RETRY_SECONDS = 60


@dataclass(slots=True)
class Parsed:
    received: dt.datetime
    reported: dt.datetime | None
    host: str
    source_ip: str
    facility: int
    severity: int
    program: str
    text: str


def _clean(value: Any, limit: int) -> str:
    """A string as PostgreSQL can store it (no NUL), at most `limit` characters."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if len(text) > limit:
        text = text[:limit] + f"...[cut: {len(text) - limit} more characters]"
    return text


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def _number(value: Any, highest: int, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and (
        0 <= value <= highest) else default


def parse_line(line: bytes, now: dt.datetime) -> Parsed:
    """One line of the spool, as the template in docs/logs.md writes it. Never raises: a
    line that is not that JSON is kept whole as an unparsed message."""
    try:
        # orjson refuses what could not be stored or hashed: bytes that are not UTF-8,
        # and escaped lone surrogates ("\\ud800"), which json would decode into a str
        # that cannot be encoded again.
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return Parsed(now, None, UNPARSED_HOST, "", 5, 3, "",
                      _clean(line.decode("utf-8", "replace").rstrip("\n"), MAX_TEXT))
    text = data.get("m")
    if isinstance(text, str) and text.startswith(" "):
        text = text[1:]  # RFC 3164's space after the tag is not part of the message
    return Parsed(
        received=_time(data.get("r")) or now,
        reported=_time(data.get("t")),
        host=_clean(data.get("h"), MAX_HOST) or UNPARSED_HOST,
        source_ip=_clean(data.get("ip"), 45),
        facility=_number(data.get("f"), 23, 1),
        severity=_number(data.get("s"), 7, 5),
        program=_clean(data.get("p"), MAX_PROGRAM),
        text=_clean(text, MAX_TEXT),
    )


# --- storing a batch ----------------------------------------------------------------------


@dataclass
class Stored:
    """What one batch did."""

    messages: int = 0
    first_seq: int = 0
    checkpoint: int | None = None
    new_anomalies: list[int] = field(default_factory=list)


_COLUMNS = ("seq", "received_at", "reported_at", "host", "system_id", "source_ip",
            "facility", "severity", "program", "text", "log_class", "leaf_hash")


def _insert(rows: list[tuple[Any, ...]]) -> None:
    table = Message._meta.db_table
    if connection.vendor == "postgresql":
        # COPY: several times faster than INSERTs for a batch of thousands.
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # As Django stores a datetime in SQLite (naive UTC, str()); the parsed times are UTC
    # already, and Django's adapter per value cost a sixth of the ingest's time.
    sqlite_rows = [(r[0], r[1].replace(tzinfo=None).isoformat(" "),
                    r[2].replace(tzinfo=None).isoformat(" ") if r[2] else None, *r[3:])
                   for r in rows]
    with connection.cursor() as cursor:
        # The table and columns are this module's constants; the values are parameters.
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608
            f"({', '.join(['%s'] * len(_COLUMNS))})", sqlite_rows)


def store(parsed: list[Parsed], *, position: tuple[SpoolFile, int, int] | None = None,
          now: dt.datetime | None = None) -> Stored:
    """Store one batch in one transaction: classify, hash into the tree, insert, examine
    with the detection rules, and move the spool file's offset (`position`: the file's
    row, its new offset and the lines read) with them. The anomalies' mail goes out after
    the commit (logs.alerts)."""
    now = now or timezone.now()
    result = Stored()
    if not parsed and position is None:
        return result
    classify = rules.classifier()
    systems = ids_by_host_name()
    with transaction.atomic():
        head = tree.locked_head()
        first = head.size
        rows: list[tuple[Any, ...]] = []
        leaves: list[bytes] = []
        canonical, leaf_of = tree.canonical, tree.leaf_of
        for offset, item in enumerate(parsed):
            seq = first + offset
            log_class = classify(item)
            host = item.host
            system_id = systems.get(host.lower()) or systems.get(host.split(".", 1)[0].lower())
            leaf = leaf_of(canonical(seq, item.received, item.reported, host, item.source_ip,
                                     item.facility, item.severity, item.program, log_class,
                                     item.text))
            leaves.append(leaf)
            rows.append((seq, item.received, item.reported, host, system_id, item.source_ip,
                         item.facility, item.severity, item.program, item.text, log_class,
                         leaf.hex()))
        if rows:
            _insert(rows)
            compact = tree.append_leaves(head, leaves)
            result.new_anomalies = detection.examine(rows)
            signed = tree.sign_if_due(head, compact, now)
            result.checkpoint = signed.tree_size if signed else None
        result.messages, result.first_seq = len(rows), first
        if position is not None:
            spool_row, offset, count = position
            SpoolFile.objects.filter(pk=spool_row.pk).update(
                offset=offset, messages=spool_row.messages + count, updated_at=now)
            spool_row.offset, spool_row.messages = offset, spool_row.messages + count
    if result.new_anomalies:
        from secman.logs import alerts

        alerts.mail_new(result.new_anomalies)
    return result


def store_lines(lines: Iterable[bytes]) -> Stored:
    """Store lines given directly (tests, `secman logs ingest --stdin`)."""
    now = timezone.now()
    return store([parse_line(line, now) for line in lines if line.strip()], now=now)


# --- the spool ----------------------------------------------------------------------------


def spool_files(directory: Path) -> list[Path]:
    """rsyslog's spool files, oldest first (their names are their hour)."""
    return sorted(p for p in directory.iterdir() if p.name.endswith(SPOOL_SUFFIX)
                  and p.is_file())


class SpoolError(RuntimeError):
    """The spool is not as the ingest left it: a file was replaced or cut."""


def _row_for(path: Path, inode: int) -> SpoolFile:
    row, created = SpoolFile.objects.get_or_create(name=path.name,
                                                   defaults={"inode": inode})
    if not created and row.inode != inode:
        raise SpoolError(f"{path} is not the file secman read {row.offset} bytes of (its "
                         "inode changed): the spool was tampered with or restored; move the "
                         "file aside and say why in the Event Log")
    return row


def read_spool(directory: Path, *, batch: int = 5000,
               on_batch: Callable[[Stored], None] | None = None,
               remove_finished: bool = True) -> int:
    """Read every spool file from its committed offset to its last complete line, in
    batches of at most `batch` lines. Returns the messages stored."""
    total = 0
    files = spool_files(directory)
    for number, path in enumerate(files):
        stat = path.stat()
        row = _row_for(path, stat.st_ino)
        if stat.st_size < row.offset:
            raise SpoolError(f"{path} is {stat.st_size} bytes but secman had read "
                             f"{row.offset}: the file was cut")
        if stat.st_size > row.offset:
            total += _read_file(path, row, batch, on_batch)
        newest = number == len(files) - 1
        if (remove_finished and not newest and row.offset == path.stat().st_size
                and time.time() - path.stat().st_mtime > FINISHED_AFTER.total_seconds()):
            path.unlink()
            SpoolFile.objects.filter(pk=row.pk).update(removed_at=timezone.now())
    return total


def _read_file(path: Path, row: SpoolFile, batch: int,
               on_batch: Callable[[Stored], None] | None) -> int:
    total = 0
    with path.open("rb") as handle:
        handle.seek(row.offset)
        while True:
            lines: list[bytes] = []
            consumed = 0
            while len(lines) < batch:
                line = handle.readline()
                if not line.endswith(b"\n"):
                    break  # rsyslog is still writing this line: the next round reads it
                consumed += len(line)
                if line.strip():
                    lines.append(line)
            if not consumed:
                return total
            now = timezone.now()
            stored = store([parse_line(line, now) for line in lines],
                           position=(row, row.offset + consumed, len(lines)), now=now)
            total += stored.messages
            if on_batch is not None:
                on_batch(stored)
            handle.seek(row.offset)


def follow(directory: Path, *, stop: Callable[[], bool], batch: int = 5000,
           idle_seconds: float = 0.5, on_batch: Callable[[Stored], None] | None = None) -> int:
    """Read the spool until `stop()` says so, looking again every `idle_seconds` when
    there is nothing new. A checkpoint is signed when one is due even with no new
    messages (the last batch before a quiet spell is covered within the minute)."""
    total = 0
    retry_mail_at = 0.0
    while not stop():
        got = read_spool(directory, batch=batch, on_batch=on_batch)
        total += got
        if not got:
            with transaction.atomic():
                head = tree.locked_head()
                tree.sign_if_due(head, tree.compact_range(head), timezone.now())
            if time.monotonic() >= retry_mail_at:
                from secman.logs import alerts

                alerts.mail_new([])  # the anomalies whose mail failed
                retry_mail_at = time.monotonic() + MAIL_RETRY_SECONDS
            time.sleep(idle_seconds)
    return total


def ensure_spool(directory: Path) -> None:
    if not directory.is_dir():
        raise SpoolError(f"{directory} is not a directory: rsyslog's spool for secman "
                         "(docs/logs.md)")
    if not os.access(directory, os.R_OK | os.X_OK):
        raise SpoolError(f"{directory} cannot be read by this user")
