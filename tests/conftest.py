"""Shared fixtures: a small organisation built through the services, with named people
(healthchecks style), so every test reads like the policy it checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from secman.authority import services as authority_services
from secman.authority.models import BoardDecision
from secman.people import services as people_services
from secman.people.choices import Role, TeamKind
from secman.people.models import AccessList, Person, Team

PASSWORD = "test-password-for-secman"


@dataclass
class Org:
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    lists: dict[str, AccessList] = field(default_factory=dict)
    decision: BoardDecision | None = None  # carried, usable as authority

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


# login, team, role, leader
MEMBERS = [
    ("bea", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("tom", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("ida", TeamKind.BOARD, Role.BOARD_MEMBER, False),
    ("arne", TeamKind.ARBITRATION, Role.ARBITRATOR, False),
    ("cora", TeamKind.ARBITRATION, Role.CASE_MANAGER, False),
    ("axel", TeamKind.ACCESS, Role.ACCESS_ENGINEER, True),
    ("abby", TeamKind.ACCESS, Role.ACCESS_ENGINEER, False),
    ("sam", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, True),
    ("sue", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, False),
    ("sid", TeamKind.SYSTEMS_ADMINISTRATION, Role.SYSTEMS_ADMINISTRATOR, False),
    ("ola", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, True),
    ("otto", TeamKind.SOFTWARE_ASSESSMENT, Role.SOFTWARE_ASSESSOR, False),
    ("pia", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, True),
    ("pim", TeamKind.SUPPORT, Role.SUPPORT_ENGINEER, False),
    ("aud", TeamKind.AUDIT, Role.AUDITOR, False),
]


def build_org() -> Org:
    org = Org()
    start = timezone.localdate() - dt.timedelta(days=30)
    org.teams = {team.kind: team for team in Team.objects.all()}
    org.lists = {access_list.kind: access_list for access_list in AccessList.objects.all()}
    for login, *_ in MEMBERS:
        org.people[login] = people_services.create_person(
            actor=None, authority="SP 9.1.3", name=login.capitalize(),
            email=f"{login}@example.org", username=login, password=PASSWORD,
            phone=f"+00 555 {len(org.people):04d}",
        )
    org.people["nobody"] = people_services.create_person(
        actor=None, authority="SP 9.1.3", name="Nobody", email="nobody@example.org",
        username="nobody", password=PASSWORD,
    )
    org.people["admin"] = people_services.create_person(
        actor=None, authority="SP 1.2", name="Admin", email="admin@example.org",
        username="admin", password=PASSWORD, superuser=True,
    )
    for login, team, _role, _leader in MEMBERS:
        if team == TeamKind.BOARD:
            people_services.add_member(actor=None, team=org.teams[team],
                                       person=org.people[login], authority="SP 9.1.1",
                                       start=start)
    org.decision = authority_services.record_board_decision(
        actor=org.people["bea"], minute_id=f"m{start:%Y%m%d}.1", decided_on=start,
        title="Staffing", text="The Board authorises the teams as listed.",
        votes={org.people["bea"]: "aye", org.people["tom"]: "aye", org.people["ida"]: "aye"},
    )
    for login, team, role, leader in MEMBERS:
        if team != TeamKind.BOARD:
            people_services.add_member(actor=None, team=org.teams[team],
                                       person=org.people[login], role=role, is_leader=leader,
                                       start=start, authority=org.decision)
    return org


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use MD5.
    tests/core/test_settings.py checks that the real configuration uses Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db) -> Org:
    return build_org()


@pytest.fixture
def approve(org):
    """Propose and approve a list change in one step: `approve("ssh_access", org.sid)`."""

    def _approve(kind: str, person: Person, change: str = "add"):
        access_list = org.lists[kind]
        proposer = org.bea
        proposal = people_services.propose_list_change(
            actor=proposer, access_list=access_list, person=person, change=change,
            reason="test",
        )
        return people_services.approve_proposal(actor=org.tom, proposal=proposal,
                                                decision=org.decision)

    return _approve


