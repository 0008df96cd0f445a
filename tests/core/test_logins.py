"""Sign-ins, refused sign-ins and sign-outs through the login page are Event Log entries
of the login class (SM 4.2.1), whose payload only Systems Administrators read (SM 4.2.2);
what a visitor types as a login name is kept only when it is an existing login."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.eventlog.models import Event, RetentionClass
from tests.conftest import PASSWORD

WEB = {"channel": "web"}  # the channel of an entry made through the pages (core.channel)


def login_entries() -> list[Event]:
    return list(Event.objects.filter(retention_class=RetentionClass.LOGIN).order_by("seq"))


def sign_in(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_a_sign_in_is_recorded_with_who_and_from_where(client, org):
    assert sign_in(client, org.sam.user.username, PASSWORD) == 302
    [entry] = login_entries()
    assert entry.action == "login.succeeded" and entry.authority == "SM 4.2.1"
    assert entry.actor == org.sam and entry.subject_id == str(org.sam.pk)
    assert entry.details == {"login": org.sam.user.username, "address": "127.0.0.1",
                             "via": WEB}


def test_a_wrong_password_is_recorded_against_the_account_by_nobody_known(client, org):
    assert sign_in(client, org.sam.user.username, "not the password") == 200
    [entry] = login_entries()
    assert entry.action == "login.failed"
    assert entry.actor is None and entry.actor_label == "visitor (not logged in)"
    assert entry.subject_id == str(org.sam.pk)
    assert entry.details == {"login": org.sam.user.username, "address": "127.0.0.1",
                             "via": WEB}
    assert "_auth_user_id" not in client.session


def test_an_unknown_name_is_not_kept(client, org):
    typed = "correct horse battery staple"  # a password typed into the name field
    assert sign_in(client, typed, "x") == 200
    [entry] = login_entries()
    assert entry.details == {"login": None, "address": "127.0.0.1", "unknown_login": True,
                             "via": WEB}
    assert entry.subject_id == ""
    assert not Event.objects.filter(canonical__contains="horse").exists()


def test_attempts_after_the_lockout_are_recorded_as_locked_out(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert sign_in(client, org.sam.user.username, "wrong") == 200
    assert sign_in(client, org.sam.user.username, "wrong") == 429  # the limit: locked
    # Locked out: even the right password is refused, unchecked, and that is recorded.
    assert sign_in(client, org.sam.user.username, PASSWORD) == 429
    assert "_auth_user_id" not in client.session
    entries = login_entries()
    assert [e.action for e in entries] == ["login.failed"] * 3
    # The second locked the name (from this address), the third met the lock.
    assert [e.details.get("locked_out", False) for e in entries] == [False, True, True]


def test_an_empty_form_is_not_an_attempt(client, org):
    assert sign_in(client, "", "") == 200
    assert login_entries() == []


def test_a_sign_out_is_recorded(client, org):
    sign_in(client, org.sue.user.username, PASSWORD)
    assert client.post("/logout/").status_code == 302
    assert [e.action for e in login_entries()] == ["login.succeeded", "logout"]
    assert login_entries()[-1].actor == org.sue


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.text(max_size=300), password=st.text(min_size=1, max_size=50))
def test_any_typed_name_gets_the_form_again_and_one_entry(client, org, typed, password):
    from axes.utils import reset

    reset()  # a name hypothesis repeats must not run into the lockout
    before = len(login_entries())
    assert sign_in(client, typed, password) == 200
    entries = login_entries()
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.action == "login.failed"
    assert entry.actor_label == "visitor (not logged in)"
    if entry.details["login"] is None:  # not a login: what was typed is nowhere in it
        assert entry.details == {"login": None, "address": "127.0.0.1",
                                 "unknown_login": True, "via": WEB}
        assert entry.subject_label == "" and entry.subject_id == ""
    else:
        assert entry.details["login"] == typed


# --- changing my own password ---------------------------------------------------------------

NEW_PASSWORD = "a new and long passphrase 2026"


def change(client: Client, current: str, new: str, again: str | None = None):
    return client.post("/password/", {"old_password": current, "new_password1": new,
                                      "new_password2": new if again is None else again})


@pytest.mark.parametrize(("current", "new", "again", "message"), [
    ("not it", NEW_PASSWORD, None, "The current password is not right."),
    (PASSWORD, NEW_PASSWORD, "something else", "The two new passwords differ."),
    (PASSWORD, "password", None, "This password is too common."),
    (PASSWORD, PASSWORD, None, "The new password is the current one."),
])
def test_a_refused_password_change_says_why_and_changes_nothing(client, org, current, new,
                                                                again, message):
    client.force_login(org.sam.user)
    before = Event.objects.count()
    response = change(client, current, new, again)
    assert response.status_code == 200
    assert message in response.content.decode()
    org.sam.user.refresh_from_db()
    assert org.sam.user.check_password(PASSWORD)
    assert Event.objects.count() == before


def test_a_password_change_keeps_me_signed_in_and_is_recorded_without_the_password(
        client, org):
    client.force_login(org.sam.user)
    assert 'href="/password/"' in client.get("/").content.decode()
    response = change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200  # still signed in
    [entry] = Event.objects.filter(action="login.password_change")
    assert entry.actor == org.sam and entry.retention_class == RetentionClass.LOGIN
    assert entry.details == {"login": org.sam.user.username, "via": WEB}
    assert NEW_PASSWORD not in entry.canonical and PASSWORD not in entry.canonical
    fresh = Client()
    assert sign_in(fresh, org.sam.user.username, PASSWORD) == 200
    assert sign_in(fresh, org.sam.user.username, NEW_PASSWORD) == 302


def test_the_password_page_needs_a_login_and_its_csrf_token(org):
    anonymous = Client()
    assert anonymous.get("/password/").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(org.sam.user)
    assert change(strict, PASSWORD, NEW_PASSWORD).status_code == 403
    org.sam.user.refresh_from_db()
    assert org.sam.user.check_password(PASSWORD)


def test_guessing_the_current_password_counts_towards_the_lockout(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client.force_login(org.sam.user)
    first = change(client, "a guess", NEW_PASSWORD)
    assert first.status_code == 200
    assert "The current password is not right." in first.content.decode()
    assert change(client, "another guess", NEW_PASSWORD).status_code == 429  # the limit
    refused = change(client, PASSWORD, NEW_PASSWORD)  # even the right one, now
    assert refused.status_code == 429
    assert "Too many failed login attempts" in refused.content.decode()
    org.sam.user.refresh_from_db()
    assert org.sam.user.check_password(PASSWORD)
    # The same lockout holds at the login page, from this address.
    assert sign_in(Client(), org.sam.user.username, PASSWORD) == 429
