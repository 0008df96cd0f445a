"""Every command that names a person (`--as`, `--person`, `--present`, `--holder`) finds
them the same way: by login, or by email in any case; nobody, or more than one person,
is refused with a message that says which."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.people import services
from secman.people.selectors import person_by_login_or_email
from secman.physical import services as physical_services
from secman.physical.models import Computer
from tests.conftest import PASSWORD


@pytest.fixture
def impostor(org):
    """A login that reads like another person's email (Django allows @ in logins)."""
    return services.create_person(actor=None, authority="SP 9.1.3", name="Impostor",
                                  email="impostor@example.org", username="sam@example.org",
                                  password=PASSWORD)


@pytest.fixture
def rack(org):
    computer = physical_services.create_computer(
        actor=org.axel, authority="SP 2.2.1.1", asset_tag="CA-0001", nickname="signer",
        vendor="Acme", model="R1", serial_number="SN-1", maintenance_contact="Acme support",
        rack_location="Rack 3, U12", intended_use="signing server",
        acquisition_notes="Bought anonymously from stock, sealed box.")
    physical_services.inventory_computer(actor=org.axel, computer=computer)
    return physical_services.put_in_service(actor=org.axel, computer=computer,
                                            legal_owner="Hosting Foundation")


def test_it_finds_a_person_by_login(org):
    assert person_by_login_or_email("sam") == org.sam


def test_it_finds_a_person_by_email_in_any_case(org):
    assert person_by_login_or_email("Sam@Example.ORG") == org.sam


def test_a_login_is_matched_exactly(org):
    with pytest.raises(RuleViolation, match="no person has the login or email 'SAM'"):
        person_by_login_or_email("SAM")


def test_it_refuses_a_name_nobody_has(org):
    with pytest.raises(RuleViolation) as refused:
        person_by_login_or_email("nemo")
    assert refused.value.message == "no person has the login or email 'nemo'"
    assert refused.value.field == "person"


def test_it_refuses_a_name_that_is_one_login_and_another_email(org, impostor):
    with pytest.raises(RuleViolation) as refused:
        person_by_login_or_email("sam@example.org")
    assert refused.value.message == (
        "'sam@example.org' names more than one person (Impostor, Sam): give a login or "
        "email that only one of them has")
    # Each can still be named by what only they have.
    assert person_by_login_or_email("impostor@example.org") == impostor
    assert person_by_login_or_email("sam") == org.sam


def test_one_person_by_login_and_email_alike_is_not_ambiguous(org):
    services.create_person(actor=None, authority="SP 9.1.3", name="Eve", email="eve@example.org",
                           username="eve@example.org", password=PASSWORD)
    assert person_by_login_or_email("eve@example.org").name == "Eve"


def test_the_physical_commands_take_an_email_too(org, rack):
    done = CliRunner().invoke(main, ["physical", "computer-step", "CA-0001", "service_risk",
                                     "--as", "AXEL@example.org", "--note", "vendor repair"])
    assert done.exit_code == 0, done.output
    assert Computer.objects.get(asset_tag="CA-0001").status == "must_retire"


@pytest.mark.parametrize("command", [
    ["physical", "computer-step", "CA-0001", "service_risk", "--note", "repair", "--as"],
    ["visits", "devices", "add", "--kind", "rack_key", "--label", "Rack 3 key",
     "--controlling-party", "BIT", "--as"],
])
def test_every_command_refuses_an_unknown_or_ambiguous_person_alike(org, rack, impostor,
                                                                     command):
    entries = Event.objects.count()
    runner = CliRunner()
    unknown = runner.invoke(main, [*command, "nemo"])
    assert unknown.exit_code == 1
    assert "no person has the login or email 'nemo'" in unknown.output
    ambiguous = runner.invoke(main, [*command, "sam@example.org"])
    assert ambiguous.exit_code == 1
    assert "'sam@example.org' names more than one person" in ambiguous.output
    assert Event.objects.count() == entries
