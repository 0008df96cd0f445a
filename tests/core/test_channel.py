"""The CLI's acting person is honest (issue 12, item 5): entries say which way an action
came (web, api, cli) and, through the command line, which operating-system user ran it;
one operating-system user fills at most one slot of a sign-off through the command line,
whatever `--as` says."""

from __future__ import annotations

import getpass

import pytest
from click.testing import CliRunner
from django.db import transaction

from secman.authority import services as authority
from secman.authority.models import SignOff
from secman.authority.signoff import TASK, dual_control
from secman.cli import main
from secman.core import channel
from secman.core.roles import Role
from secman.eventlog import bundle, services, verification, verify
from secman.eventlog.models import Event
from secman.physical import services as physical
from tests.conftest import PASSWORD

OPERATOR = {"channel": "cli", "os_user": getpass.getuser()}


@pytest.fixture
def acquired(org):
    return physical.create_computer(
        actor=org.axel, authority="SP 2.2.1.1", asset_tag="CA-0001", nickname="signer",
        vendor="Acme", model="R1", serial_number="SN-1", maintenance_contact="Acme",
        rack_location="Rack 3", intended_use="signing", acquisition_notes="sealed box")


@pytest.fixture
def request_for_two(org):
    return authority.request_signoff(actor=org.sam, action=TASK, title="Replace a disk",
                                     requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
                                     authority="SP 1.2")


def test_an_entry_made_through_the_command_line_names_the_channel_and_os_user(
        org, acquired):
    result = CliRunner().invoke(main, ["physical", "computer-step", "CA-0001", "inventory",
                                       "--as", "axel"])
    assert result.exit_code == 0, result.output
    entry = Event.objects.get(action="physical.computer.inventory")
    assert entry.actor_id == org.axel.pk  # the person --as named, as in the web pages...
    assert entry.details["via"] == OPERATOR  # ...and who really typed it, and how
    assert '"via":{"channel":"cli","os_user":' in entry.canonical  # hashed with the entry


def test_the_os_user_is_the_numeric_uid_when_it_has_no_name(monkeypatch):
    def no_name() -> str:
        raise KeyError("getpwuid(): uid not found")

    monkeypatch.setattr(getpass, "getuser", no_name)
    assert channel.os_user().startswith("uid ")
    assert channel.os_user().removeprefix("uid ").isdigit()


def test_web_and_api_entries_name_their_channel(client, org):
    assert client.post("/login/", {"username": "sue", "password": PASSWORD}).status_code == 302
    assert Event.objects.get(action="login.succeeded").details["via"] == {"channel": "web"}
    assert client.post("/api/me/token/").status_code in (200, 201)
    assert Event.objects.get(action="people.api_token.issue").details["via"] == {
        "channel": "api"}


def test_a_service_called_directly_names_no_channel(org):
    assert channel.current() is None
    assert "via" not in Event.objects.order_by("-seq").first().details


def test_the_channel_comes_back_after_a_command(org, acquired):
    CliRunner().invoke(main, ["physical", "computer-step", "CA-0001", "inventory",
                              "--as", "axel"])
    assert channel.current() is None  # a later test or request is not "cli"


def test_no_service_can_write_the_channel_itself(org):
    with pytest.raises(ValueError, match="via"), transaction.atomic():
        services.record("tests.thing", actor=None, authority="SM 4.2",
                        details={"via": {"channel": "web"}})


def test_entries_with_a_channel_verify_online_and_offline(org, acquired, tmp_path):
    CliRunner().invoke(main, ["physical", "computer-step", "CA-0001", "inventory",
                              "--as", "axel"])
    assert verification.verify_chain() == []
    bundle.export(tmp_path / "bundle")
    assert verify.main([str(tmp_path / "bundle")]) == 0


def test_a_slot_signed_through_the_command_line_records_the_os_user(org, request_for_two):
    result = CliRunner().invoke(main, ["signoff", "sign", str(request_for_two.pk),
                                       "--as", "sam"])
    assert result.exit_code == 0, result.output
    signature = SignOff.objects.get(request=request_for_two)
    assert (signature.person, signature.channel, signature.os_user) == (
        org.sam, "cli", getpass.getuser())
    assert Event.objects.get(action="signoff.sign").details["via"] == OPERATOR


def test_one_os_user_cannot_fill_two_slots_through_the_command_line(org, request_for_two):
    runner = CliRunner()
    assert runner.invoke(main, ["signoff", "sign", str(request_for_two.pk),
                                "--as", "sam"]).exit_code == 0
    entries = Event.objects.count()
    second = runner.invoke(main, ["signoff", "sign", str(request_for_two.pk), "--as", "sue"])
    assert second.exit_code == 1
    assert f"operating-system user {getpass.getuser()!r} has signed a slot" in second.output
    assert "SP 1.2" in second.output
    assert SignOff.objects.filter(request=request_for_two).count() == 1
    assert Event.objects.count() == entries
    request_for_two.refresh_from_db()
    assert request_for_two.status == "pending"
    # Sue signing as herself, in the web pages, completes it.
    with channel.using(channel.Channel(channel.WEB)):
        authority.sign(actor=org.sue, request=request_for_two)
    request_for_two.refresh_from_db()
    assert request_for_two.status == "complete"
    assert list(SignOff.objects.filter(request=request_for_two)
                .values_list("channel", flat=True)) == ["cli", "web"]


def test_another_os_user_may_fill_the_other_slot_through_the_command_line(
        org, request_for_two):
    with channel.using(channel.Channel(channel.CLI, "alice")):
        authority.sign(actor=org.sam, request=request_for_two)
    with channel.using(channel.Channel(channel.CLI, "bob")):
        authority.sign(actor=org.sue, request=request_for_two)
    request_for_two.refresh_from_db()
    assert request_for_two.status == "complete"


def test_the_signoff_list_shows_the_open_slots(org, request_for_two):
    result = CliRunner().invoke(main, ["signoff", "list"])
    assert result.exit_code == 0, result.output
    assert "Replace a disk" in result.output and "person 1" in result.output
