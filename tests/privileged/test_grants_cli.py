"""`secman privileged schemes|grants|secrets ...`: the services from the command line,
with their refusals as the command's error and nothing written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.cli import main
from secman.privileged.models import AuthenticationScheme, Secret, TemporaryGrant
from tests.privileged.helpers import critical, infrastructure

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(main, ["privileged", *args])


def test_schemes_grants_and_secrets_from_the_command_line(org, approve):
    critical(org, "signer")
    infrastructure(org, "hop")
    done = run("schemes", "add", "--system", "signer", "--path", "ssh_hop", "--via", "hop",
               "--authenticates", "ed25519 keys", "--refused", "passwords", "--as", "sue")
    assert done.exit_code == 0, done.output
    listed = json.loads(run("schemes", "list", "--json").stdout)
    assert [s["path"] for s in listed["schemes"]] == ["ssh_hop"]
    assert "console" in listed["findings"][0]["message"]

    until = f"{timezone.now() + dt.timedelta(days=2):%Y-%m-%dT%H:%M}"
    refused = run("grants", "add", "--person", "sue", "--system", "signer", "--reason", "x",
                  "--until", until, "--as", "sam")
    assert refused.exit_code == 1 and "not a Software Assessor" in refused.output
    assert not TemporaryGrant.objects.exists()
    done = run("grants", "add", "--person", "otto", "--system", "signer", "--reason",
               "debugging", "--until", until, "--as", "sam")
    assert done.exit_code == 0, done.output
    [grant] = json.loads(run("grants", "list", "--json", "--state", "active").stdout)["grants"]
    assert grant["person"] == "Otto"
    assert run("grants", "revoke", str(grant["id"]), "--reason", "done", "--as",
               "sam").exit_code == 0
    assert TemporaryGrant.objects.get().revoked_at is not None

    approve("console_access", org.sam)
    assert run("secrets", "add", "signer root password", "--kind", "root_password",
               "--system", "signer", "--as", "sue").exit_code == 0
    refused = run("secrets", "holder-add", "signer root password", "--person", "sid")
    assert refused.exit_code == 1 and "Console Access List" in refused.output
    assert run("secrets", "holder-add", "signer root password", "--person", "sam").exit_code == 0
    assert run("secrets", "holder-end", "signer root password", "--person", "sam",
               "--reason", "moved team").exit_code == 0
    [due] = json.loads(run("secrets", "list", "--due", "--json").stdout)
    assert "Sam stopped knowing it" in due["due"][0]
    assert run("secrets", "rotate", "signer root password", "--reason",
               "turnover").exit_code == 0
    assert json.loads(run("secrets", "list", "--due", "--json").stdout) == []
    assert Secret.objects.get().rotations.count() == 1
    assert run("secrets", "retire", "signer root password", "--reason", "signer replaced",
               "--as", "sue").exit_code == 0
    assert Secret.objects.get().retired_by == org.sue
    again = run("secrets", "retire", "signer root password", "--reason", "again")
    assert again.exit_code == 1 and "was retired on" in again.output
    assert AuthenticationScheme.objects.count() == 1
