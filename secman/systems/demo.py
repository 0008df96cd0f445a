"""The systems part of the demo organisation: a handful of systems with their flows."""

from __future__ import annotations

from typing import Any


def load(people_by_login: dict[str, Any]) -> None:
    """Filled in by the systems register work (webdb, signer, hop)."""
