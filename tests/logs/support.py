"""Lines as rsyslog's template writes them (docs/logs.md), for tests that do not need
rsyslog itself."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone


def line(text: str, *, host: str = "web1", program: str = "sshd", facility: int = 10,
         severity: int = 5, at: dt.datetime | None = None) -> bytes:
    stamp = (at or timezone.now()).isoformat()
    return json.dumps({"r": stamp, "t": stamp, "h": host, "ip": "10.0.0.9", "f": facility,
                       "s": severity, "p": program, "m": text}).encode() + b"\n"


def failures(count: int, source: str = "203.0.113.9", host: str = "web1",
             start: dt.datetime | None = None) -> list[bytes]:
    start = start or timezone.now()
    return [line(f"Failed password for root from {source} port {4000 + n} ssh2", host=host,
                 at=start + dt.timedelta(seconds=n)) for n in range(count)]
