"""The controls of privileged access (SP/SM 3.4, 4.1.1, 9.1.7), each naming its section,
declared in CONTROLS for the compliance app to collect. The checks live with their
topic: the agent-report checks in checks.py (keys, accounts, sshd, sudoers, SSH origins),
access attempts in attempts.py, schemes, grants and secrets in their service modules."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding, Status, worst
from secman.core.roles import TeamKind
from secman.privileged import attempts, checks, grants, schemes, secrets_register
from secman.privileged.choices import ChecklistStatus, RemovalStatus
from secman.privileged.models import AccessRemoval, TerminationChecklist

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

# --- removals and leavers (SP 3.4.4, SM 9.1.7) -------------------------------------------

# SM 3.4.4 gives the Board no deadline; 14 days is two of its usual fortnightly rounds of
# minutes: a removal still temporary after that is chased.
REMOVAL_BOARD_DAYS = 14
# SM 9.1.7 gives no deadline either. The steps are urgent (a leaver's keys and the secrets
# they knew): a week lets a team leader get the secrets changed and the backups secured,
# and a checklist open longer is overdue.
CHECKLIST_DAYS = 7


def removals_decided() -> list[Finding]:
    """Each removal still waiting for the Board (SM 3.4.4): due, overdue after 14 days."""
    now = timezone.now()
    found = []
    for removal in AccessRemoval.objects.filter(
            status=RemovalStatus.TEMPORARY).select_related("person"):
        days = (now - removal.removed_at).days
        late = days >= REMOVAL_BOARD_DAYS
        found.append(Finding(
            "SM 3.4.4",
            f"{removal.person}'s access was removed {days} day{'s' if days != 1 else ''} ago "
            "and is temporary until the Board approves the list changes"
            + (f" (more than {REMOVAL_BOARD_DAYS} days)" if late else ""),
            reverse("privileged:removal", args=[removal.pk]),
            Status.OVERDUE if late else Status.DUE_SOON, f"removal:{removal.pk}"))
    return found


def checklists_closed() -> list[Finding]:
    """Each open termination checklist (SM 9.1.7): due, overdue after 7 days."""
    now = timezone.now()
    found = []
    for checklist in TerminationChecklist.objects.filter(
            status=ChecklistStatus.OPEN).select_related("person", "team"):
        days = (now - checklist.opened_at).days
        late = days >= CHECKLIST_DAYS
        undone = [s.number for s in checklist.steps.all() if s.done_at is None]
        found.append(Finding(
            "SM 9.1.7",
            f"{checklist.person}'s {checklist.get_trigger_display().lower()} checklist "
            f"({checklist.team}) has been open "
            + ("since today" if days == 0 else f"for {days} day{'s' if days != 1 else ''}")
            + "; steps "
            f"not done: {', '.join(map(str, undone)) or 'none (close it)'}",
            reverse("privileged:checklist", args=[checklist.pk]),
            Status.OVERDUE if late else Status.DUE_SOON, f"checklist:{checklist.pk}"))
    return found


LEAVER_CONTROLS: list[Control] = [
    Control("privileged.removals_decided", ("SM 3.4.4", "SP 3.4.4"),
            "A temporary removal of access is made permanent by the Board's approval of "
            "the list changes; one waiting for the Board is due, and overdue after "
            f"{REMOVAL_BOARD_DAYS} days.", _SA,
            check=removals_decided),
    Control("privileged.checklists_closed", ("SM 9.1.7", "SP 3.4.4"),
            "Every termination or transfer checklist is completed with evidence and closed "
            f"by the team leader; an open one is due, and overdue after {CHECKLIST_DAYS} "
            "days.", _SA, check=checklists_closed),
]

CONTROLS: list[Control] = [*KEY_CONTROLS, *GRANT_CONTROLS, *LEAVER_CONTROLS]


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
