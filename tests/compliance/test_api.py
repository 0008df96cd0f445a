"""The compliance API: statuses with findings, and the actions through the services,
refusals answered with the service's message and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.compliance import services
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db


def api(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


@pytest.fixture
def duties(org):
    started = timezone.now() - dt.timedelta(days=3)
    services.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    services.generate_occurrences()


def test_it_lists_every_control_with_its_status_and_findings(org, duties):
    body = api(org.aud).get("/api/compliance/controls/").json()
    by_id = {item["id"]: item for item in body}
    assert by_id["logs.automated_review"]["status"] == "overdue"
    assert by_id["logs.automated_review"]["findings"][0]["url"].startswith(
        "/compliance/occurrences/")
    assert by_id["eventlog.verified"]["status"] == "not_evidenced"
    one = api(org.aud).get("/api/compliance/controls/eventlog.verified/").json()
    assert one["sections"] == ["SM 4.2.3", "SP 4.2.1"]
    assert api(org.aud).get("/api/compliance/controls/no.such/").status_code == 404


def test_it_completes_an_occurrence_and_refuses_one_without_evidence(org, duties):
    occurrence = Occurrence.objects.filter(duty__control_id="logs.automated_review",
                                           due_at__lte=timezone.now()).first()
    url = f"/api/occurrences/{occurrence.pk}/complete/"
    before = Event.objects.count()
    refused = api(org.sam).post(url, {"note": ""}, format="json")
    assert refused.status_code == 400
    assert "completed with evidence" in refused.json()["detail"]
    assert api(org.axel).post(url, {"note": "x"}, format="json").status_code == 403
    assert Event.objects.count() == before
    done = api(org.sam).post(url, {"note": "read it", "event_seq": before}, format="json")
    assert done.status_code == 200 and done.json()["status"] == OccurrenceStatus.DONE
    assert done.json()["event_seq"] == before
    listed = api(org.aud).get("/api/occurrences/?control=logs.automated_review&status=done")
    assert [o["id"] for o in listed.json()["results"]] == [occurrence.pk]


def test_attest_and_accept_go_through_the_services(org):
    refused = api(org.bea).post("/api/compliance/controls/staffing.background_checks/attest/",
                                {"statement": "ok", "authority": "SP 9.1.4"}, format="json")
    assert refused.status_code == 403
    made = api(org.arne).post("/api/compliance/controls/staffing.background_checks/attest/",
                              {"statement": "files reviewed", "authority": "SP 9.1.4"},
                              format="json")
    assert made.status_code == 201
    no_expiry = api(org.bea).post("/api/compliance/controls/people.redundancy/accept/", {
        "kind": "exception", "reason": "recruiting", "authority": org.decision.minute_id},
        format="json")
    assert no_expiry.status_code == 400 and no_expiry.json()["field"] == "expires_on"
