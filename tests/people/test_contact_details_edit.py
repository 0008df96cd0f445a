"""Issue 13, finding 2: the Key Persons List details (phone, chat handle, emergency
contact) are read only by the Board, the Arbitrator and the person (docs/security.md,
SP 6.4). Whoever else may edit a person (the administrator) gets an edit form without
them, and saving it keeps the recorded values."""

from __future__ import annotations

import pytest

from secman.eventlog.models import Event
from secman.people.models import Person
from secman.people.selectors import can_see_contact_details

pytestmark = pytest.mark.django_db

DETAILS = {"phone": "+00 555 7777", "chat_handle": "@lena-chat",
           "emergency_contact": "Karl Fischer, +00 555 8888"}


@pytest.fixture
def lena(org):
    Person.objects.filter(pk=org.sue.pk).update(**DETAILS)
    return Person.objects.get(pk=org.sue.pk)


def test_the_administrator_does_not_get_contact_details_in_the_edit_form(client, org, lena):
    assert not can_see_contact_details(org.admin, lena)
    client.force_login(org.admin.user)
    response = client.get(f"/people/{lena.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    for value in ["+00 555 7777", "@lena-chat", "Karl Fischer"]:
        assert value not in html
    for name in Person.CONTACT_FIELDS:
        assert f'name="{name}"' not in html
    assert 'name="name"' in html  # the administrator still records the name
    assert "Key Persons List" in html  # and is told why the fields are missing


def test_the_administrators_edit_keeps_the_contact_details(client, org, lena):
    client.force_login(org.admin.user)
    response = client.post(f"/people/{lena.pk}/edit/", {
        "name": "Sue Renamed", "email": lena.email, "member_number": "",
        "authority": "SP 9.1.3"})
    assert response.status_code == 302, response.content.decode()
    lena.refresh_from_db()
    assert lena.name == "Sue Renamed"
    assert {k: getattr(lena, k) for k in DETAILS} == DETAILS
    entry = Event.objects.filter(action="people.person.update").latest("seq")
    assert entry.details["contact_details_changed"] == []
    # Posting the fields anyway changes nothing: the form has none.
    client.post(f"/people/{lena.pk}/edit/", {
        "name": "Sue Renamed", "email": lena.email, "phone": "", "chat_handle": "",
        "emergency_contact": "", "authority": "SP 9.1.3"})
    lena.refresh_from_db()
    assert {k: getattr(lena, k) for k in DETAILS} == DETAILS


@pytest.mark.parametrize("login", ["bea", "sue"])  # the Arbitrator reads, edits nobody
def test_the_board_and_the_person_get_them(client, org, lena, login):
    client.force_login(org.people[login].user)
    html = client.get(f"/people/{lena.pk}/edit/").content.decode()
    for value in ["+00 555 7777", "@lena-chat", "Karl Fischer"]:
        assert value in html, login
    assert "Key Persons List) are not shown" not in html
