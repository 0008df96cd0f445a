"""Who may read and change the privileged-access registers, and the reads every page,
API view, command and control of this chapter asks the same way."""

from __future__ import annotations

from typing import Any

from secman.core.errors import NotAllowed
from secman.core.roles import Role, TeamKind
from secman.people.selectors import holds_any, is_administrator, leads

SECTION = "SP 3.4"


def may_read_access(person: Any) -> bool:
    """The accounts, keys, schemes, grants, secrets (never values) and checklists: the
    Systems Administrators who keep them, team leaders (their leavers' checklists), the
    Board, the Arbitrator (SP 4.1.1.1 directs grants) and auditors. The administrator
    reads too: it enters data for the Board."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.TEAM_LEADER, Role.BOARD_MEMBER,
                     Role.ARBITRATOR, Role.AUDITOR) or is_administrator(person)


def why_not_read_access(person: Any) -> NotAllowed | None:
    if may_read_access(person):
        return None
    return NotAllowed("privileged access is for Systems Administrators, team leaders, the "
                      "Board, the Arbitrator and auditors", section=SECTION)


def may_keep_register(person: Any) -> bool:
    """Register keys and accounts, document schemes and admin origins, record secrets
    and their rotations: the Systems Administrators (SM 4.1.1: "It is the duty of the
    system administrators to generate privileged account passwords")."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def may_grant_temporary_access(person: Any) -> bool:
    """SP 4.1.1.1: the Systems Administration team leader, or as the Arbitrator
    directs."""
    return leads(person, TeamKind.SYSTEMS_ADMINISTRATION) or holds_any(person, Role.ARBITRATOR)
