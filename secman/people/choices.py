"""The roles, teams and access control lists named by the Security Policy."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    """SP 9.1.1 roles, plus the read-only external Auditor (SP 1.2 "Audit")."""

    ACCESS_ENGINEER = "access_engineer", "Access Engineer"
    SYSTEMS_ADMINISTRATOR = "systems_administrator", "Systems Administrator"
    SOFTWARE_ASSESSOR = "software_assessor", "Software Assessor"
    SUPPORT_ENGINEER = "support_engineer", "Support Engineer"
    TEAM_LEADER = "team_leader", "Team Leader"
    BOARD_MEMBER = "board_member", "Board member"
    ARBITRATOR = "arbitrator", "Arbitrator"
    CASE_MANAGER = "case_manager", "Case Manager"
    AUDITOR = "auditor", "Auditor"


# SP 1.1.1: the critical roles this policy covers.
CRITICAL_ROLES = frozenset(
    {
        Role.ACCESS_ENGINEER,
        Role.SYSTEMS_ADMINISTRATOR,
        Role.SOFTWARE_ASSESSOR,
        Role.SUPPORT_ENGINEER,
    }
)


class TeamKind(models.TextChoices):
    ACCESS = "access", "Access"
    SYSTEMS_ADMINISTRATION = "systems_administration", "Critical System Administration"
    SOFTWARE_ASSESSMENT = "software_assessment", "Software Assessment"
    SUPPORT = "support", "Support"
    BOARD = "board", "Board"
    ARBITRATION = "arbitration", "Arbitration"
    AUDIT = "audit", "External audit"


# The roles a member of each kind of team may hold (the first is the default).
TEAM_ROLES: dict[str, tuple[Role, ...]] = {
    TeamKind.ACCESS: (Role.ACCESS_ENGINEER,),
    TeamKind.SYSTEMS_ADMINISTRATION: (Role.SYSTEMS_ADMINISTRATOR,),
    TeamKind.SOFTWARE_ASSESSMENT: (Role.SOFTWARE_ASSESSOR,),
    TeamKind.SUPPORT: (Role.SUPPORT_ENGINEER,),
    TeamKind.BOARD: (Role.BOARD_MEMBER,),
    TeamKind.ARBITRATION: (Role.ARBITRATOR, Role.CASE_MANAGER),
    TeamKind.AUDIT: (Role.AUDITOR,),
}

# SP 9.1.2 "Individuals should not be active in more than one team" is about the teams
# that staff the critical roles; the Board and the Arbitrators oversee them.
CRITICAL_TEAMS = frozenset(
    {
        TeamKind.ACCESS,
        TeamKind.SYSTEMS_ADMINISTRATION,
        TeamKind.SOFTWARE_ASSESSMENT,
        TeamKind.SUPPORT,
    }
)


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
