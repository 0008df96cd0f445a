"""The demo organisation's privileged access: keys, accounts, schemes, a grant, secrets
and a leaver, with one finding of each kind the issue names (an unknown key on a critical
system, an sshd setting that breaks the rules, an expired grant still present, a leaver's
open checklist)."""

from __future__ import annotations

from typing import Any

from secman.privileged import demo_grants, demo_keys, demo_leavers


def load(people_by_login: dict[str, Any]) -> None:
    demo_keys.load_register(people_by_login)
    # The keys the grants' part wants present on signer (an expired grant's key).
    lingering = demo_grants.load(people_by_login)
    demo_keys.load_signer_report(people_by_login, also_present=lingering)
    demo_leavers.load(people_by_login)
