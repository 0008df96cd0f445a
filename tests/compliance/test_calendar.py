"""Calendar feeds (issue 6, item 6): a private iCalendar feed per person and per team,
readable without a login session through the token in its URL, shown once; a wrong or
revoked token is a 404 that says nothing; the token never reaches the Event Log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from secman.compliance import services
from secman.compliance.models import CalendarFeed, Duty, Occurrence
from secman.core.roles import TeamKind
from secman.eventlog.models import Event

FEED_URL = re.compile(r"http://[^\s<\"]+/compliance/calendar/([A-Za-z0-9_-]{20,})\.ics")


@pytest.fixture
def duties(org):
    services.sync_duties()
    services.generate_occurrences()
    return {d.control_id: d for d in Duty.objects.all()}


def _make_feed(org, person, team: str = "") -> str:
    client = Client()
    client.force_login(person.user)
    response = client.post(reverse("compliance:calendar"), {"team": team})
    assert response.status_code == 200
    found = FEED_URL.findall(response.content.decode())
    assert len(found) == 1, response.content.decode()
    return found[0]


def _fetch(token: str):
    return Client().get(reverse("compliance:calendar_feed", args=[token]))  # no session


def _events(token: str) -> list:
    response = _fetch(token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_a_person_feed_shows_my_teams_duties_without_a_login(org, duties, settings):
    token = _make_feed(org, org.sid)
    events = _events(token)

    open_ones = Occurrence.objects.filter(
        duty__owner=TeamKind.SYSTEMS_ADMINISTRATION, duty__assignee__isnull=True)
    assert len(events) == open_ones.count() > 0
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    daily = Occurrence.objects.filter(duty__control_id="logs.automated_review").first()
    event = next(e for e in events if str(e["UID"]).startswith(f"secman-occurrence-{daily.pk}@"))
    assert event.decoded("DTEND") == daily.due_at
    assert event.decoded("DTSTART") < daily.due_at
    assert str(event["SUMMARY"]).startswith("SM 4.2.3 The automated log review runs daily")
    assert f"{settings.SITE_URL}/compliance/occurrences/{daily.pk}/" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    # The same feed read again gives the same UIDs: calendars update events in place.
    assert [str(e["UID"]) for e in _events(token)] == uids


def test_a_person_feed_has_nothing_of_other_teams(org, duties):
    token = _make_feed(org, org.axel)  # Access Engineer
    assert _events(token) == []


def test_a_designated_duty_shows_only_to_its_person_but_in_the_team_feed(org, duties):
    services.designate(actor=org.sam, duty=duties["logs.anomaly_examination"],
                       person=org.sue, authority="SM 5.2")

    def weekly(events):
        return [e for e in events if "SM 5.2 " in str(e["SUMMARY"])]

    assert weekly(_events(_make_feed(org, org.sue)))
    assert weekly(_events(_make_feed(org, org.sid))) == []
    team = _make_feed(org, org.sid, TeamKind.SYSTEMS_ADMINISTRATION)
    assert weekly(_events(team))
    assert len(_events(team)) == Occurrence.objects.filter(
        duty__owner=TeamKind.SYSTEMS_ADMINISTRATION).count()


def test_an_attestation_expiry_is_in_the_feed_of_those_who_can_attest(org, duties):
    services.attest(actor=org.arne, control_id="staffing.background_checks",
                    statement="All ABCs on file.", authority="SP 9.1.4.2")
    expiring = [e for e in _events(_make_feed(org, org.arne))
                if "Attestation expires" in str(e["SUMMARY"])]
    assert len(expiring) == 1
    assert expiring[0].decoded("DTEND") > timezone.now() + dt.timedelta(days=360)
    assert not [e for e in _events(_make_feed(org, org.sam))
                if "Attestation" in str(e["SUMMARY"])]


def test_nobody_makes_a_feed_of_a_team_they_are_not_in(org, duties):
    client = Client()
    client.force_login(org.axel.user)
    response = client.post(reverse("compliance:calendar"),
                           {"team": TeamKind.SYSTEMS_ADMINISTRATION})
    assert not FEED_URL.search(response.content.decode())
    assert not CalendarFeed.objects.exists()


def test_a_wrong_or_revoked_token_is_a_404_that_says_nothing(org, duties):
    token = _make_feed(org, org.sam)
    feed = CalendarFeed.objects.get()
    wrong = _fetch("x" * len(token))

    client = Client()
    client.force_login(org.sam.user)
    response = client.post(reverse("compliance:calendar_revoke", args=[feed.pk]))
    assert response.status_code == 302
    revoked = _fetch(token)

    assert wrong.status_code == revoked.status_code == 404
    assert wrong.content == revoked.content
    feed.refresh_from_db()
    assert feed.revoked_at is not None


def test_only_its_maker_revokes_a_feed(org, duties):
    _make_feed(org, org.sam)
    feed = CalendarFeed.objects.get()
    client = Client()
    client.force_login(org.sue.user)
    assert client.post(reverse("compliance:calendar_revoke", args=[feed.pk])).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_a_team_feed_stops_when_its_maker_leaves_the_team(org, duties):
    from secman.people.models import Membership

    token = _make_feed(org, org.sid, TeamKind.SYSTEMS_ADMINISTRATION)
    assert _fetch(token).status_code == 200
    Membership.objects.filter(person=org.sid).update(end=timezone.localdate())
    assert _fetch(token).status_code == 404


def test_the_url_is_shown_once_and_the_page_needs_a_login(org, duties):
    token = _make_feed(org, org.sam)
    client = Client()
    client.force_login(org.sam.user)
    page = client.get(reverse("compliance:calendar")).content.decode()
    assert token not in page
    assert "my duties" in page
    assert Client().get(reverse("compliance:calendar")).status_code == 302  # to the login


def test_the_token_never_appears_in_the_event_log(org, duties):
    token = _make_feed(org, org.sam, TeamKind.SYSTEMS_ADMINISTRATION)
    _events(token)
    feed = CalendarFeed.objects.get()
    client = Client()
    client.force_login(org.sam.user)
    client.post(reverse("compliance:calendar_revoke", args=[feed.pk]))

    actions = list(Event.objects.filter(action__startswith="compliance.calendar").order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["compliance.calendar.create", "compliance.calendar.revoke"]
    for event in Event.objects.all():
        text = f"{event.canonical} {event.details} {event.subject_label}"
        assert token not in text
        assert feed.token_sha256 not in text
