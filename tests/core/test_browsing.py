"""What a browser meets (issue 11): the navigation offers only pages the person may open;
an action URL reloaded or typed in leads back to its page instead of "405"; error pages
are pages; every time names its zone, in SECMAN_TIME_ZONE; /favicon.ico exists."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from secman import conf, demo
from secman.dashboard.context_processors import CHAPTERS

INVENTORY_PAGES = ["/physical/computers/", "/physical/media/", "/physical/facilities/"]


@pytest.fixture
def demo_org(db):
    demo.load()


def login(client, username: str) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username=username))


def nav_links(html: str) -> list[str]:
    nav = html[html.index('<nav id="site-nav"'):html.index("</nav>")]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("username", ["beatrix", "samir", "ursula", "aurelio", "clara",
                                      "hana", "admin"])
def test_it_offers_in_the_navigation_exactly_the_pages_the_person_may_open(
        client, demo_org, username):
    login(client, username)
    links = nav_links(client.get("/").content.decode())
    assert links[0] == "/", "Today comes first"
    every_page = [reverse(url_name) for _, _, items in CHAPTERS for url_name, *_ in items]
    for url in every_page:
        status = client.get(url).status_code
        assert status in (200, 403), (url, status)
        assert (url in links) is (status == 200), (username, url, status)


def test_the_inventory_links_follow_the_inventory_rule(client, demo_org):
    login(client, "aurelio")  # the Arbitrator: not an inventory reader (SP 2.2.1)
    links = nav_links(client.get("/").content.decode())
    assert not set(INVENTORY_PAGES) & set(links)
    login(client, "ursula")  # an auditor reads it
    links = nav_links(client.get("/").content.decode())
    assert set(INVENTORY_PAGES) <= set(links)


def test_the_page_being_shown_is_marked_in_the_navigation(client, demo_org):
    login(client, "samir")
    html = client.get("/events/").content.decode()
    assert '<a href="/events/" aria-current="page">Event Log</a>' in html


def test_an_action_url_opened_without_a_form_leads_to_its_page(client, demo_org):
    from secman.people.models import ListChangeProposal

    login(client, "beatrix")
    proposal = ListChangeProposal.objects.filter(status="pending").first()
    for url, page in [
        (f"/people/proposals/{proposal.pk}/approve/", f"/people/proposals/{proposal.pk}/"),
        (f"/people/proposals/{proposal.pk}/withdraw/", f"/people/proposals/{proposal.pk}/"),
        ("/events/verify/", "/events/"),
        ("/compliance/report/jobs/", "/compliance/report/"),
        ("/compliance/controls/logs.automated_review/attest/",
         "/compliance/controls/logs.automated_review/"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == page
        assert client.get(page).status_code == 200
    assert client.put(f"/people/proposals/{proposal.pk}/approve/").status_code == 405


def test_an_action_url_opened_without_a_form_changes_nothing(client, demo_org):
    from secman.eventlog.models import Event
    from secman.people.models import ListChangeProposal

    login(client, "beatrix")
    proposal = ListChangeProposal.objects.filter(status="pending").first()
    before = Event.objects.count()
    client.get(f"/people/proposals/{proposal.pk}/approve/")
    client.get(f"/people/proposals/{proposal.pk}/withdraw/")
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    assert Event.objects.count() == before


def test_the_error_pages_are_pages(client, demo_org):
    login(client, "aurelio")
    response = client.get("/physical/computers/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    assert "SP 2.2.1" in response.content.decode()  # the rule, not only "no"
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_a_server_error_shows_its_page_without_a_database(settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # as django.views.defaults.server_error does
    assert "<h1>Server error</h1>" in html
    assert "Nothing was recorded" in html
    assert "/static/secman/secman.css" in html


def test_a_form_posted_without_its_token_is_explained(demo_org):
    csrf_client = Client(enforce_csrf_checks=True)
    login(csrf_client, "samir")
    response = csrf_client.post("/visits/new/", {"purpose": "x"})
    assert response.status_code == 403
    assert "Form expired" in response.content.decode()


def test_the_favicon_is_there_before_signing_in(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/secman/favicon.svg")


# --- times ----------------------------------------------------------------------------------


def test_times_are_shown_24_hour_with_their_zone(client, demo_org):
    login(client, "samir")
    html = client.get("/events/").content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d [0-2]\d:[0-5]\d UTC", html)
    assert not re.search(r"\b(a\.m\.|p\.m\.|AM|PM)\b", html)


def test_times_are_shown_in_the_configured_zone(client, demo_org, settings):
    from secman.eventlog.models import Event

    settings.TIME_ZONE = "Europe/Amsterdam"
    timezone.deactivate()  # the current zone follows the setting
    latest = Event.objects.order_by("-seq").first()
    local = timezone.localtime(latest.recorded_at, dt.timezone(dt.timedelta(hours=1)))
    login(client, "samir")
    html = client.get(f"/events/{latest.seq}/").content.decode()
    assert f"{local:%Y-%m-%d %H:%M}" in html
    assert re.search(r"\d\d:\d\d:\d\d\.\d+ CES?T", html)  # the zone named, not "UTC"


def test_it_reads_a_time_zone(monkeypatch):
    monkeypatch.setenv("SECMAN_TIME_ZONE", "Europe/Amsterdam")
    assert conf.envzone("SECMAN_TIME_ZONE", "UTC") == "Europe/Amsterdam"
    monkeypatch.delenv("SECMAN_TIME_ZONE")
    assert conf.envzone("SECMAN_TIME_ZONE", "UTC") == "UTC"


@pytest.mark.parametrize("raw", ["Mars/Olympus", "CEST+2", "../../etc/passwd", "/etc/localtime"])
def test_it_refuses_a_time_zone_it_does_not_know(monkeypatch, raw):
    monkeypatch.setenv("SECMAN_TIME_ZONE", raw)
    with pytest.raises(ImproperlyConfigured, match=r"SECMAN_TIME_ZONE=.* is not a time zone"):
        conf.envzone("SECMAN_TIME_ZONE", "UTC")


# --- a record's history follows the Event Log's access rule (SM 4.2.2) ---------------------


def test_a_records_history_hides_what_the_event_log_hides(client, demo_org):
    from secman.eventlog.models import Event
    from secman.physical.models import Computer

    computer = Computer.objects.first()
    entries = Event.objects.filter(subject_type="physical.computer", subject_id=str(computer.pk))
    actor = entries.exclude(actor=None).first().actor_label
    assert entries.first().retention_class == "configuration"  # restricted to sysadmins
    login(client, "ursula")  # an auditor reads the inventory, not restricted payloads
    html = client.get(f"/physical/computers/{computer.pk}/").content.decode()
    history = html[html.rindex("<table"):]
    assert "restricted to Systems Administrators" in history
    assert actor not in history
    event_page = client.get(f"/events/{entries.first().seq}/").content.decode()
    assert actor not in event_page  # the same rule as the Event Log page
    login(client, "samir")  # a Systems Administrator sees them
    html = client.get(f"/physical/computers/{computer.pk}/").content.decode()
    history = html[html.rindex("<table"):]
    assert actor in history
    assert "restricted to Systems Administrators" not in history
