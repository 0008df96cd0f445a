"""The controls of privileged access (SP/SM 3.4, 4.1.1, 9.1.7), each naming its section,
declared in CONTROLS for the compliance app to collect. The checks live with their
topic: the agent-report checks in checks.py (keys, accounts, sshd, sudoers, SSH origins),
access attempts in attempts.py, schemes, grants and secrets in their service modules."""

from __future__ import annotations

from secman.core.controls import Control, Finding, Status, worst
from secman.core.roles import TeamKind
from secman.privileged import attempts, checks, grants, schemes, secrets_register

_SA = TeamKind.SYSTEMS_ADMINISTRATION

# --- keys, accounts and sshd (SM 3.4.3, 4.1.1) ------------------------------------------
KEY_CONTROLS: list[Control] = [
    Control("privileged.access_facts_reported", ("SM 3.4.3", "SM 4.1.1"),
            "Every critical system's newest agent report holds its authorized_keys, login "
            "accounts, sshd settings and sudoers.", _SA, check=checks.access_facts_reported),
    Control("privileged.unknown_keys", ("SM 3.4.3", "SP 4.1.1.1"),
            "Every key in authorized_keys on a critical system is registered to a person.",
            _SA, check=checks.unknown_keys),
    Control("privileged.keys_on_ssh_list", ("SP 4.1.1.1",),
            "Every key present and personal account registered on a critical system is of "
            "a person on the SSH Access List (Physical Access List members included) or "
            "with a temporary grant there in force.", _SA, check=checks.keys_of_listed_people),
    Control("privileged.blocked_keys_absent", ("SM 9.1.7",),
            "No blocked SSH key is present on a critical system.", _SA,
            check=checks.blocked_keys_absent),
    Control("privileged.listed_people_have_keys", ("SM 3.4.3",),
            "Every person on the SSH Access List has an SSH key registered that is not "
            "blocked.", _SA, check=checks.listed_people_have_keys),
    *[Control(f"privileged.sshd_{option}", (section,),
              f"sshd on every critical system: {why.split(': ', 1)[1]}.", _SA,
              check=checks._sshd_rule(option, breaks, section, why))
      for option, breaks, section, why in checks.SSHD_RULES],
    Control("privileged.sudo_asks_password", ("SM 4.1.1",),
            "No sudoers line on a critical system lets a command run without the user's "
            "own password (NOPASSWD, !authenticate).", _SA, check=checks.sudo_asks_password),
    Control("privileged.privileged_accounts_no_login", ("SM 4.1.1",),
            "No registered privileged or service account on a critical system has a login "
            "shell.", _SA, check=checks.privileged_accounts_no_login),
    Control("privileged.login_accounts_registered", ("SM 3.4.3",),
            "Every account with a login shell on a critical system is in the register.", _SA,
            check=checks.login_accounts_registered),
    Control("privileged.ssh_from_admin_origins", ("SM 3.4.3",),
            "SSH into a critical system is allowed only from a documented admin origin (the "
            "hop machine, a documented network).", _SA, check=checks.ssh_from_admin_origins),
    Control("privileged.access_attempts_flagged", ("SM 4.1.1.2",),
            "Unsuccessful access attempts of the last week are flagged for inspection.", _SA,
            check=attempts.attempts_flagged),
]

# --- schemes, grants and secrets (SP 3.4.3, 4.1.1.1, SM 4.1.1) ----------------------------
GRANT_CONTROLS: list[Control] = [
    Control("privileged.schemes_documented", ("SP 3.4.3",),
            "Every critical system in service has a documented SSH authentication scheme "
            "and a documented console scheme.", _SA,
            check=schemes.schemes_documented),
    Control("privileged.scheme_hop_in_service", ("SP 3.4.3", "SM 3.4.3"),
            "Every system documented as reached via the hop machine names a hop machine "
            "that is not retired.", _SA,
            check=schemes.hop_in_service),
    Control("privileged.grant_keys_removed", ("SP 4.1.1.1",),
            "A Software Assessor's key is gone from the system once their temporary grant "
            "expired or was revoked, per the system's newest agent report.",
            _SA, check=grants.ended_grant_keys_removed),
    Control("privileged.secrets_rotated", ("SM 4.1.1", "SM 9.1.7"),
            "Every privileged secret was changed after each turnover of those who know it "
            "and after each suspected compromise of a system it is used on.",
            _SA, check=secrets_register.secrets_rotated),
    Control("privileged.root_password_holders", ("SM 4.1.1",),
            "Only people on the Console Access List know a root password.",
            _SA, check=secrets_register.root_password_holders),
]

CONTROLS: list[Control] = [*KEY_CONTROLS, *GRANT_CONTROLS]


def key_findings() -> dict[str, list[Finding]]:
    """Every check of keys, accounts and sshd: its findings by control id (the command
    line's `secman privileged check` and the findings page)."""
    return {control.id: control.check() for control in KEY_CONTROLS
            if control.check is not None}


def chapter_findings() -> list[Finding]:
    """Every finding of this chapter's computed controls, for the overview page."""
    return [finding for control in CONTROLS if control.check is not None
            for finding in control.check()]


def chapter_status() -> Status:
    return worst(f.status for f in chapter_findings())
