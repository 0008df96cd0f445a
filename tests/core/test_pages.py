"""Every page answers, to every kind of reader, under the strict CSP, and only after login."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from secman import demo

PAGES = [
    "/", "/people/", "/people/new/", "/people/teams/", "/people/teams/access/",
    "/people/lists/", "/people/lists/ssh_access/", "/people/proposals/",
    "/people/proposals/?status=pending", "/authority/decisions/", "/authority/decisions/new/",
    "/authority/cases/", "/authority/cases/new/", "/authority/signoffs/",
    "/authority/signoffs/?status=all", "/authority/signoffs/new/", "/events/",
    "/events/?action=people.list.approve",
]


# form -> who of beatrix (Board), samir (team leader), ursula (auditor) and admin may use it
FORMS = {
    "/people/new/": {"beatrix", "samir", "admin"},
    "/authority/decisions/new/": {"beatrix", "admin"},
    "/authority/cases/new/": {"admin"},
    "/authority/signoffs/new/": {"beatrix", "samir"},
}


def login(client, username: str) -> None:
    # force_login: axes needs the request that client.login() does not pass; the login
    # form itself is tested with real posts below.
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username=username))


@pytest.fixture
def demo_org(db):
    demo.load()


@pytest.mark.parametrize("username", ["beatrix", "samir", "ursula", "admin"])
def test_it_serves_every_page_to_every_kind_of_reader(client, demo_org, username):
    login(client, username)
    from secman.authority.models import SignOffRequest
    from secman.eventlog.models import Event
    from secman.people.models import ListChangeProposal, Person

    # Ids, not 1: PostgreSQL does not reset its sequences between tests.
    detail_pages = [
        f"/people/{Person.objects.first().pk}/",
        f"/people/proposals/{ListChangeProposal.objects.first().pk}/",
        f"/authority/signoffs/{SignOffRequest.objects.first().pk}/",
        f"/events/{Event.objects.last().seq}/", "/events/checkpoints/", "/events/keys.txt",
        f"/events/{Event.objects.last().seq}/proof.json",
    ]
    for url in PAGES + detail_pages:
        response = client.get(url)
        # A form is shown to those who may submit it (tests/core/authorisation_table.py
        # has every page for every kind of person).
        expected = 200 if username in FORMS.get(url, {username}) else 403
        assert response.status_code == expected, (url, response.status_code)


def test_it_sends_a_strict_content_security_policy(client, demo_org):
    login(client, "beatrix")
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


def test_it_has_no_inline_scripts_or_styles(client, demo_org):
    login(client, "beatrix")
    for url in PAGES:
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html, url
        assert "<style" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_it_sends_anonymous_readers_to_the_login_page(client, demo_org):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_it_shows_contact_details_only_to_the_board_arbitrator_and_the_person(client, demo_org):
    from secman.people.models import Person

    lena = Person.objects.get(user__username="lena")
    url = f"/people/{lena.pk}/"
    for username, sees in [("beatrix", True), ("aurelio", True), ("lena", True),
                           ("samir", False), ("ursula", False), ("admin", False)]:
        login(client, username)
        html = client.get(url).content.decode()
        assert (lena.phone in html) is sees, username
        assert (lena.emergency_contact.split(",")[0] in html) is sees, username
        client.logout()


def test_it_logs_in_through_the_form(client, demo_org):
    response = client.post("/login/", {"username": "samir", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert "Samir Haddad" in client.get("/").content.decode()


def test_it_locks_a_login_after_repeated_failures(client, demo_org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": "samir", "password": "wrong password"})
    response = client.post("/login/", {"username": "samir", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 429
    assert b"Login locked" in response.content
    assert client.get("/").status_code == 302  # still not logged in


def test_it_shows_the_key_persons_list_to_the_board_and_arbitrator_only(client, demo_org):
    for username, status in [("beatrix", 200), ("aurelio", 200), ("samir", 403),
                             ("ursula", 403), ("admin", 403)]:
        login(client, username)
        response = client.get("/people/key-persons/")
        assert response.status_code == status, username
        if status == 200:
            assert "+00 555 0108" in response.content.decode()  # Samir's demo phone
        else:
            assert "+00 555" not in response.content.decode()
        client.logout()


def test_today_lists_a_staffing_finding_once(client, org):
    """Staffing findings have their own section; the Board's failing controls leave out
    the controls behind them (people.redundancy would otherwise show twice)."""
    from secman.people import services
    from secman.people.models import Membership

    services.end_membership(actor=org.bea, membership=Membership.objects.active().get(
        person=org.pia), authority="SP 9.1.7", reason="resignation")
    client.force_login(org.bea.user)
    page = client.get("/").content.decode()
    assert "Support" in page.split("<h2>Findings</h2>", 1)[1]  # the finding, once
    assert 'href="/compliance/controls/people.redundancy/"' not in page
