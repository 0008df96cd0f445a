"""The host agent's real report from this machine (the CI machine), posted through
receive_report for a critical system, checked against a demo SSH Access List: the
checks' findings agree with the facts the agent collected."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from secman.core.controls import Status
from secman.privileged import checks
from secman.privileged.controls import key_findings
from secman.privileged.demo_keys import DEMO_KEYS
from secman.privileged.keys import add_key
from secman.systems import agents
from secman.systems.agent.secman_agent import collect
from tests.privileged.support import critical

pytestmark = pytest.mark.django_db


@pytest.fixture
def sshd_can_answer():
    """`sshd -T` refuses to run without its privilege separation directory, which the
    ssh service makes when it starts; a test machine has it installed (bin/debian-packages)
    but not running. The agent reports that as unavailable; here, as root, the directory is
    made so that the real settings are checked."""
    if os.geteuid() == 0 and shutil.which("sshd"):
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


def test_the_real_report_is_checked_against_the_ssh_access_list(org, approve,
                                                               sshd_can_answer):
    system = critical("ci")
    approve("ssh_access", org.sid)  # the demo list: sid, with a registered key
    add_key(actor=org.sam, person=org.sid, public_key=DEMO_KEYS["piet"], authority="SM 3.4.3")
    data = collect("ci")
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    agents.receive_report(token, json.dumps(data).encode())
    found = key_findings()
    subjects = {control: {f.subject for f in fs} for control, fs in found.items()}
    missing = [f for f in checks.FACTS if f not in data]
    reported = found["privileged.access_facts_reported"]
    assert bool(reported) == bool(missing)
    if missing:
        assert reported[0].status == Status.NOT_EVIDENCED
    registered = {k for k in checks.Context().keys}
    if "authorized_keys" in data:
        unknown = {e["fingerprint"] for e in data["authorized_keys"]
                   if e.get("fingerprint") and e["fingerprint"] not in registered}
        assert subjects["privileged.unknown_keys"] == {f"key:ci:{fp}" for fp in unknown}
    if "sshd" in data:
        for option, breaks, _section, _why in checks.SSHD_RULES:
            value = data["sshd"].get(option)
            expected = value is None or breaks(value.lower())
            assert bool(found[f"privileged.sshd_{option}"]) == expected, (option, value)
    else:
        assert "sshd" in data["unavailable"]
    if "sudoers" in data:
        assert bool(found["privileged.sudo_asks_password"]) == bool(
            checks.nopasswd_lines(data["sudoers"]))
    if "accounts" in data:  # none registered: each login account is a warning
        assert subjects["privileged.login_accounts_registered"] == {
            f"account:ci:{a['user']}" for a in data["accounts"]}
    # sid is on the list with a key: no warning; nobody else is on it.
    assert found["privileged.listed_people_have_keys"] == []
