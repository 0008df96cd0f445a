"""Notifications travel through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import pytest
from django.db import transaction

from secman.authority import services as authority_services
from secman.authority.signoff import TASK, dual_control
from secman.core.roles import Role
from secman.people import services as people_services
from tests.conftest import free_port


def test_it_tells_the_board_about_a_proposal(org, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people_services.propose_list_change(
            actor=org.sam, access_list=org.lists["physical_access"], person=org.sid,
            change="add", reason="Hardware recovery.",
        )
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert sorted(recipients) == ["bea@example.org", "ida@example.org", "tom@example.org"]
    assert message["Subject"] == "[secman] A change to the Physical Access List waits for the Board"
    body = message.get_payload()
    assert "add Sid to the Physical Access List" in body
    assert "Hardware recovery." in body
    assert "/people/proposals/" in body


def test_it_tells_the_proposer_the_boards_answer(org, smtp, django_capture_on_commit_callbacks):
    proposal = people_services.propose_list_change(
        actor=org.sam, access_list=org.lists["physical_access"], person=org.sid,
        change="add", reason="Hardware recovery.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        people_services.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    assert [recipients for recipients, _ in smtp.messages] == [["sam@example.org"]]
    assert org.decision.minute_id in smtp.messages[0][1].get_payload()


def test_it_asks_everyone_who_could_sign_except_the_requester(
    org, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        authority_services.request_signoff(
            actor=org.sue, action=TASK, title="Swap the disk",
            requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR), authority="SM 2.2.3",
        )
    recipients, message = smtp.messages[0]
    assert sorted(recipients) == ["sam@example.org", "sid@example.org"]
    assert message["Subject"] == "[secman] Sign-off needed: Swap the disk"


def test_it_sends_nothing_for_an_action_that_was_rolled_back(
    org, smtp, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        people_services.propose_list_change(
            actor=org.sam, access_list=org.lists["physical_access"], person=org.sid,
            change="add", reason="Hardware recovery.",
        )
        raise RuntimeError("the caller fails after the service call")
    assert callbacks == []
    assert smtp.messages == []


def test_it_keeps_the_action_when_the_mail_server_is_down(
    org, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        proposal = people_services.propose_list_change(
            actor=org.sam, access_list=org.lists["physical_access"], person=org.sid,
            change="add", reason="Hardware recovery.",
        )
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    assert "could not send notification" in caplog.text
