"""Two days of the demo systems' messages, stored through the ingest's own path (parse,
classify, hash, examine): ordinary traffic, a dropped probe that was examined and
dismissed, and yesterday's SSH brute force on hop, still open for the log monitor."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from django.utils import timezone

from secman.logs import ingest, services, tree
from secman.logs.models import Anomaly

ORDINARY = [
    ("webdb", 16, 6, "apache2", "192.0.2.10 - - \"GET /index.php HTTP/1.1\" 200 5120"),
    ("webdb", 2, 6, "postfix", "connect from mail.example.net[198.51.100.2]"),
    ("webdb", 3, 6, "systemd", "Started Daily apt upgrade and clean activities."),
    ("signer", 1, 6, "CommModule", "signing request 4711 handled: 1 certificate"),
    ("signer", 10, 6, "sshd", "Accepted publickey for lena from 10.10.0.5 port 50122 ssh2"),
    ("hop", 10, 6, "sshd", "Accepted publickey for piet from 10.10.0.6 port 40110 ssh2"),
    ("hop", 3, 6, "systemd", "Starting Rotate log files..."),
    ("webdb", 10, 5, "sudo", "    lena : TTY=pts/0 ; PWD=/home/lena ; USER=root ; "
                            "COMMAND=/usr/bin/apt-get upgrade"),
]


def _line(at: dt.datetime, host: str, facility: int, severity: int, program: str,
          text: str) -> bytes:
    stamp = at.isoformat()
    return json.dumps({"r": stamp, "t": stamp, "h": host, "ip": "10.10.0.1", "f": facility,
                       "s": severity, "p": program, "m": text}).encode() + b"\n"


def load(people_by_login: dict[str, Any]) -> None:
    chooser = random.Random(2026)  # noqa: S311 (the demo's traffic, not a secret)
    now = timezone.now()
    start = now - dt.timedelta(days=2)
    lines = []
    at = start
    while at < now - dt.timedelta(minutes=5):
        host, facility, severity, program, text = chooser.choice(ORDINARY)
        lines.append((at, _line(at, host, facility, severity, program, text)))
        at += dt.timedelta(minutes=chooser.randint(3, 12))
    probe = start + dt.timedelta(hours=9)
    lines.append((probe, _line(probe, "webdb", 0, 4, "kernel",
                               "secman-drop-in IN=eth0 SRC=203.0.113.50 DST=192.0.2.10 "
                               "PROTO=TCP SPT=51515 DPT=23")))
    attack = now - dt.timedelta(hours=20)
    for n in range(14):
        when = attack + dt.timedelta(seconds=7 * n)
        lines.append((when, _line(when, "hop", 10, 5, "sshd",
                                  f"Failed password for invalid user admin{n} from "
                                  f"198.51.100.23 port {40000 + n} ssh2")))
    lines.sort(key=lambda item: item[0])
    stored_at = now
    parsed = [ingest.parse_line(line, stored_at) for _, line in lines]
    ingest.store(parsed, now=attack + dt.timedelta(minutes=5))
    tree.checkpoint_now()
    dropped = Anomaly.objects.filter(rule__name="firewall_unexpected_traffic").first()
    if dropped is not None:
        services.examine(actor=people_by_login["lena"], anomaly=dropped, outcome="dismissed",
                         reason="A telnet probe from an Internet scanner, dropped by the "
                         "firewall as it should be; nothing answered on port 23.")
