"""What the privileged tests share: a critical system, its agent reports, keys."""

from __future__ import annotations

from typing import Any

from secman.privileged.demo_keys import SPARE_KEYS, UNKNOWN_KEY, key_entry, post_report
from secman.systems.models import System

KEY_A, KEY_B = SPARE_KEYS
KEY_C = UNKNOWN_KEY
# What ssh-keygen -lf printed for KEY_A (the check that ours is OpenSSH's fingerprint).
KEY_A_FINGERPRINT = "SHA256:iX0HgiK6IvssADPIVFFy+O3XZWTfj/jZNe077vJJmDo"
GOOD_SSHD = {"permitrootlogin": "no", "passwordauthentication": "no",
             "permitemptypasswords": "no"}
GOOD_SUDOERS = [{"path": "/etc/sudoers", "content": "root ALL=(ALL:ALL) ALL\n"
                 "%sudo ALL=(ALL:ALL) ALL\n# sid ALL=(ALL) NOPASSWD: ALL\n"}]


def critical(name: str = "vault") -> System:
    return System.objects.create(name=name, kind="vm", purpose="test",
                                 criticality="critical")


def facts(*, keys: list[tuple[str, str]] = (), accounts: list[str] = ("root",),  # type: ignore[assignment]
          sshd: dict[str, str] | None = None, sudoers: Any = None,
          **more: Any) -> dict[str, Any]:
    """A report's access facts: keys as (user, public key line), login accounts."""
    return {"authorized_keys": [key_entry(user, line) for user, line in keys],
            "accounts": [{"user": user, "uid": 1000 + i, "home": f"/home/{user}",
                          "shell": "/bin/bash"} for i, user in enumerate(accounts)],
            "sshd": dict(GOOD_SSHD if sshd is None else sshd),
            "sudoers": GOOD_SUDOERS if sudoers is None else sudoers, **more}


def report(system: System, actor: Any, **kwargs: Any) -> None:
    post_report(system, facts(**kwargs), actor=actor)
