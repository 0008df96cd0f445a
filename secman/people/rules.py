"""SP 3.4.2's table of access control lists, as data.

Each list is for holders of one role ("Who"), is managed by one team's leader
("Manager") and stands in a relationship to the other lists ("Relationship"). The
relationship column is read as exclusions between lists and between a list and roles;
exclusions are symmetric (if A excludes B, nobody on B may join A either).
"""

from __future__ import annotations

from dataclasses import dataclass

from secman.core.roles import Role, TeamKind
from secman.people.choices import ListKind


@dataclass(frozen=True)
class ListRule:
    kind: ListKind
    who: Role
    purpose: str
    relationship: str
    manager: TeamKind
    excludes_roles: frozenset[Role] = frozenset()
    excludes_lists: frozenset[ListKind] = frozenset()
    # Everyone on these lists is on this one too, without a separate entry.
    includes_lists: frozenset[ListKind] = frozenset()


SECTION = "SP 3.4.2"

LIST_RULES: dict[ListKind, ListRule] = {
    rule.kind: rule
    for rule in (
        ListRule(
            kind=ListKind.PHYSICAL_CONTROL,
            who=Role.ACCESS_ENGINEER,
            purpose="control of access by personnel to hardware",
            relationship="exclusive of all other roles",
            manager=TeamKind.ACCESS,
            excludes_roles=frozenset(
                {Role.SYSTEMS_ADMINISTRATOR, Role.SOFTWARE_ASSESSOR, Role.SUPPORT_ENGINEER}
            ),
            excludes_lists=frozenset(set(ListKind) - {ListKind.PHYSICAL_CONTROL}),
        ),
        ListRule(
            kind=ListKind.PHYSICAL_ACCESS,
            who=Role.SYSTEMS_ADMINISTRATOR,
            purpose="hardware-level for installation and recovery",
            relationship="exclusive with Access Engineers and Software Assessors",
            manager=TeamKind.SYSTEMS_ADMINISTRATION,
            excludes_roles=frozenset({Role.ACCESS_ENGINEER, Role.SOFTWARE_ASSESSOR}),
            excludes_lists=frozenset({ListKind.PHYSICAL_CONTROL, ListKind.REPOSITORY_ACCESS}),
        ),
        ListRule(
            kind=ListKind.SSH_ACCESS,
            who=Role.SYSTEMS_ADMINISTRATOR,
            purpose="Unix / account / shell level",
            relationship="includes by default all on Physical Access List",
            manager=TeamKind.SYSTEMS_ADMINISTRATION,
            includes_lists=frozenset({ListKind.PHYSICAL_ACCESS}),
        ),
        ListRule(
            kind=ListKind.REPOSITORY_ACCESS,
            who=Role.SOFTWARE_ASSESSOR,
            purpose="change the source code repository",
            relationship="exclusive with Access Engineers and Systems Administrators",
            manager=TeamKind.SOFTWARE_ASSESSMENT,
            excludes_roles=frozenset({Role.ACCESS_ENGINEER, Role.SYSTEMS_ADMINISTRATOR}),
            excludes_lists=frozenset(
                {ListKind.PHYSICAL_CONTROL, ListKind.PHYSICAL_ACCESS, ListKind.SSH_ACCESS}
            ),
        ),
        ListRule(
            kind=ListKind.SUPPORT_ACCESS,
            who=Role.SUPPORT_ENGINEER,
            purpose="support features in the web application",
            relationship="exclusive with Access Engineers and Systems Administrators",
            manager=TeamKind.SUPPORT,
            excludes_roles=frozenset({Role.ACCESS_ENGINEER, Role.SYSTEMS_ADMINISTRATOR}),
            excludes_lists=frozenset(
                {ListKind.PHYSICAL_CONTROL, ListKind.PHYSICAL_ACCESS, ListKind.SSH_ACCESS}
            ),
        ),
        # Not in SP 3.4.2's table: SM 4.1.1 restricts the root passwords (emergency access
        # from the physical console) to this list and cites 3.4.2 for it. Its rules are
        # read from the SM: the root passwords open every account, so the list is for
        # Systems Administrators and excludes whoever the Physical Access List excludes.
        ListRule(
            kind=ListKind.CONSOLE_ACCESS,
            who=Role.SYSTEMS_ADMINISTRATOR,
            purpose="root passwords for emergency access from the console (SM 4.1.1)",
            relationship="exclusive with Access Engineers and Software Assessors",
            manager=TeamKind.SYSTEMS_ADMINISTRATION,
            excludes_roles=frozenset({Role.ACCESS_ENGINEER, Role.SOFTWARE_ASSESSOR}),
            excludes_lists=frozenset({ListKind.PHYSICAL_CONTROL, ListKind.REPOSITORY_ACCESS,
                                      ListKind.SUPPORT_ACCESS}),
        ),
    )
}


def excludes(a: ListKind, b: ListKind) -> bool:
    """True if nobody may be on both lists."""
    return b in LIST_RULES[a].excludes_lists or a in LIST_RULES[b].excludes_lists
