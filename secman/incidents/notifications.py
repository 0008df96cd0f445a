"""The initial warning (SM 5.3.2): mailed at once to the warning list and the CC the
person on the spot chose, when the incident is opened; for a security bug, also the
team leaders of Systems Administration and Software Assessment (SM 9.1.6)."""

from __future__ import annotations

from secman.eventlog.models import Event
from secman.eventlog.notifications import notify_on


@notify_on("incidents.incident.open")
def _warning(event: Event) -> list[str]:
    return list(dict.fromkeys([*event.details.get("warning_to", []),
                               *event.details.get("team_leaders", []),
                               *event.details.get("cc", [])]))
