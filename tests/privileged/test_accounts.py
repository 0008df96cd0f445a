"""Accounts and admin origins (secman.privileged.accounts): the register's rules, refusals
that write nothing, an Event Log entry for each change."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.privileged import accounts
from secman.privileged.models import Account, AdminOrigin
from secman.systems.models import System
from tests.privileged.support import critical

pytestmark = pytest.mark.django_db


def entries() -> int:
    return Event.objects.filter(action__startswith="privileged.").count()


def test_personal_privileged_and_service_accounts(org):
    system = critical()
    mine = accounts.add_account(actor=org.sam, system=system, username="sid", kind="personal",
                                person=org.sid, authority="SM 3.4.3")
    accounts.add_account(actor=org.sam, system=system, username="postgres",
                         kind="service", purpose="database", authority="SM 4.1.1")
    entry = Event.objects.get(action="privileged.account.add", subject_id=str(mine.pk))
    assert entry.details["person"] == "Sid" and entry.details["kind"] == "personal"
    removed = accounts.remove_account(actor=org.sam, account=mine, reason="moved",
                                      authority="SM 3.4.3")
    assert removed.removed_at and removed.removed_by == org.sam
    with pytest.raises(RuleViolation):
        accounts.remove_account(actor=org.sam, account=removed, reason="again",
                                authority="SM 3.4.3")
    # Removed, the name and the person's personal account may be registered again.
    accounts.add_account(actor=org.sam, system=system, username="sid", kind="personal",
                         person=org.sid, authority="SM 3.4.3")


@pytest.mark.parametrize(("username", "kind", "who", "field"), [
    ("sid", "personal", None, "person"),          # personal names its person
    ("postgres", "service", "sid", "person"),     # a service account names nobody
    ("Root", "privileged", None, "username"),
    ("", "privileged", None, "username"),
    ("x" * 33, "privileged", None, "username"),
    ("ok", "admin", None, "kind"),
    ("sid2", "personal", "sue", "person"),        # sue has one already
    ("sue", "privileged", None, "username"),      # the name is taken
])
def test_refusals_write_nothing(org, username, kind, who, field):
    system = critical()
    accounts.add_account(actor=org.sam, system=system, username="sue", kind="personal",
                         person=org.sue, authority="SM 3.4.3")
    before = (Account.objects.count(), entries())
    with pytest.raises(RuleViolation) as refused:
        accounts.add_account(actor=org.sam, system=system, username=username, kind=kind,
                             person=getattr(org, who) if who else None, authority="SM 3.4.3")
    assert refused.value.field == field and refused.value.section
    assert (Account.objects.count(), entries()) == before


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_any_user_name_is_taken_or_refused_clearly(org, name):
    system = critical(f"c{System.objects.count()}")
    try:
        accounts.add_account(actor=org.sam, system=system, username=name, kind="service",
                             authority="SM 4.1.1")
    except RuleViolation as exc:
        assert exc.field == "username"
    else:
        assert Account.objects.filter(username=name.strip()).exists()


def test_only_systems_administrators_keep_accounts_and_origins(org):
    system = critical()
    for outsider in (org.aud, org.bea, org.otto):
        with pytest.raises(NotAllowed):
            accounts.add_account(actor=outsider, system=system, username="x",
                                 kind="service", authority="SM 4.1.1")
        with pytest.raises(NotAllowed):
            accounts.add_origin(actor=outsider, system=system, description="x",
                                authority="SM 3.4.3")
    assert entries() == 0 and not Account.objects.exists()


def test_origins_a_system_or_a_network(org):
    hop = critical("hop")
    origin = accounts.add_origin(actor=org.sam, system=hop, description="the hop machine",
                                 authority="SM 3.4.3")
    net = accounts.add_origin(actor=org.sam, network=" 192.0.2.0/28 ",
                              description="the office", authority="SM 3.4.3")
    assert net.network == "192.0.2.0/28"
    for kwargs, field in [({"system": hop, "network": "192.0.2.0/28"}, "system"),
                          ({}, "system"),
                          ({"system": hop}, "system"),               # already one
                          ({"network": "192.0.2.1/28"}, "network"),  # host bits set
                          ({"network": "0.0.0.0/0"}, "network"),
                          ({"network": "192.0.2.0/28"}, "network")]:  # already one
        before = (AdminOrigin.objects.count(), entries())
        with pytest.raises(RuleViolation) as refused:
            accounts.add_origin(actor=org.sam, description="again", authority="SM 3.4.3",
                                **kwargs)
        assert refused.value.field == field
        assert (AdminOrigin.objects.count(), entries()) == before
    ended = accounts.end_origin(actor=org.sam, origin=origin, reason="replaced",
                                authority="SM 3.4.3")
    assert ended.ended_at
    assert Event.objects.get(action="privileged.origin.end").details["reason"] == "replaced"
    with pytest.raises(RuleViolation):
        accounts.end_origin(actor=org.sam, origin=ended, reason="x", authority="SM 3.4.3")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_network_is_taken_or_refused_clearly(org, text):
    try:
        value = accounts.parse_network(text)
    except RuleViolation as exc:
        assert exc.field == "network"
    else:
        assert "/" in value
