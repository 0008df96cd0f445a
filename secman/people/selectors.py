"""Questions about people that services, views and the API all ask the same way."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from secman.core.errors import RuleViolation
from secman.core.roles import Role
from secman.people.choices import ListKind
from secman.people.models import AccessList, ListEntry, Membership, Person
from secman.people.rules import LIST_RULES


def roles_of(person: Person | None, on: dt.date | None = None) -> set[Role]:
    """The roles a person holds on a day: from their active memberships; leading a team
    makes them a Team Leader as well."""
    if person is None or person.pk is None:
        return set()
    roles: set[Role] = set()
    for role, is_leader in (
        Membership.objects.active(on).filter(person=person).values_list("role", "is_leader")
    ):
        roles.add(Role(role))
        if is_leader:
            roles.add(Role.TEAM_LEADER)
    return roles


def holds_any(person: Person | None, *roles: Role, on: dt.date | None = None) -> bool:
    return bool(roles_of(person, on) & set(roles))


def is_administrator(person: Person | None) -> bool:
    """The secman administrator enters data on behalf of the Board (people, teams,
    minutes); it signs nothing and approves nothing."""
    user = getattr(person, "user", None)
    return bool(user and user.is_active and user.is_superuser)


def leads(person: Person | None, team_kind: str) -> bool:
    if person is None:
        return False
    return (
        Membership.objects.active()
        .filter(person=person, team__kind=team_kind, is_leader=True)
        .exists()
    )


def is_member(person: Person | None, team_kind: str) -> bool:
    """Active in a team of that kind now (as leader or member)."""
    return person is not None and Membership.objects.active().filter(
        person=person, team__kind=team_kind).exists()


def teams_of(person: Person | None) -> set[str]:
    """The kinds of the teams a person is active in now."""
    if person is None:
        return set()
    return set(Membership.objects.active().filter(person=person)
               .values_list("team__kind", flat=True))


def team_leader(team_kind: str) -> Person | None:
    membership = (
        Membership.objects.active()
        .filter(team__kind=team_kind, is_leader=True)
        .select_related("person")
        .first()
    )
    return membership.person if membership else None


def may_see_key_persons(person: Person | None) -> bool:
    """The Key Persons List (SP 9.1.4.3, 10.1): the Board and the Arbitrator."""
    return holds_any(person, Role.BOARD_MEMBER, Role.ARBITRATOR)


def can_see_contact_details(viewer: Person | None, person: Person) -> bool:
    """Key Persons List details: the Board, the Arbitrator and the person themself."""
    if viewer is None:
        return False
    if viewer.pk == person.pk:
        return True
    return may_see_key_persons(viewer)


def is_board_member(person: Person | None) -> bool:
    return holds_any(person, Role.BOARD_MEMBER)


def manages_list(person: Person | None, access_list: AccessList) -> bool:
    """SP 3.4.2 "Manager": the leader of the team that manages the list."""
    return leads(person, access_list.manager.kind)


def lists_of(person: Person) -> set[str]:
    """The kinds of the lists a person is on by an entry of their own."""
    return set(
        ListEntry.objects.active().filter(person=person).values_list(
            "access_list__kind", flat=True
        )
    )


def list_members(access_list: AccessList) -> list[tuple[Person, str]]:
    """(person, how) for everyone on the list now: by their own entry or by default."""
    rule = LIST_RULES[ListKind(access_list.kind)]
    members = [(e.person, "entry") for e in ListEntry.objects.active()
               .filter(access_list=access_list).select_related("person")]
    seen = {person.pk for person, _ in members}
    for entry in (ListEntry.objects.active().filter(access_list__kind__in=rule.includes_lists)
                  .select_related("person", "access_list")):
        if entry.person_id not in seen:
            members.append((entry.person, f"by default, via the {entry.access_list}"))
            seen.add(entry.person_id)
    return sorted(members, key=lambda pair: pair[0].name)


def person_by_login_or_email(ref: str) -> Person:
    """The person a command names: by their login (exactly) or their email (in any case).
    Refused when nobody has it, or when it names more than one person (one's login may be
    another's email, and emails are unique only as written)."""
    found = list(Person.objects.filter(Q(user__username=ref) | Q(email__iexact=ref))
                 .distinct().order_by("name"))
    if not found:
        raise RuleViolation(f"no person has the login or email {ref!r}", field="person")
    if len(found) > 1:
        names = ", ".join(person.name for person in found)
        raise RuleViolation(f"{ref!r} names more than one person ({names}): give a login or "
                            "email that only one of them has", field="person")
    return found[0]
