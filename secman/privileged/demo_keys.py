"""The demo's keys, accounts and admin origins, and signer's agent report."""

from __future__ import annotations

from typing import Any

from secman.privileged.models import SshKey


def load_register(people_by_login: dict[str, Any]) -> None:
    """The sysadmins' keys and accounts, the hop machine as the admin origin."""


def load_signer_report(people_by_login: dict[str, Any], also_present: list[SshKey]) -> None:
    """signer's agent report: the registered keys, `also_present`, one unknown key and
    one sshd setting that breaks the rules."""
