"""The demo's findings, one of each kind issue 15 names, and how each is fixed: signer
shows one unknown key and one sshd setting that breaks the rules (registering the key
from the command line and a new agent report with PasswordAuthentication no turn both
OK), the key of an expired grant and a leaver's open checklist."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from secman import demo
from secman.cli import main
from secman.people.models import Membership, Person
from secman.privileged.controls import CONTROLS, key_findings
from secman.privileged.demo_keys import SIGNER_SSHD, UNKNOWN_KEY, post_report, signer_facts
from secman.privileged.models import TerminationChecklist
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


def chapter(control: str) -> list:
    return next(c for c in CONTROLS if c.id == control).check()


def test_the_demo_shows_an_expired_grant_and_a_leavers_checklist_and_both_are_fixed():
    """The other two findings the issue names: the key of an expired grant still on
    signer (SP 4.1.1.1) and a leaver's open checklist (SM 9.1.7). A new report without
    the key, and the checklist's steps done with evidence and closed from the command
    line, turn both OK."""
    demo.load()
    [grant] = chapter("privileged.grant_keys_removed")
    assert grant.section == "SP 4.1.1.1" and "still on signer" in grant.message
    [checklist_finding] = chapter("privileged.checklists_closed")
    assert checklist_finding.section == "SM 9.1.7"

    people = {p.user.username: p for p in Person.objects.filter(
        user__username__in=["lena", "samir", "piet"])}
    post_report(System.objects.get(name="signer"), signer_facts(people, []),
                actor=people["samir"])
    assert chapter("privileged.grant_keys_removed") == []

    checklist = TerminationChecklist.objects.get(status="open")
    leader = Membership.objects.active().get(team=checklist.team, is_leader=True)
    login = leader.person.user.username
    for step in checklist.steps.filter(done_at__isnull=True):
        result = CliRunner().invoke(main, [
            "privileged", "checklists", "step", str(checklist.pk), str(step.number),
            "--evidence", f"step {step.number}: done, see ticket #4711", "--as", login])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["privileged", "checklists", "close",
                                       str(checklist.pk), "--as", login])
    assert result.exit_code == 0, result.output
    assert chapter("privileged.checklists_closed") == []
