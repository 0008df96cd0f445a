"""Access attempts (SM 4.1.1.2: "All access attempts to accounts shall be logged;
unsuccessful attempts should be flagged for inspection").

The seam: each source of access attempts registers a provider with `register_source(name,
provider)`. A provider takes the start of the period looked at and returns the failed
attempts in it (`Attempt`s). secman's own sign-ins (people.accounts records each refused
sign-in as a "login.failed" Event Log entry) are the first source; the logging chapter
adds the systems' sshd logs the same way, from its own module:

    from secman.privileged import attempts
    attempts.register_source("sshd logs", failed_ssh_logins)

The privileged pages list the flagged attempts and the control
`privileged.access_attempts_flagged` (SM 4.1.1.2) turns each source's failures into one
finding for inspection. Providers read; they never change anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Finding, Status

SECTION = "SM 4.1.1.2"
# How far back the pages and the control look.
WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Attempt:
    """One failed access attempt to flag for inspection."""

    source: str
    at: dt.datetime
    account: str  # the login or account tried ("" when unknown)
    origin: str  # where it came from (an address), "" when unknown
    url: str  # the evidence (the Event Log entry, the log line's page)


Provider = Callable[[dt.datetime], list[Attempt]]
_SOURCES: dict[str, Provider] = {}


def register_source(name: str, provider: Provider) -> None:
    """Add a source of failed access attempts; registering a name again replaces it."""
    _SOURCES[name] = provider


def sources() -> dict[str, Provider]:
    return dict(_SOURCES)


def failed_attempts(since: dt.datetime | None = None) -> dict[str, list[Attempt]]:
    """Each source's failed attempts since `since` (default: the last WINDOW)."""
    start = since or timezone.now() - WINDOW
    return {name: provider(start) for name, provider in _SOURCES.items()}


def secman_sign_ins(since: dt.datetime) -> list[Attempt]:
    """secman's own refused sign-ins (people.accounts.record_failed_login)."""
    from secman.eventlog.models import Event

    rows = (Event.objects.filter(action="login.failed", recorded_at__gte=since)
            .order_by("-recorded_at").values_list("seq", "recorded_at", "details")[:500])
    return [Attempt("secman sign-ins", at, str((details or {}).get("login") or ""),
                    str((details or {}).get("address") or ""),
                    reverse("eventlog:event", args=[seq]))
            for seq, at, details in rows]


register_source("secman sign-ins", secman_sign_ins)


def attempts_flagged() -> list[Finding]:
    """SM 4.1.1.2: unsuccessful attempts are flagged for inspection: one warning per
    source that has some in the last WINDOW."""
    findings = []
    days = WINDOW.days
    for name, found in failed_attempts().items():
        if not found:
            continue
        url = (reverse("eventlog:events") + "?" + urlencode({"action": "login.failed"})
               if name == "secman sign-ins" else found[0].url)
        findings.append(Finding(SECTION, f"{len(found)} failed access attempt"
                                f"{'' if len(found) == 1 else 's'} in {name} in the last "
                                f"{days} days: inspect them", url, status=Status.WARNING,
                                subject=f"attempts:{name}"))
    return findings
