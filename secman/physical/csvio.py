"""CSV import and export of the computer and media inventories.

Import checks every row before writing any: one bad row and nothing is written; the
report names each bad row (line number, column, what is wrong). `dry_run` checks only.
The rows are checked in memory and written in bulk (physical.imports); a file is at most
MAX_ROWS rows and MAX_BYTES bytes, so the largest one finishes well within a web
request (docs/performance.md, "CSV import").
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secman.authority.services import AuthorityLike
from secman.core.errors import Refused, RuleViolation
from secman.people.models import Person
from secman.physical import imports, services
from secman.physical.choices import MediaType
from secman.physical.models import Computer, Media

COMPUTER_COLUMNS = ["asset_tag", "nickname", "vendor", "model", "serial_number",
                    "maintenance_contact", "rack_location", "intended_use", "legal_owner",
                    "acquisition_notes", "status"]
MEDIA_COLUMNS = ["serial_number", "media_type", "capacity_gb", "description", "location",
                 "critical_data", "status", "computer", "retirement_method",
                 "seal_expiry_year"]
IMPORT_COMPUTER = COMPUTER_COLUMNS[:-1]  # status follows the lifecycle, not the file
IMPORT_MEDIA = ["serial_number", "media_type", "capacity_gb", "description", "location",
                "critical_data"]
# The largest file the importer reads, on the web and the command line alike.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    digest: str = ""  # SHA-256 of the file, recorded with the import

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_shown(self) -> str:
        return f"{self.rows:,}"

    @property
    def created_shown(self) -> str:
        return f"{self.created:,}"


def export_computers(out: io.TextIOBase | Any) -> None:
    writer = csv.writer(out)
    writer.writerow(COMPUTER_COLUMNS)
    for computer in Computer.objects.order_by("asset_tag"):
        writer.writerow([_safe(getattr(computer, c)) for c in COMPUTER_COLUMNS])


def export_media(out: io.TextIOBase | Any) -> None:
    writer = csv.writer(out)
    writer.writerow(MEDIA_COLUMNS)
    for media in Media.objects.select_related("computer").order_by("serial_number"):
        row = [getattr(media, c) for c in MEDIA_COLUMNS if c != "computer"]
        row.insert(MEDIA_COLUMNS.index("computer"),
                   media.computer.asset_tag if media.computer else "")
        writer.writerow([_safe(v) for v in row])


def _safe(value: Any) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def too_large() -> str:
    return (f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB, the most an import "
            "reads: split it")


def read_file(path: Path | str) -> bytes:
    """The bytes of the CSV file at `path`, for the command line: only a regular file
    (not a device such as /dev/zero, a FIFO or a directory), and never more than
    MAX_BYTES + 1 bytes read, whatever its size says."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise RuleViolation(f"cannot open {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RuleViolation(f"{path} is not a regular file: give a CSV file")
        os.set_blocking(fd, True)
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RuleViolation(too_large())
    return data


def _read(data: bytes, expected: list[str], report: ImportReport) -> list[imports.Row]:
    if len(data) > MAX_BYTES:
        report.errors.append(too_large())
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.errors.append(f"the file is not UTF-8 text (byte {exc.start})")
        return []
    if "\x00" in text:
        report.errors.append("the file holds NUL bytes: it is not a CSV text file")
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        report.errors.append(f"line 1: {exc}")
        return []
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown or not header:
        report.errors.append(
            "line 1: the header must name the columns " + ", ".join(expected)
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (unknown: {', '.join(str(u) for u in unknown)})" if unknown else ""))
        return []
    rows: list[imports.Row] = []
    try:
        for counted, row in enumerate(reader):
            # Every data row counts, well-formed or not: a file of malformed rows is no
            # cheaper to read and report on than one of good rows.
            if counted >= MAX_ROWS:
                report.errors.append(f"the file has more than {MAX_ROWS:,} rows, the most "
                                     "an import takes: split it")
                return []
            if None in row or any(v is None for v in row.values()):
                report.errors.append(f"line {reader.line_num}: the number of cells differs "
                                     "from the header")
                continue
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        report.errors.append(f"line {reader.line_num}: {exc}")
    report.rows = len(rows)
    report.digest = hashlib.sha256(data).hexdigest()
    return rows


def _run(report: ImportReport, call: Any) -> ImportReport:
    """Run the import service, `call(dry_run)`; its refusal becomes the report's problems.
    When the file already has problems, the rows that were read are still checked (a dry
    run), so the report names every problem at once."""
    try:
        created = call(bool(report.errors) or report.dry_run)
        if not report.errors:
            report.created = created
    except imports.RowsRefused as exc:
        report.errors.extend(exc.errors)
    except Refused as exc:
        report.errors.append(str(exc))
    report.errors.sort(key=_line_of)
    return report


def import_computers(data: bytes, *, actor: Person | None, authority: AuthorityLike,
                     dry_run: bool = False,
                     progress: imports.Progress = imports._quiet) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, IMPORT_COMPUTER, report)
    progress("reading", len(rows), len(rows))
    return _run(report, lambda dry: imports.import_computers(
        actor=actor, authority=authority, rows=rows, digest=report.digest, dry_run=dry,
        progress=progress))


CRITICAL = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def import_media(data: bytes, *, actor: Person | None, present: list[Person],
                 authority: AuthorityLike = "SP 2.2.3.1", dry_run: bool = False,
                 progress: imports.Progress = imports._quiet) -> ImportReport:
    """Rows are media as provisioned: by importing them, the actor states each was
    securely erased and reformatted, with `present` there."""
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, IMPORT_MEDIA, report)
    progress("reading", len(rows), len(rows))
    typed: list[imports.Row] = []
    for line, row in rows:
        problems = []
        if row["media_type"] not in services.MEDIA_TYPES:
            problems.append(f"line {line}: media_type {row['media_type']!r} is not one "
                            f"of {', '.join(MediaType.values)}")
        capacity = row["capacity_gb"].strip()
        # isdigit() alone accepts digits int() cannot read, such as "²".
        if (not (capacity.isascii() and capacity.isdigit())
                or not 0 < int(capacity) <= services.MAX_CAPACITY_GB):
            problems.append(f"line {line}: capacity_gb {row['capacity_gb']!r} is not a "
                            "whole number above 0")
        critical = CRITICAL.get(row["critical_data"].strip().lower())
        if critical is None:
            problems.append(f"line {line}: critical_data is yes or no, not "
                            f"{row['critical_data']!r}")
        if problems:
            report.errors.extend(problems)
            continue
        typed.append((line, {**row, "capacity_gb": int(capacity),
                             "critical_data": critical}))
    return _run(report, lambda dry: imports.import_media(
        actor=actor, present=present, rows=typed, authority=authority,
        digest=report.digest, dry_run=dry, progress=progress))


def _line_of(error: str) -> int:
    number = error.removeprefix("line ").split(":", 1)[0]
    return int(number) if number.isdigit() else 0
