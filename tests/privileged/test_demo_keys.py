"""The demo's keys part: signer shows one unknown key and one sshd setting that breaks
the rules, each a finding with its section; registering the key from the command line
and a new agent report with PasswordAuthentication no turn both OK."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from secman import demo
from secman.cli import main
from secman.people.models import Person
from secman.privileged.controls import key_findings
from secman.privileged.demo_keys import SIGNER_SSHD, UNKNOWN_KEY, post_report, signer_facts
from secman.systems.models import System

pytestmark = pytest.mark.django_db


def on_signer() -> dict[str, list[str]]:
    return {control: [f.section for f in found if "signer" in f.subject]
            for control, found in key_findings().items()
            if any("signer" in f.subject for f in found)}


def test_the_demo_shows_one_unknown_key_and_one_sshd_rule_broken_and_both_are_fixed():
    demo.load()
    found = on_signer()
    assert found["privileged.unknown_keys"] == ["SM 3.4.3"]
    assert found["privileged.sshd_passwordauthentication"] == ["SM 3.4.3"]
    assert not {c for c in found if c.startswith("privileged.sshd_")} - {
        "privileged.sshd_passwordauthentication"}
    result = CliRunner().invoke(main, ["privileged", "keys", "add", "--person", "piet",
                                       "--public-key", UNKNOWN_KEY])
    assert result.exit_code == 0, result.output
    assert "privileged.unknown_keys" not in on_signer()
    people = {p.user.username: p for p in Person.objects.filter(
        user__username__in=["lena", "samir", "piet"])}
    post_report(System.objects.get(name="signer"),
                signer_facts(people, [], sshd=SIGNER_SSHD | {"passwordauthentication": "no"}),
                actor=people["samir"])
    assert "privileged.sshd_passwordauthentication" not in on_signer()
