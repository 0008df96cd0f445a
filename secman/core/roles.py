"""The roles and teams named by the Security Policy (SP 9.1): the vocabulary every layer
of secman speaks, so it lives at the bottom, in core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
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


# --- the seam to the people app ------------------------------------------------------------
#
# Who holds which role is the people app's to answer (memberships, dates, leaders). The
# Event Log sits below people in the layers (every people action writes an entry), yet
# its access rules ask about roles; it asks here, and the people app answers
# (PeopleConfig.ready). Packages above people import people.selectors directly.

_holds_any: Callable[..., bool] | None = None


def provide(*, holds_any: Callable[..., bool]) -> None:
    """Called once by the people app when Django starts."""
    global _holds_any
    _holds_any = holds_any


def holds_any(person: Any, *roles: Role, on: dt.date | None = None) -> bool:
    """Whether `person` holds any of `roles` on `on` (today) (people.selectors.holds_any)."""
    if _holds_any is None:
        raise ImproperlyConfigured("secman.people is not installed: no roles can be asked")
    return _holds_any(person, *roles, on=on)
