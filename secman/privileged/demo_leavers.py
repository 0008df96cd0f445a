"""The demo's leaver, with the open termination checklist."""

from __future__ import annotations

from typing import Any


def load(people_by_login: dict[str, Any]) -> None:
    """A membership ends: the checklist opens."""
