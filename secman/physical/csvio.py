"""CSV import and export of the computer and media inventories.

Import checks every row before writing any: one bad row and nothing is written; the
report names each bad row (line number, column, what is wrong). `dry_run` checks only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from secman.core.errors import Refused
from secman.people.models import Person
from secman.physical import services
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
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


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


def _read(data: bytes, expected: list[str], report: ImportReport) -> list[dict[str, str]]:
    if len(data) > MAX_BYTES:
        report.errors.append(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
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
    rows = []
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                report.errors.append(f"line {reader.line_num}: the number of cells differs "
                                     "from the header")
                continue
            rows.append({"_line": str(reader.line_num), **row})
    except csv.Error as exc:
        report.errors.append(f"line {reader.line_num}: {exc}")
    report.rows = len(rows)
    return rows


def import_computers(data: bytes, *, actor: Person | None, authority: str,
                     dry_run: bool = False) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, IMPORT_COMPUTER, report)
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        line = row["_line"]
        for key in ("asset_tag", "nickname", "serial_number"):
            value = row[key].strip()
            if value and (key, value) in seen:
                report.errors.append(f"line {line}: {key} {value!r} also on line "
                                     f"{seen[(key, value)]}")
            elif value:
                seen[(key, value)] = line
    return _write(rows, report, lambda row: services.create_computer(
        actor=actor, authority=authority,
        **{k: row[k] for k in IMPORT_COMPUTER}))


def import_media(data: bytes, *, actor: Person | None, present: list[Person],
                 authority: str = "SP 2.2.3.1", dry_run: bool = False) -> ImportReport:
    """Rows are media as provisioned: by importing them, the actor states each was
    securely erased and reformatted, with `present` there."""
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, IMPORT_MEDIA, report)
    serials: dict[str, str] = {}
    for row in rows:
        line, serial = row["_line"], row["serial_number"].strip()
        if serial in serials:
            report.errors.append(f"line {line}: serial_number {serial!r} also on line "
                                 f"{serials[serial]}")
        serials[serial] = line
        if row["media_type"] not in MediaType.values:
            report.errors.append(f"line {line}: media_type {row['media_type']!r} is not one "
                                 f"of {', '.join(MediaType.values)}")
        capacity = row["capacity_gb"].strip()
        # isdigit() alone accepts digits int() cannot read, such as "²".
        if (not (capacity.isascii() and capacity.isdigit())
                or not 0 < int(capacity) <= services.MAX_CAPACITY_GB):
            report.errors.append(f"line {line}: capacity_gb {row['capacity_gb']!r} is not a "
                                 "whole number above 0")
        if row["critical_data"].strip().lower() not in ("yes", "no", "true", "false", "1", "0"):
            report.errors.append(f"line {line}: critical_data is yes or no, not "
                                 f"{row['critical_data']!r}")

    def create(row: dict[str, str]) -> Any:
        return services.register_media(
            actor=actor, serial_number=row["serial_number"], media_type=row["media_type"],
            capacity_gb=int(row["capacity_gb"]), location=row["location"], present=present,
            steps_taken="Imported from the inventory file; secure erase and reformat done "
            "before use.", erased_and_reformatted=True, description=row["description"],
            critical_data=row["critical_data"].strip().lower() in ("yes", "true", "1"),
            authority=authority)

    return _write(rows, report, create)


class _DryRun(Exception):
    pass


def _write(rows: Iterable[dict[str, str]], report: ImportReport, create: Any) -> ImportReport:
    """Create every row in one transaction through the services (which check the rules);
    any refusal and nothing is kept. A dry run is the same, rolled back at the end."""
    if report.errors:
        return report
    try:
        with transaction.atomic():
            for row in rows:
                try:
                    create(row)
                    report.created += 1
                except Refused as exc:
                    report.errors.append(f"line {row['_line']}: {exc}")
            if report.errors or report.dry_run:
                raise _DryRun
    except _DryRun:
        if report.errors:
            report.created = 0
    return report
