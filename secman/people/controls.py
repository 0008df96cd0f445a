"""Staffing and access list checks that can fail over time, as people come and go.

A rule that an action would break is refused by the service; a rule that time breaks
(someone leaves, a team shrinks) cannot be refused, so it is found here and shown on
the Today page and the team and list pages until someone acts on it.
"""

from __future__ import annotations

from collections import defaultdict

from secman.core.controls import Control, Finding, Status
from secman.core.roles import CRITICAL_ROLES, CRITICAL_TEAMS, TeamKind
from secman.people.choices import ListKind, ProposalStatus
from secman.people.models import AccessList, ListEntry, Membership, Team
from secman.people.rules import LIST_RULES, SECTION, excludes
from secman.people.selectors import roles_of

MINIMUM_TEAM_SIZE = 2
# SM 9.1.2: "Each team should be at least 3 people": below it is a warning, not a breach.
RECOMMENDED_TEAM_SIZE = 3


# The controls whose findings staffing_findings() lists (Today shows them in their own
# section, not again among a team's failing controls).
STAFFING_CONTROLS = frozenset({"people.redundancy", "people.one_team",
                               "people.list_exclusivity"})


def staffing_findings() -> list[Finding]:
    """What the Today, team and list pages show: redundancy, one team each, exclusivity."""
    return redundancy_findings() + one_team_findings() + list_findings()


def redundancy_findings() -> list[Finding]:
    """SP 1.2 / 9.1.2: every team, access list and critical role has two active people."""
    findings: list[Finding] = []
    active = Membership.objects.active().select_related("team", "person")
    by_team: dict[int, list[Membership]] = defaultdict(list)
    holders: dict[str, set[int]] = defaultdict(set)
    for membership in active:
        by_team[membership.team_id].append(membership)
        holders[membership.role].add(membership.person_id)
    for team in Team.objects.all():
        members = by_team.get(team.pk, [])
        size = len({m.person_id for m in members})
        subject = f"team:{team.kind}"
        # External auditors are engaged per audit, not staffed as a team (SP 9.1.2).
        if team.kind != TeamKind.AUDIT and size < MINIMUM_TEAM_SIZE:
            findings.append(Finding(
                "SP 9.1.2",
                f"the {team} team has {size} active member"
                f"{'' if size == 1 else 's'}; it needs at least {MINIMUM_TEAM_SIZE}",
                team.get_absolute_url(), subject=subject,
            ))
        elif team.kind in CRITICAL_TEAMS and size < RECOMMENDED_TEAM_SIZE:
            findings.append(Finding(
                "SM 9.1.2", f"the {team} team has {size} active members; the manual asks "
                f"for at least {RECOMMENDED_TEAM_SIZE}", team.get_absolute_url(),
                Status.WARNING, subject))
        if team.kind in CRITICAL_TEAMS and not any(m.is_leader for m in members):
            findings.append(Finding("SP 9.1.2", f"the {team} team has no team leader",
                                    team.get_absolute_url(), subject=f"leader:{team.kind}"))
    for role in sorted(CRITICAL_ROLES):
        if len(holders.get(role, ())) < MINIMUM_TEAM_SIZE:
            findings.append(Finding(
                "SP 1.2", f"{len(holders.get(role, ()))} active people hold the critical role "
                f"{role.label}; redundancy needs at least {MINIMUM_TEAM_SIZE}",
                subject=f"role:{role}"))
    people_on: dict[str, set[int]] = defaultdict(set)
    for kind, person_id in ListEntry.objects.active().values_list("access_list__kind",
                                                                  "person_id"):
        people_on[kind].add(person_id)
    for access_list in AccessList.objects.all():
        # A list that includes another by default (SSH includes the Physical Access List)
        # counts those people too, as list_members() shows them.
        rule = LIST_RULES[ListKind(access_list.kind)]
        on = set(people_on[access_list.kind]).union(
            *(people_on[included] for included in rule.includes_lists))
        if len(on) < MINIMUM_TEAM_SIZE:
            findings.append(Finding(
                "SP 1.2", f"the {access_list} has {len(on)} active "
                f"{'person' if len(on) == 1 else 'people'}; redundancy needs at "
                f"least {MINIMUM_TEAM_SIZE}", access_list.get_absolute_url(),
                subject=f"list:{access_list.kind}"))
    return findings


def one_team_findings() -> list[Finding]:
    """SP 9.1.2: an individual is active in at most one of the critical teams."""
    findings: list[Finding] = []
    active = Membership.objects.active().select_related("team", "person")
    teams_of_person: dict[int, set[str]] = defaultdict(set)
    for membership in active:
        if membership.team.kind in CRITICAL_TEAMS:
            teams_of_person[membership.person_id].add(membership.team.name)
    for membership in active:
        teams = teams_of_person.get(membership.person_id, set())
        if len(teams) > 1 and membership.team.name == min(teams):
            findings.append(Finding(
                "SP 9.1.2",
                f"{membership.person} is active in {len(teams)} teams "
                f"({', '.join(sorted(teams))}); an individual is active in at most one",
                membership.person.get_absolute_url(), subject=f"person:{membership.person_id}",
            ))
    return findings


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


def board_approval_findings() -> list[Finding]:
    """SP 3.4.2: every change of personnel on a list was approved by a carried Board
    decision; an entry that was not is evidence of a change made around secman."""
    findings = []
    entries = ListEntry.objects.select_related(
        "access_list", "person", "added_by__decision", "removed_by__decision")
    for entry in entries:
        for change, proposal in (("addition", entry.added_by), ("removal", entry.removed_by)):
            if proposal is None:
                continue
            if proposal.status != ProposalStatus.APPROVED or proposal.decision is None \
                    or not proposal.decision.carried:
                findings.append(Finding(
                    SECTION, f"the {change} of {entry.person} on the {entry.access_list} has "
                    "no carried Board decision behind it", entry.access_list.get_absolute_url(),
                    subject=f"entry:{entry.pk}:{change}"))
    return findings


OWNER = TeamKind.BOARD
CONTROLS = [
    Control("people.redundancy", ("SP 1.2", "SP 9.1.2"),
            "Every team, access list and critical role has at least two active people "
            "(the manual asks for three per team: fewer is shown as a warning).",
            OWNER, check=redundancy_findings),
    Control("people.one_team", ("SP 9.1.2",),
            "Nobody is active in more than one of the critical teams.", OWNER,
            check=one_team_findings),
    Control("people.list_exclusivity", ("SP 3.4.2",),
            "Everyone on an access list holds its role, and nobody sits on lists or in roles "
            "that exclude each other.", OWNER, check=list_findings),
    Control("people.list_changes_approved", ("SP 3.4.2", "SP 9.1.5"),
            "Every change of personnel on an access list was approved by the Board.", OWNER,
            check=board_approval_findings),
]
