"""The demo's support: the support mailbox and the ticket system, logged, and the
engineers' IRC room, not logged (a finding); an Arbitrator's instruction under the
running case, acted on with its token; a Member's own request for the code-signing flag,
granted to an Assurer; one Triage member; two filing decisions for the weekly review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.support import services


def load(people_by_login: dict[str, Any]) -> None:
    hana, diego = people_by_login["hana"], people_by_login["diego"]
    mailbox = services.record_channel(
        actor=hana, name="support@", kind="mail", address="support@example.org", logged=True,
        logging="mail archive on the support VM, kept two years")
    tickets = services.record_channel(
        actor=hana, name="OTRS", kind="tickets", address="https://otrs.example.org",
        logged=True, logging="the ticket history")
    services.record_channel(actor=hana, name="#se", kind="chat", address="irc #se",
                            logged=False)
    case = ArbitrationCase.objects.filter(status=CaseStatus.RUNNING).order_by("pk").first()
    if case is not None and case.arbitrator is not None:
        instruction = services.issue_instruction(
            actor=case.arbitrator, case=case, member="member-4711@example.net",
            instruction="lock the account from logging in while the case runs")
        services.perform_action(
            actor=diego, member="member-4711@example.net", kind="role_grant",
            role="lock_login", authority_kind="arbitrator", token=instruction.token,
            interface="website admin console: account flags")
    services.perform_action(
        actor=diego, member="member-2202@example.net", kind="role_grant", role="code_signing",
        member_is_assurer=True, authority_kind="member_request", channel=tickets,
        message_reference="Ticket#2026120410000012",
        interface="website admin console: account flags")
    services.perform_action(
        actor=diego, member="member-3001@example.net", kind="password_reset",
        authority_kind="member_request", channel=mailbox,
        message_reference="<20261203.1844@mail.example.net>",
        interface="website admin console: password reset", note="identity checked by a "
        "challenge the Member set")
    services.appoint_triage(actor=hana, name="Tomás Ruiz", email="tomas@example.net",
                            assurer=True,
                            agreed_at=timezone.localdate() - dt.timedelta(days=40))
    services.record_filing(actor=diego, request_reference="Ticket#2026120210000031",
                           decision="not_file",
                           reason="a forgotten password, resolved by the Member's own reset")
    services.record_filing(actor=diego, request_reference="Ticket#2026120310000007",
                           decision="file", reason="a Member asks to have an assurance "
                           "removed that another Member disputes")
