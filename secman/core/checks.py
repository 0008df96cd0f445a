"""Configuration problems as Django system checks. The ids are stable: documentation,
scripts and SILENCED_SYSTEM_CHECKS may rely on them (docs/configuration.md lists them)."""

from __future__ import annotations

import os
import stat
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

MINIMUM_SECRET_KEY_LENGTH = 40


@register(Tags.security, deploy=False)
def check_configuration(app_configs: Any = None, **kwargs: Any) -> list:
    problems: list = []
    data_dir = settings.DATA_DIR
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK):
        problems.append(Error(
            f"the data directory {data_dir} does not exist or is not writable",
            hint="set SECMAN_DATA_DIR to a directory secman may write to",
            id="secman.E001",
        ))
    key_file = data_dir / "secret_key"
    if key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) & 0o077:
        problems.append(Error(
            f"{key_file} can be read by other users",
            hint=f"chmod 600 {key_file}",
            id="secman.E002",
        ))
    if len(settings.SECRET_KEY) < MINIMUM_SECRET_KEY_LENGTH:
        problems.append(Error(
            f"the secret key is shorter than {MINIMUM_SECRET_KEY_LENGTH} characters",
            hint="unset SECMAN_SECRET_KEY to have one generated, or give a longer one",
            id="secman.E003",
        ))
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        problems.append(Error(
            "SECMAN_ALLOWED_HOSTS is empty or contains '*'",
            hint="list the host names secman is served under, separated by commas",
            id="secman.E004",
        ))
    if settings.EMAIL_USE_TLS and settings.EMAIL_USE_SSL:
        problems.append(Error(
            "SECMAN_EMAIL_USE_TLS and SECMAN_EMAIL_USE_SSL are both on",
            hint="use TLS for STARTTLS (port 587) or SSL for implicit TLS (port 465)",
            id="secman.E005",
        ))
    database = settings.DATABASES["default"]
    if "postgresql" in database["ENGINE"] and not database.get("NAME"):
        problems.append(Error(
            "DATABASE_URL names no database",
            hint="postgres://USER@HOST:PORT/NAME",
            id="secman.E006",
        ))
    if settings.DEBUG:
        problems.append(Warning(
            "SECMAN_DEBUG is on: error pages show settings and code to anyone who sees them",
            hint="never run a CA's production instance with SECMAN_DEBUG",
            id="secman.W001",
        ))
    if not settings.EMAIL_HOST:
        problems.append(Warning(
            "no mail server is configured: notifications are written to the log instead",
            hint="set SECMAN_EMAIL_HOST (and SECMAN_EMAIL_FROM)",
            id="secman.W002",
        ))
    if settings.SITE_URL.startswith("https://") and not settings.SECURE_COOKIES:
        problems.append(Warning(
            "secman is served over HTTPS but its cookies may travel over plain HTTP",
            hint="set SECMAN_SECURE_COOKIES=true",
            id="secman.W003",
        ))
    return problems
