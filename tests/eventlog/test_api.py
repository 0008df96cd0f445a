"""Reading the Event Log through the API: filters, single entries, and no way to write."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.eventlog.models import Event


@pytest.fixture
def client(org):
    client = APIClient()
    client.force_login(org.aud.user)  # the read-only Auditor reads the whole log
    return client


def test_it_lists_events_newest_first(org, client):
    body = client.get("/api/events/").json()
    assert body["count"] == Event.objects.count()
    seqs = [event["seq"] for event in body["results"]]
    assert seqs == sorted(seqs, reverse=True)


def test_it_filters_by_action_and_by_the_actions_under_it(org, client, approve):
    approve("physical_access", org.sue)
    exact = client.get("/api/events/?action=people.list.approve").json()["results"]
    assert [event["action"] for event in exact] == ["people.list.approve"]
    under = client.get("/api/events/?action=people.list").json()["results"]
    assert [event["action"] for event in under] == ["people.list.approve",
                                                    "people.list.propose"]


def test_it_filters_by_actor(org, client, approve):
    approve("physical_access", org.sue)  # proposed by Bea, approved by Tom
    events = client.get(f"/api/events/?actor={org.tom.pk}").json()["results"]
    # Tom also confirmed the minutes of the organisation's decision (conftest).
    assert [event["action"] for event in events] == ["people.list.approve",
                                                     "authority.decision.confirm"]
    assert events[0]["actor_label"] == f"Tom (#{org.tom.pk})"


def test_it_filters_by_day(org, client):
    today = timezone.now().date()  # UTC, as the log records
    yesterday = today - dt.timedelta(days=1)
    assert client.get(f"/api/events/?since={today}").json()["count"] == Event.objects.count()
    assert client.get(f"/api/events/?until={yesterday}").json()["count"] == 0
    assert client.get(f"/api/events/?since={yesterday}&until={today}").json()["count"] > 0


def test_it_says_what_a_filter_accepts(org, client):
    response = client.get("/api/events/?since=last+week&actor=bea")
    assert response.status_code == 400
    assert response.json() == {
        "since": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "actor": ["A valid integer is required."],
    }
    response = client.get("/api/events/?since=2026-02-02&until=2026-02-01")
    assert response.json() == {"until": ["until is the same day as since or later"]}


def test_it_shows_one_entry_with_the_bytes_that_were_hashed(org, client, approve):
    approve("physical_access", org.sue)
    event = Event.objects.get(action="people.list.approve")
    body = client.get(f"/api/events/{event.seq}/").json()
    assert body["subject"] == {"type": "people.listchangeproposal", "id": event.subject_id,
                               "label": event.subject_label}
    assert body["authority"] == org.decision.minute_id
    assert body["details"]["person"] == "Sue"
    leaf = hashlib.sha256(b"\x00" + body["canonical"].encode()).hexdigest()
    assert leaf == body["leaf_hash"]  # RFC 9162 leaf hash of the stored bytes
    previous = client.get(f"/api/events/{event.seq - 1}/").json()
    assert body["prev_hash"] == previous["leaf_hash"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_offers_no_way_to_write_the_log(org, method):
    client = APIClient()
    client.force_login(org.admin.user)  # not even the administrator
    before = Event.objects.count()
    url = "/api/events/" if method == "post" else f"/api/events/{before}/"
    response = getattr(client, method)(url, {"action": "x"}, format="json")
    assert response.status_code == 405
    assert Event.objects.count() == before
