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


class ChangeKind(models.TextChoices):
    ADD = "add", "Add to list"
    REMOVE = "remove", "Remove from list"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the Board"
    APPROVED = "approved", "Approved by the Board"
    REJECTED = "rejected", "Rejected by the Board"
    WITHDRAWN = "withdrawn", "Withdrawn"
