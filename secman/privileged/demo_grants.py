"""The demo's authentication schemes, temporary grants and secrets."""

from __future__ import annotations

from typing import Any

from secman.privileged.models import SshKey


def load(people_by_login: dict[str, Any]) -> list[SshKey]:
    """Returns the keys that should still be found on signer (an expired grant's)."""
    return []
