"""The demo organisation's privileged access: keys, accounts, schemes, a grant, secrets
and a leaver, with one finding of each kind the issue names."""

from __future__ import annotations

from typing import Any


def load(people_by_login: dict[str, Any]) -> None:
    """Filled by the topics' demo parts (keys, grants and secrets, leavers)."""
