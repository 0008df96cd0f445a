"""Who may be on site, and in which access profile (SM 2.3.1, 2.3.2)."""

from __future__ import annotations

from secman.core.roles import Role
from secman.people.choices import ListKind
from secman.people.models import Person
from secman.people.selectors import lists_of, roles_of
from secman.visits.choices import OnSiteRole

# The lists that authorise physical presence (SP 3.4.2) and the role each list is for.
PROFILES = (
    (ListKind.PHYSICAL_CONTROL, Role.ACCESS_ENGINEER, OnSiteRole.ACCESS_ENGINEER),
    (ListKind.PHYSICAL_ACCESS, Role.SYSTEMS_ADMINISTRATOR, OnSiteRole.SYSTEMS_ADMINISTRATOR),
)


def profile_of(person: Person | None) -> OnSiteRole | None:
    """The access profile a person is authorised for today: on the list for it and still
    holding its role in a team. None if neither."""
    if person is None:
        return None
    lists, roles = lists_of(person), roles_of(person)
    for kind, role, profile in PROFILES:
        if kind in lists and role in roles:
            return profile
    return None


def why_not_authorised(person: Person) -> str:
    """"" if the person is authorised; otherwise what a reader should be told."""
    if profile_of(person) is not None:
        return ""
    lists = lists_of(person)
    for kind, role, _profile in PROFILES:
        if kind in lists:
            return (f"{person} is on the {ListKind(kind).label} but is no longer "
                    f"{'an' if role.label[0] in 'AEIOU' else 'a'} {role.label} in a team")
    return (f"{person} is on neither the Physical Access List nor the Physical Control "
            "List")


def is_access_engineer(person: Person | None) -> bool:
    return profile_of(person) == OnSiteRole.ACCESS_ENGINEER
