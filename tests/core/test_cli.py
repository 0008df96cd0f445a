"""The `secman` command (secman.cli.main), driven through click's CliRunner."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model

from secman.cli import main
from secman.eventlog.models import Event
from secman.people.models import Person

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ["createadmin", "--username", "root", "--name", "Rosa Admin", "--email",
         "root@example.org", "--password-stdin"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_it_lists_its_commands_and_mentions_djangos(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "demo", "createadmin"):
        assert command in result.output
    assert "Every Django management command works as well" in result.output
    assert "secman migrate" in result.output


def test_it_explains_serve(runner):
    result = runner.invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--demo", "--host", "--port", "--workers"):
        assert option in result.output
    assert "gunicorn" in result.output
    assert "127.0.0.1" in result.output


def test_it_refuses_a_port_out_of_range(runner):
    result = runner.invoke(main, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "70000" in result.output


def test_it_fails_on_an_unknown_command(runner):
    result = runner.invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_it_hands_other_commands_to_django(runner):
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "System check identified" in result.output


def test_it_hands_options_to_django_commands(runner):
    result = runner.invoke(main, ["check", "--tag", "nonsense-tag"])
    assert result.exit_code != 0
    assert "nonsense-tag" in result.output


@pytest.mark.django_db
def test_it_loads_the_demo_into_an_empty_database_and_only_once(runner):
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo logins" in result.output
    assert "beatrix" in result.output
    assert "demo-secman-2026" in result.output
    people = Person.objects.count()
    assert people > 10
    events = Event.objects.count()

    again = runner.invoke(main, ["demo"])
    assert again.exit_code == 1
    assert "already holds people" in again.output
    assert "empty database" in again.output
    assert Person.objects.count() == people
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_it_creates_the_administrator(runner):
    result = runner.invoke(main, ADMIN, input="a-long-passphrase-for-rosa\n")
    assert result.exit_code == 0, result.output
    assert "Administrator 'root' created" in result.output
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser and user.is_staff
    assert user.check_password("a-long-passphrase-for-rosa")
    person = Person.objects.get(user=user)
    assert (person.name, person.email) == ("Rosa Admin", "root@example.org")
    event = Event.objects.get(action="people.person.create")
    assert event.actor is None
    assert event.actor_label == "secman command line"
    assert event.details["administrator"] is True
    assert "a-long-passphrase-for-rosa" not in event.canonical


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "words"), [
    ("short", "too short"),
    ("password123456", "too common"),
    ("", "too short"),
])
def test_it_refuses_a_weak_administrator_password_and_writes_nothing(runner, password, words):
    result = runner.invoke(main, ADMIN, input=f"{password}\n")
    assert result.exit_code == 1
    assert words in result.output
    assert not get_user_model().objects.exists()
    assert not Person.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_second_administrator_with_the_same_login(runner):
    assert runner.invoke(main, ADMIN, input="a-long-passphrase-for-rosa\n").exit_code == 0
    again = runner.invoke(main, [*ADMIN[:6], "other@example.org", "--password-stdin"],
                          input="a-long-passphrase-for-rosa\n")
    assert again.exit_code == 1
    assert "the login name 'root' is taken" in again.output
    assert Person.objects.count() == 1


def test_it_reports_a_bad_configuration_without_a_traceback(tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SECMAN_", "DATABASE_URL", "DJANGO_"))}
    environment |= {"SECMAN_DATA_DIR": str(tmp_path), "SECMAN_DEBUG": "maybe"}
    result = subprocess.run(
        [sys.executable, "-c", "from secman.cli import main; main()", "check"],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "SECMAN_DEBUG='maybe' is not a yes/no value" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_operator_resets_a_password_and_the_log_says_so_without_it(runner, org):
    new = "reset by the operator 2026"
    result = runner.invoke(main, ["changepassword", "sam", "--password-stdin"],
                           input=f"{new}\n")
    assert result.exit_code == 0, result.output
    assert "The password of 'sam' was reset." in result.output
    org.sam.user.refresh_from_db()
    assert org.sam.user.check_password(new)
    [entry] = Event.objects.filter(action="login.password_reset")
    assert entry.actor is None and entry.actor_label == "secman changepassword (operator)"
    # ...and which operating-system user ran the command (docs/eventlog.md, "Channel").
    assert entry.subject_id == str(org.sam.pk) and entry.details == {
        "login": "sam", "via": {"channel": "cli", "os_user": getpass.getuser()}}
    assert new not in entry.canonical


@pytest.mark.parametrize(("login", "password", "words"), [
    ("nosuchlogin", "a long enough password 2026", "there is no login 'nosuchlogin'"),
    ("sam", "password", "This password is too common."),
])
def test_a_refused_reset_says_why_and_changes_nothing(runner, org, login, password, words):
    before = Event.objects.count()
    result = runner.invoke(main, ["changepassword", login, "--password-stdin"],
                           input=f"{password}\n")
    assert result.exit_code == 1 and words in result.output
    assert Event.objects.count() == before
    org.sam.user.refresh_from_db()
    assert not org.sam.user.check_password(password)


@pytest.mark.django_db
def test_djangos_createsuperuser_is_refused_for_createadmin(runner):
    users = get_user_model().objects.count()
    result = runner.invoke(main, ["createsuperuser", "--username", "x", "--noinput"])
    assert result.exit_code == 2
    assert "`secman createadmin` makes the administrator login" in result.output
    assert get_user_model().objects.count() == users
