"""Issue 13, finding 1: only a Board member or an Arbitrator accepts a deviation from the
policy (docs/compliance.md, SP 1.2, 9.1.5). The administrator records on the Board's
behalf and approves nothing (docs/security.md), so it is refused on every channel, and a
refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.compliance import services
from secman.compliance.models import Acceptance
from secman.core.errors import NotAllowed
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db

CONTROL = "logs.automated_review"


def probe(org) -> dict:
    return {"kind": "exception", "reason": "probe",
            "expires_on": f"{timezone.localdate() + dt.timedelta(days=200):%Y-%m-%d}",
            "authority": org.decision.minute_id}


def test_the_administrator_cannot_accept_an_exception_through_the_api(org):
    client = APIClient()
    client.force_authenticate(org.admin.user)
    before = Event.objects.count()
    response = client.post(f"/api/compliance/controls/{CONTROL}/accept/", probe(org),
                           format="json")
    assert response.status_code == 403, response.content
    assert "Board members and Arbitrators" in response.json()["detail"]
    assert Event.objects.count() == before and not Acceptance.objects.exists()


def test_the_administrator_cannot_accept_an_exception_through_the_page(client, org):
    client.force_login(org.admin.user)
    before = Event.objects.count()
    page = client.get(f"/compliance/controls/{CONTROL}/").content.decode()
    assert f"/compliance/controls/{CONTROL}/accept/" not in page  # no form offered
    response = client.post(f"/compliance/controls/{CONTROL}/accept/", probe(org), follow=True)
    assert "only Board members and Arbitrators record accepted exceptions" \
        in response.content.decode()
    assert Event.objects.count() == before and not Acceptance.objects.exists()


def test_the_administrator_cannot_accept_or_withdraw_through_the_service(org):
    assert not services.may_accept(org.admin)
    before = Event.objects.count()
    with pytest.raises(NotAllowed, match="only Board members and Arbitrators"):
        services.accept(actor=org.admin, control_id=CONTROL, kind="exception",
                        reason="probe", authority=org.decision,
                        expires_on=timezone.localdate() + dt.timedelta(days=200))
    acceptance = services.accept(actor=org.bea, control_id=CONTROL, kind="exception",
                                 reason="recruiting", authority=org.decision,
                                 expires_on=timezone.localdate() + dt.timedelta(days=200))
    before = Event.objects.count()
    with pytest.raises(NotAllowed, match="only Board members and Arbitrators"):
        services.withdraw_acceptance(actor=org.admin, acceptance=acceptance,
                                     authority=org.decision)
    acceptance.refresh_from_db()
    assert acceptance.withdrawn_at is None and Event.objects.count() == before


@pytest.mark.parametrize("login", ["bea", "arne"])
def test_a_board_member_or_arbitrator_accepts_through_the_api(org, login):
    client = APIClient()
    client.force_authenticate(org.people[login].user)
    response = client.post(f"/api/compliance/controls/{CONTROL}/accept/", probe(org),
                           format="json")
    assert response.status_code == 201, response.content
    assert Acceptance.objects.get().accepted_by == org.people[login]
