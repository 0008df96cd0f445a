"""Support (SP/SM 8): no action on a Member's account without its authority, an
Arbitrator's instruction quoted by its token, the code-signing role for Assurers only,
logged channels, Triage without access, and the filing decisions for the weekly review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority.arbitration import file_case
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.support import controls, reviews, services
from secman.support.models import SupportAction

pytestmark = pytest.mark.django_db


def _case(org, number: str = "a20261201.1"):
    return file_case(actor=org.cora, number=number, title="Account of a deceased member",
                     filed_on=dt.date(2026, 12, 1), arbitrator=org.arne, case_manager=org.cora)


def _channel(org, logged: bool = True):
    return services.record_channel(actor=org.pia, name="support@", kind="mail",
                                   address="support@example.org", logged=logged,
                                   logging="mail archive on the support VM" if logged else "")


def test_an_action_without_authority_is_refused_and_one_with_a_token_is_recorded(org):
    before = Event.objects.count()
    for refused in ({"authority_kind": ""},
                    {"authority_kind": "member_request"},  # no channel nor message
                    {"authority_kind": "arbitrator", "token": "a20261201.1-guess"}):
        with pytest.raises(RuleViolation):
            services.perform_action(actor=org.pim, member="m@example.org",
                                    kind="password_reset", interface="admin console",
                                    **refused)
    assert Event.objects.count() == before and not SupportAction.objects.exists()

    instruction = services.issue_instruction(actor=org.arne, case=_case(org),
                                             member="m@example.org",
                                             instruction="lock the account from logging in")
    with pytest.raises(RuleViolation, match=r"about m@example\.org, not x@example\.org"):
        services.perform_action(actor=org.pim, member="x@example.org", kind="role_grant",
                                role="lock_login", authority_kind="arbitrator",
                                token=instruction.token, interface="admin console")
    action = services.perform_action(actor=org.pim, member="M@example.org", kind="role_grant",
                                     role="lock_login", authority_kind="arbitrator",
                                     token=instruction.token, interface="admin console")
    assert action.instruction == instruction
    entry = Event.objects.get(action="support.action")
    assert entry.authority == "a20261201.1"
    assert (entry.details["instruction_id"], entry.details["interface"]) == (
        instruction.pk, "admin console")
    assert instruction.token not in entry.canonical  # the token itself stays out of the log


def test_only_the_cases_arbitrator_instructs(org):
    case = _case(org)
    with pytest.raises(NotAllowed):
        services.issue_instruction(actor=org.pim, case=case, member="m", instruction="x")
    other = org.people["arne"]
    assert case.arbitrator == other
    services.issue_instruction(actor=other, case=case, member="m", instruction="x")


def test_a_members_request_names_its_channel_and_code_signing_is_for_assurers(org):
    channel = _channel(org)
    with pytest.raises(RuleViolation, match="Assurers only"):
        services.perform_action(actor=org.pim, member="m@example.org", kind="role_grant",
                                role="code_signing", authority_kind="member_request",
                                channel=channel, message_reference="ticket 4711",
                                interface="admin console")
    with pytest.raises(RuleViolation, match="not a role"):
        services.perform_action(actor=org.pim, member="m@example.org", kind="role_grant",
                                role="root", authority_kind="member_request",
                                channel=channel, message_reference="ticket 4711",
                                interface="admin console")
    services.perform_action(actor=org.pim, member="m@example.org", kind="role_grant",
                            role="code_signing", member_is_assurer=True,
                            authority_kind="member_request", channel=channel,
                            message_reference="ticket 4711", interface="admin console")
    with pytest.raises(NotAllowed):
        services.perform_action(actor=org.sam, member="m@example.org", kind="lookup",
                                authority_kind="member_request", channel=channel,
                                message_reference="ticket 4712", interface="admin console")


def test_an_unlogged_channel_in_use_is_a_violation(org):
    assert [f.status for f in controls.channels_logged()] == [Status.NOT_EVIDENCED]
    _channel(org, logged=False)
    assert [f.status for f in controls.channels_logged()] == [Status.VIOLATED]
    with pytest.raises(NotAllowed):
        services.record_channel(actor=org.pim, name="irc", kind="chat", address="#se",
                                logged=True, logging="bot")


def test_triage_is_for_assurers_and_holds_no_access(org):
    with pytest.raises(RuleViolation, match="Assurers"):
        services.appoint_triage(actor=org.pia, name="Tia", email="tia@example.org",
                                assurer=False, agreed_at=timezone.localdate())
    services.appoint_triage(actor=org.pia, name="Tia", email="tia@example.org",
                            assurer=True, agreed_at=timezone.localdate())
    assert controls.triage_without_access() == []
    services.appoint_triage(actor=org.pia, name="Pim", email="pim@example.org",
                            assurer=True, agreed_at=timezone.localdate())
    found = controls.triage_without_access()
    assert len(found) == 1 and "Support Engineer" in found[0].message


def test_filing_decisions_show_on_the_weekly_review(org):
    services.record_filing(actor=org.pim, request_reference="ticket 4711",
                           decision="not_file", reason="the Member withdrew the request")
    now = timezone.now()
    shown = reviews.context(now - dt.timedelta(days=7), now + dt.timedelta(minutes=1))
    assert [f.reason for f in shown["filings"]] == ["the Member withdrew the request"]
    with pytest.raises(RuleViolation, match="only when a dispute is filed"):
        services.record_filing(actor=org.pim, request_reference="t", decision="not_file",
                               reason="r", case=_case(org))


def test_an_ad_hoc_query_runs_only_once_its_cases_arbitrator_approved_it(org):
    case = _case(org)
    asked = services.request_query(actor=org.pim, purpose="members in Brazil for the event",
                                   query="SELECT count(*) FROM users WHERE country='BR'",
                                   case=case)
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="not approved"):
        services.record_query_run(actor=org.sam, query=asked, rows=1,
                                  result_handling="count mailed to the events team")
    with pytest.raises(NotAllowed, match="Arbitrator"):
        services.decide_query(actor=org.cora, query=asked, approve=True)
    assert Event.objects.count() == before
    services.decide_query(actor=org.arne, query=asked, approve=True)
    with pytest.raises(NotAllowed):
        services.record_query_run(actor=org.pim, query=asked, rows=1, result_handling="x")
    ran = services.record_query_run(actor=org.sam, query=asked, rows=1,
                                    result_handling="the count mailed to the events team")
    assert ran.rows == 1
    assert [e.action for e in Event.objects.filter(seq__gt=before).order_by("seq")] == [
        "support.query.approve", "support.query.run"]
