"""The vocabulary of privileged access (SP/SM 3.4, 4.1.1, 9.1.7) as the Systems
Administrators speak it."""

from __future__ import annotations

from django.db import models


class AccountKind(models.TextChoices):
    # SM 3.4.3: "personal named accounts, one per sysadmin".
    PERSONAL = "personal", "Personal named account"
    # SM 4.1.1: root and the other privileged accounts (database, http server, ...)
    # "should be configured as to not permit login".
    PRIVILEGED = "privileged", "Privileged account"
    SERVICE = "service", "Service account"


class AccessPath(models.TextChoices):
    """SP 3.4.3: "All authentication schemes must be documented", per system and path."""

    SSH_HOP = "ssh_hop", "SSH via the hop machine"
    SSH_DIRECT = "ssh_direct", "SSH, direct"
    WEB_APPLICATION = "web_application", "Web application roles"
    CONSOLE = "console", "Console"
    OTHER = "other", "Other"


class SecretKind(models.TextChoices):
    ROOT_PASSWORD = "root_password", "Root password"
    BACKUP_KEY = "backup_key", "Backup key"
    SERVICE_PASSWORD = "service_password", "Service password"
    SSH_HOST_KEY = "ssh_host_key", "Server SSH host key"
    OTHER = "other", "Other secret"


class SecretWeight(models.TextChoices):
    """SM 9.1.7 step 2 changes the major secrets (root passwords, server SSH keys); step
    3 analyses the minor ones (database passwords) for sensitivity."""

    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class RotationReason(models.TextChoices):
    # SM 4.1.1: "changed on authorized user turnover or suspected compromise".
    TURNOVER = "turnover", "Authorised user turnover"
    COMPROMISE = "compromise", "Suspected compromise"
    SCHEDULED = "scheduled", "Scheduled change"
    FIRST = "first", "First recorded"


class RemovalEvent(models.TextChoices):
    """SM 3.4.4 lists the events on which access is removed; the list is lost from the
    manual's export. These are the events the SP and SM name elsewhere (SP 9.1.7
    termination, Arbitration rulings, suspected compromise)."""

    TERMINATION = "termination", "Termination (resignation, ruling or decision)"
    RULING = "ruling", "Arbitration ruling"
    COMPROMISE = "compromise", "Suspected compromise of the person's credentials"
    INACTIVITY = "inactivity", "Long inactivity"
    BOARD = "board", "Board decision"
    OTHER = "other", "Other event"


class RemovalStatus(models.TextChoices):
    # Access removed at once; permanent when the Board approves the list change.
    TEMPORARY = "temporary", "Temporary, waiting for the Board"
    # Board approved, or the person was on no list by an entry of their own.
    PERMANENT = "permanent", "Permanent"
    RESTORED = "restored", "Restored"


class ChecklistTrigger(models.TextChoices):
    MEMBERSHIP_ENDED = "membership_ended", "Membership ended"
    LEFT_LIST = "left_list", "Left an access list"
    TRANSFER = "transfer", "Transfer to another team"
    REMOVAL = "removal", "Access removed"


class ChecklistStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


# SM 9.1.7's five steps, in its words. On a transfer between teams only steps 1 and 2
# are asked ("Team leaders should also ensure 1,2 above where individuals are
# transferring activity from one team to another").
CHECKLIST_STEPS: dict[int, str] = {
    1: "SSH public keys of that person are blocked",
    2: "major secrets are changed (e.g., root passwords, server SSH keys)",
    3: "minor passwords are analysed for sensitivity (e.g., database passwords)",
    4: "accounts, record of activities, etc, are escrowed",
    5: "copies of escrowed root keys or backups are secured",
}
TRANSFER_STEPS = (1, 2)
