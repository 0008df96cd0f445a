"""The access control lists (SP 3.4.2) and the states of their change proposals."""

from __future__ import annotations

from django.db import models


class ListKind(models.TextChoices):
    """SP 3.4.2 access control lists."""

    PHYSICAL_CONTROL = "physical_control", "Physical Control List"
    PHYSICAL_ACCESS = "physical_access", "Physical Access List"
    SSH_ACCESS = "ssh_access", "SSH Access List"
    REPOSITORY_ACCESS = "repository_access", "Repository Access List"
    SUPPORT_ACCESS = "support_access", "Support Access List"
    # SM 4.1.1: "knowledge of the root passwords is restricted to members of the Console
    # Access List (see 3.4.2.)": the SM names a sixth list the SP's table does not carry.
    CONSOLE_ACCESS = "console_access", "Console Access List"


class ChangeKind(models.TextChoices):
    ADD = "add", "Add to list"
    REMOVE = "remove", "Remove from list"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the Board"
    APPROVED = "approved", "Approved by the Board"
    REJECTED = "rejected", "Rejected by the Board"
    WITHDRAWN = "withdrawn", "Withdrawn"
