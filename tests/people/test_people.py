"""Recording people and their contact details (SP 1.1.1, 9.1.4.3, 10.1)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from secman.core.accounts import person_for_user
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.people import services
from secman.people.models import Person
from secman.people.selectors import can_see_contact_details, is_administrator

pytestmark = pytest.mark.django_db

User = get_user_model()


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def actions_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


def create(org, actor="bea", **fields):
    values = {"name": "Nina Park", "email": "nina@example.org"} | fields
    return services.create_person(actor=getattr(org, actor) if actor else None,
                                  authority="SP 9.1.3", **values)


def test_it_records_a_person_with_a_login(org):
    seq = last_seq()
    nina = create(org, email=" Nina@Example.ORG ", member_number="M-77", phone="+00 555 7777",
                  username="nina", password="a-long-passphrase-for-nina")
    assert nina.email == "nina@example.org"
    assert nina.user.username == "nina"
    assert nina.user.check_password("a-long-passphrase-for-nina")
    assert not nina.user.is_superuser
    assert person_for_user(nina.user) == nina
    assert actions_since(seq) == ["people.person.create"]
    event = Event.objects.get(seq=seq + 1)
    assert event.actor == org.bea
    assert event.details["contact_details_given"] == ["phone"]
    assert event.details["member_number"] == "M-77"
    # The number as typed (with its space): digits alone could turn up in a hash.
    assert "555 7777" not in event.canonical


def test_it_lets_a_team_leader_record_a_person(org):
    assert create(org, actor="sam").pk


@pytest.mark.parametrize("login", ["sue", "aud", "nobody", "arne"])
def test_it_refuses_people_recorded_by_others(org, login):
    seq = last_seq()
    with pytest.raises(NotAllowed):
        create(org, actor=login)
    assert not Person.objects.filter(email="nina@example.org").exists()
    assert actions_since(seq) == []


def test_it_makes_administrators_only_on_the_command_line(org):
    with pytest.raises(NotAllowed, match="createadmin"):
        create(org, actor="admin", username="root", password="a-long-passphrase-for-root",
               superuser=True)
    assert not User.objects.filter(username="root").exists()
    root = create(org, actor=None, username="root", password="a-long-passphrase-for-root",
                  superuser=True)
    assert is_administrator(root)
    assert Event.objects.get(subject_id=str(root.pk)).actor_label == "secman command line"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "  "}, "name", "needs a name"),
        ({"email": "not-an-address"}, "email", "not an email address"),
        ({"email": "SUE@example.org"}, "email", "already has the email"),
        ({"member_number": "X" * 41}, "member_number", "longer than 40"),
        ({"phone": "1" * 61}, "phone", "longer than 60"),
        ({"username": "SAM", "password": "a-long-passphrase-for-sam"}, "username", "taken"),
        ({"username": "nina", "password": "short"}, "password", "too short"),
        ({"username": "nina", "password": "password1234"}, "password", "too common"),
        ({"username": "nina", "password": "493817264910"}, "password", "entirely numeric"),
        ({"password": "a-long-passphrase"}, "username", "needs a login name"),
        ({"username": "nina park!", "password": "a-long-passphrase"}, "username", "username"),
    ],
)
def test_it_refuses_bad_input_and_writes_nothing(org, fields, field, words):
    people, users, seq = Person.objects.count(), User.objects.count(), last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        create(org, **fields)
    assert words in str(exc_info.value)
    assert exc_info.value.field == field
    assert (Person.objects.count(), User.objects.count()) == (people, users)
    assert actions_since(seq) == []


def test_it_refuses_a_duplicate_member_number(org):
    create(org, member_number="M-1")
    with pytest.raises(RuleViolation, match="member number M-1"):
        create(org, email="other@example.org", member_number="M-1")
    # Without a number, any number of people.
    create(org, email="a@example.org")
    create(org, email="b@example.org")


def test_it_lets_people_change_their_own_contact_details(org):
    seq = last_seq()
    services.update_person(actor=org.sue, person=org.sue, authority="SP 10.1",
                           phone="+00 555 1234", chat_handle="@sue:chat.example.org")
    org.sue.refresh_from_db()
    assert org.sue.phone == "+00 555 1234"
    assert actions_since(seq) == ["people.person.update"]
    event = Event.objects.get(seq=seq + 1)
    assert event.details == {"changed": {},
                             "contact_details_changed": ["chat_handle", "phone"]}


def test_it_keeps_a_persons_name_and_email_for_the_board(org):
    with pytest.raises(NotAllowed, match="Board"):
        services.update_person(actor=org.sue, person=org.sue, authority="SP 10.1",
                               name="Susan")
    with pytest.raises(NotAllowed):
        services.update_person(actor=org.sam, person=org.sue, authority="SP 10.1",
                               phone="+00 1")
    org.sue.refresh_from_db()
    assert org.sue.name == "Sue"
    seq = last_seq()
    services.update_person(actor=org.bea, person=org.sue, authority="SP 10.1", name="Susan")
    event = Event.objects.get(seq=seq + 1)
    assert event.details["changed"] == {"name": {"from": "Sue", "to": "Susan"}}
    services.update_person(actor=org.admin, person=org.sue, authority="SP 10.1",
                           email="susan@example.org")
    org.sue.refresh_from_db()
    assert (org.sue.name, org.sue.email) == ("Susan", "susan@example.org")


def test_it_refuses_updates_that_change_nothing_or_unknown_fields(org):
    seq = last_seq()
    with pytest.raises(RuleViolation, match="nothing to change"):
        services.update_person(actor=org.bea, person=org.sue, authority="SP 10.1", name="Sue")
    with pytest.raises(RuleViolation, match="cannot change"):
        services.update_person(actor=org.bea, person=org.sue, authority="SP 10.1",
                               user="x")
    with pytest.raises(RuleViolation, match="already has the email"):
        services.update_person(actor=org.bea, person=org.sue, authority="SP 10.1",
                               email="sam@example.org")
    with pytest.raises(RuleViolation, match="free text"):
        services.update_person(actor=org.bea, person=org.sue, authority="because",
                               name="Susan")
    assert actions_since(seq) == []


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("sue", True), ("bea", True), ("arne", True), ("sam", False), ("cora", False),
     ("aud", False), ("nobody", False), (None, False)],
)
def test_it_shows_contact_details_to_the_board_the_arbitrator_and_the_person(org, viewer,
                                                                               sees):
    person = getattr(org, viewer) if viewer else None
    assert can_see_contact_details(person, org.sue) is sees
