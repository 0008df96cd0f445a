"""Who may read and change the privileged-access registers, and the reads every page,
API view, command and control of this chapter asks the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from secman.core.errors import NotAllowed
from secman.core.roles import Role, TeamKind
from secman.people.selectors import holds_any, is_administrator, leads
from secman.systems.models import AgentReport, System

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


@dataclass(frozen=True)
class Facts:
    """What the newest agent report of a system says about access."""

    report_id: int
    received_at: dt.datetime
    authorized_keys: list[dict[str, Any]] | None  # None: the agent could not read them
    accounts: list[dict[str, Any]] | None
    sshd: dict[str, str] | None
    sudoers: list[dict[str, str]] | None


def newest_facts(systems: Iterable[System] | None = None) -> dict[int, Facts]:
    """The access facts of each system's newest agent report, by system id: one query
    (a window function ranks each system's reports) that reads only these keys of the
    facts, not the package lists and rulesets. Retired systems are left out."""
    reports = AgentReport.objects.filter(system__retired_at__isnull=True)
    if systems is not None:
        reports = reports.filter(system__in=list(systems))
    ranked = (reports.annotate(rank=Window(RowNumber(), partition_by=[F("system_id")],
                                           order_by=[F("received_at").desc(), F("id").desc()]))
              .filter(rank=1)
              .values_list("system_id", "id", "received_at", "facts__authorized_keys",
                           "facts__accounts", "facts__sshd", "facts__sudoers"))
    return {system_id: Facts(pk, received, keys, accounts, sshd, sudoers)
            for system_id, pk, received, keys, accounts, sshd, sudoers in ranked}
