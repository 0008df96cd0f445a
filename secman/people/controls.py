"""Staffing and access list checks that can fail over time, as people come and go.

A rule that an action would break is refused by the service; a rule that time breaks
(someone leaves, a team shrinks) cannot be refused, so it is found here and shown on
the Today page and the team and list pages until someone acts on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from secman.people.choices import CRITICAL_TEAMS, ListKind, TeamKind
from secman.people.models import ListEntry, Membership, Team
from secman.people.rules import LIST_RULES, SECTION, excludes
from secman.people.selectors import roles_of


@dataclass(frozen=True)
class Finding:
    section: str
    message: str
    url: str = ""


MINIMUM_TEAM_SIZE = 2


def staffing_findings() -> list[Finding]:
    findings: list[Finding] = []
    active = Membership.objects.active().select_related("team", "person")
    by_team: dict[int, list[Membership]] = defaultdict(list)
    teams_of_person: dict[int, set[str]] = defaultdict(set)
    for membership in active:
        by_team[membership.team_id].append(membership)
        if membership.team.kind in CRITICAL_TEAMS:
            teams_of_person[membership.person_id].add(membership.team.name)
    for team in Team.objects.all():
        members = by_team.get(team.pk, [])
        # External auditors are engaged per audit, not staffed as a team (SP 9.1.2).
        if team.kind != TeamKind.AUDIT and len({m.person_id for m in members}) < MINIMUM_TEAM_SIZE:
            findings.append(Finding(
                "SP 9.1.2",
                f"the {team} team has {len(members)} active member"
                f"{'' if len(members) == 1 else 's'}; it needs at least {MINIMUM_TEAM_SIZE}",
                team.get_absolute_url(),
            ))
        if team.kind in CRITICAL_TEAMS and not any(m.is_leader for m in members):
            findings.append(Finding("SP 9.1.2", f"the {team} team has no team leader",
                                    team.get_absolute_url()))
    for membership in active:
        teams = teams_of_person.get(membership.person_id, set())
        if len(teams) > 1 and membership.team.name == min(teams):
            findings.append(Finding(
                "SP 9.1.2",
                f"{membership.person} is active in {len(teams)} teams "
                f"({', '.join(sorted(teams))}); an individual is active in at most one",
                membership.person.get_absolute_url(),
            ))
    return findings + list_findings()


def list_findings() -> list[Finding]:
    """People on a list who no longer hold its role, or who sit on two lists that
    exclude each other: the list's manager should propose a removal (SP 3.4.2, 9.1.7)."""
    findings: list[Finding] = []
    entries = ListEntry.objects.active().select_related("access_list", "person")
    lists_by_person: dict[int, set[ListKind]] = defaultdict(set)
    for entry in entries:
        lists_by_person[entry.person_id].add(ListKind(entry.access_list.kind))
    for entry in entries:
        rule = LIST_RULES[ListKind(entry.access_list.kind)]
        held = roles_of(entry.person)
        url = entry.access_list.get_absolute_url()
        if rule.who not in held:
            findings.append(Finding(
                SECTION,
                f"{entry.person} is on the {entry.access_list} but is no longer a "
                f"{rule.who.label}: propose their removal", url,
            ))
        elif clash := rule.excludes_roles & held:
            findings.append(Finding(
                SECTION,
                f"{entry.person} is on the {entry.access_list} and is also "
                f"{' and '.join(sorted(r.label for r in clash))} ({rule.relationship})", url,
            ))
        for other in sorted(lists_by_person[entry.person_id]):
            if other > rule.kind and excludes(rule.kind, other):
                findings.append(Finding(
                    SECTION,
                    f"{entry.person} is on both the {entry.access_list} and the "
                    f"{other.label}, which exclude each other", url,
                ))
    return findings
