"""Strict readers for settings that come from the environment.

A bad value stops secman at start-up with a message that names the variable, what it
got and what it accepts: a security tool must not guess what its operator meant.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

from secman.files import FileRefused, read_capped_text

# A secret or setting read from a file is a line, not a document: 64 KiB is plenty.
SETTING_FILE_MAX_BYTES = 64 * 1024
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env(name: str, default: str = "") -> str:
    """A string setting; `<NAME>_FILE` names a file to read it from instead (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name and name in os.environ:
        raise ImproperlyConfigured(f"set either {name} or {name}_FILE, not both")
    if file_name:
        try:
            return read_capped_text(file_name, SETTING_FILE_MAX_BYTES).strip()
        except FileRefused as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r}: {exc}") from None
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value: use one of "
        f"{', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}"
    )


def envint(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} is out of range: use {minimum} to {maximum}")
    return value


def envchoice(name: str, default: str, choices: list[str]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envzone(name: str, default: str) -> str:
    """An IANA time zone name (Europe/Amsterdam, UTC), checked against the zone database."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a time zone: use an IANA name such as UTC or "
            "Europe/Amsterdam") from None
    return value


def secret_key(data_dir: Path) -> str:
    """SECMAN_SECRET_KEY(_FILE), or a key generated once and kept in the data dir (0600)."""
    configured = env("SECMAN_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return _read_key(key_file)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: if two processes start at once, only one writes; the other reads its key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(key_file)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def _read_key(key_file: Path) -> str:
    try:
        return read_capped_text(key_file, SETTING_FILE_MAX_BYTES).strip()
    except FileRefused as exc:
        raise ImproperlyConfigured(f"the secret key file: {exc}") from None
