"""Debian's release calendar (SM 3.2: systems run a supported release; an oldstable one
is upgraded before its security support ends). The calendar is Debian's own
distro-info-data (`/usr/share/distro-info/debian.csv`, settings.SECMAN_DISTRO_INFO_CSV),
read with the csv module: secman does not keep its own copy of release dates.

Security support of a release ends at the CSV's `eol` date. For an oldstable release the
SM says: one year after the next stable release, or earlier; so its end is the earlier
of the two."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import models

from secman.core.errors import RuleViolation

COLUMNS = ("version", "codename", "series", "created", "release", "eol")
MAX_CSV_BYTES = 1_000_000
# SM 3.2: "one year after the release of the next stable version".
OLDSTABLE_GRACE = dt.timedelta(days=365)


class Support(models.TextChoices):
    STABLE = "stable", "Stable"
    OLDSTABLE = "oldstable", "Oldstable"
    UNSUPPORTED = "unsupported", "Unsupported"
    UNRELEASED = "unreleased", "Not yet released (testing)"
    UNKNOWN = "unknown", "Release not known"


@dataclass(frozen=True)
class DebianRelease:
    version: str  # "12"; empty for sid and experimental
    codename: str  # "Bookworm"
    series: str  # "bookworm"
    release: dt.date | None
    eol: dt.date | None

    def __str__(self) -> str:
        return f"Debian {self.version} ({self.series})" if self.version else self.codename


@dataclass(frozen=True)
class Lifecycle:
    """Where one release stands on one day."""

    release: DebianRelease | None
    support: Support
    support_ends: dt.date | None
    day: dt.date

    @property
    def days_left(self) -> int | None:
        return (self.support_ends - self.day).days if self.support_ends else None

    @property
    def supported(self) -> bool:
        """Security support on `day`: a stable or oldstable release before its end."""
        return self.support in (Support.STABLE, Support.OLDSTABLE) and (
            self.support_ends is None or self.day < self.support_ends)


class DistroInfoError(RuleViolation):
    """The release calendar cannot be read: the message names the file and line."""


def _date(text: str, where: str, column: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DistroInfoError(f"{where}: {column} {text[:40]!r} is not a date (YYYY-MM-DD)",
                              section="SM 3.2") from None


def parse_releases(text: str, source: str = "debian.csv") -> list[DebianRelease]:
    """The releases of a distro-info CSV, in file order. Any malformed line refuses the
    whole file, naming it and the line."""
    if len(text) > MAX_CSV_BYTES:
        raise DistroInfoError(f"{source}: larger than {MAX_CSV_BYTES} bytes; not a "
                              "distro-info file", section="SM 3.2")
    if "\x00" in text:
        raise DistroInfoError(f"{source}: contains NUL bytes; not a distro-info file",
                              section="SM 3.2")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DistroInfoError(f"{source}:1: {exc}", section="SM 3.2") from None
    if header is None or tuple(h.strip() for h in header[:len(COLUMNS)]) != COLUMNS:
        raise DistroInfoError(f"{source}:1: the header must begin {','.join(COLUMNS)}",
                              section="SM 3.2")
    releases: list[DebianRelease] = []
    seen: set[str] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DistroInfoError(f"{source}:{reader.line_num}: {exc}",
                                  section="SM 3.2") from None
        where = f"{source}:{reader.line_num}"
        if not row:
            continue
        if len(row) < 4 or len(row) > len(header):
            raise DistroInfoError(f"{where}: {len(row)} fields, expected 4 to {len(header)}",
                                  section="SM 3.2")
        row = [cell.strip() for cell in row] + [""] * (len(COLUMNS) - len(row))
        version, codename, series = row[0], row[1], row[2]
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", series):
            raise DistroInfoError(f"{where}: series {series[:40]!r} is not a codename like "
                                  "bookworm", section="SM 3.2")
        if version and not re.fullmatch(r"\d{1,3}(\.\d{1,3})?", version):
            raise DistroInfoError(f"{where}: version {version[:40]!r} is not a number like 12",
                                  section="SM 3.2")
        if series in seen:
            raise DistroInfoError(f"{where}: {series} is listed twice", section="SM 3.2")
        seen.add(series)
        _date(row[3], where, "created")
        release, eol = _date(row[4], where, "release"), _date(row[5], where, "eol")
        if release and eol and eol < release:
            raise DistroInfoError(f"{where}: {series} ends ({eol}) before it is released "
                                  f"({release})", section="SM 3.2")
        releases.append(DebianRelease(version, codename, series, release, eol))
    if not releases:
        raise DistroInfoError(f"{source}: lists no release", section="SM 3.2")
    return releases


_cache: dict[tuple[str, int, int], list[DebianRelease]] = {}


def read_releases(path: str | Path | None = None) -> list[DebianRelease]:
    """The releases in the distro-info CSV (settings.SECMAN_DISTRO_INFO_CSV by default),
    read again whenever the file changes (the Debian package is upgraded)."""
    file = Path(path or settings.SECMAN_DISTRO_INFO_CSV)
    try:
        stat = file.stat()
        key = (str(file), stat.st_mtime_ns, stat.st_size)
        if key not in _cache:
            raw = file.read_bytes()[:MAX_CSV_BYTES + 1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DistroInfoError(f"{file}: not UTF-8 (byte {exc.start})",
                                      section="SM 3.2") from None
            _cache.clear()
            _cache[key] = parse_releases(text, str(file))
    except OSError as exc:
        raise DistroInfoError(f"{file}: cannot be read ({exc.strerror}); install Debian's "
                              "distro-info-data or set SECMAN_DISTRO_INFO_CSV",
                              section="SM 3.2") from None
    return _cache[key]


def find_release(os_release: str, releases: list[DebianRelease]) -> DebianRelease | None:
    """The Debian release a system's release names: "10.9" and "10" are buster,
    "bookworm" and "Bookworm" are bookworm, "12 (bookworm)" too; None if none matches."""
    text = (os_release or "").strip().lower()
    if not text:
        return None
    for candidate in releases:
        version = candidate.version
        # "10.9" is a point release of 10; "6.0.10" of 6.0 (Debian before 7 numbered
        # its major releases 3.1, 4.0, 5.0, 6.0).
        if version and (text == version or text.startswith((version + ".", version + " "))):
            return candidate
    words = set(re.findall(r"[a-z][a-z0-9-]*", text))
    return next((c for c in releases if c.series in words), None)


def lifecycle(os_release: str, day: dt.date,
              releases: list[DebianRelease] | None = None) -> Lifecycle:
    """Stable, oldstable or unsupported (older than oldstable) on `day`, and when
    security support ends (see Lifecycle.supported)."""
    releases = read_releases() if releases is None else releases
    found = find_release(os_release, releases)
    if found is None:
        return Lifecycle(None, Support.UNKNOWN, None, day)
    released = sorted((r for r in releases if r.release and r.release <= day),
                      key=lambda r: r.release or day)
    if found not in released:
        return Lifecycle(found, Support.UNRELEASED, None, day)
    index = released.index(found)
    successor = released[index + 1] if index + 1 < len(released) else None
    ends = found.eol
    if successor is not None and successor.release is not None:
        by_grace = successor.release + OLDSTABLE_GRACE
        ends = min(ends, by_grace) if ends else by_grace
    if successor is None:
        return Lifecycle(found, Support.STABLE, ends, day)
    if index == len(released) - 2:
        # Debian still calls it oldstable once its security support has ended; the
        # control reads `supported` to tell the two apart.
        return Lifecycle(found, Support.OLDSTABLE, ends, day)
    return Lifecycle(found, Support.UNSUPPORTED, ends, day)


def is_debian(os_name: str) -> bool:
    """A system whose OS name is empty or says Debian is measured against Debian's
    calendar; another distribution is not (and is a warning: nobody measures it)."""
    return not os_name.strip() or "debian" in os_name.lower()
