"""Drift (systems.drift): each finding of the host agents' reports against the register,
naming its section; evaluated for many systems in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from secman.authority.services import resolve_authority
from secman.core.controls import control
from secman.eventlog.models import Event
from secman.systems import agents, drift
from secman.systems.models import AgentReport, AgentToken, ConfigurationChange, System

pytestmark = pytest.mark.django_db

LUKS = {"blockdevices": [{"name": "vda", "type": "disk", "fstype": None, "mountpoint": None,
                          "children": [{"name": "vda1", "type": "part",
                                        "fstype": "crypto_LUKS", "mountpoint": None,
                                        "children": [{"name": "root", "type": "crypt",
                                                      "fstype": "ext4",
                                                      "mountpoint": "/"}]}]}]}
PLAIN = {"blockdevices": [{"name": "vda", "type": "disk", "fstype": "ext4",
                           "mountpoint": "/"}]}


def facts(system: str = "web", **extra) -> dict:
    body = {"agent_version": "1", "system": system, "collected_at": timezone.now().isoformat(),
            "unavailable": {},
            "listening": [{"protocol": "tcp", "address": "0.0.0.0", "port": 443,
                           "process": "nginx"},
                          {"protocol": "tcp", "address": "127.0.0.1", "port": 5432,
                           "process": "postgres"},
                          {"protocol": "udp", "address": "::", "port": 53,
                           "process": "named"}],
            "block_devices": LUKS, "sshd": {"permitrootlogin": "no"},
            "ruleset": {"nftables": []}}
    body.update(extra)
    return body


def send(token: str, **extra) -> AgentReport:
    return agents.receive_report(token, json.dumps(facts(**extra)).encode())


@pytest.fixture
def web(org):
    system = System.objects.create(name="web", kind="vm")
    system.flows.create(direction="ingress", protocol="tcp", port=443, status="approved",
                        service="https")
    system.flows.create(direction="ingress", protocol="tcp", port=80, status="approved",
                        service="http")
    system.flows.create(direction="ingress", protocol="tcp", port=8080, status="requested")
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    return system, token


def subjects(system: System) -> set[str]:
    return {f.subject.split(":")[0] + ":" + f.subject.split(":", 2)[-1]
            for f in drift.system_drift(system).findings}


def test_ports_against_the_register(web):
    system, token = web
    send(token)
    found = drift.system_drift(system).findings
    by_kind = {f.subject: f for f in found}
    # 53/udp listens beyond loopback and is not documented; 5432 is on loopback only.
    undocumented = by_kind["agent.port_undocumented:web:53/udp"]
    assert undocumented.section == "SP 3.1.2.1" and "53/udp" in undocumented.message
    assert not any("5432" in s for s in by_kind)
    # 80/tcp is documented and in effect but not listening; 8080 is only requested.
    assert by_kind["agent.port_not_listening:web:80/tcp"].section == "SP 3.1.2.1"
    assert not any("8080" in s for s in by_kind)
    assert not any(":443/" in s for s in by_kind)


def test_disk_encryption(web):
    system, token = web
    send(token)
    assert not [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.1"]
    send(token, block_devices=PLAIN)
    [off] = [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.1"]
    assert "not on an encrypted device" in off.message
    assert drift.encryption_of(None) == "unknown"
    assert drift.encryption_of({"blockdevices": [{"name": "vda", "type": "disk"}]}) == \
        "unknown"


def test_security_updates_age_from_the_first_report_that_showed_them(web, settings):
    system, token = web
    settings.SECMAN_AGENT_UPDATE_DAYS = 7
    update = {"package": "openssl", "installed": "3.0.1", "available": "3.0.2",
              "origin": "Debian-Security:12/stable-security"}
    first = send(token, security_updates=[update])
    assert not [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.3"]
    # That first report was eight days ago: its update is still pending today.
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    AgentReport.objects.filter(pk=first.pk).update(
        received_at=eight_days_ago, derived=drift.derive(
            first.facts, eight_days_ago, None, []))
    later = send(token, security_updates=[update])
    assert later.derived["updates_first_seen"] == {"openssl 3.0.2": eight_days_ago.isoformat()}
    [old] = [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.3"]
    assert "openssl 3.0.2" in old.message and "7 days" in old.message
    # Applied: the next report no longer shows it, and the finding clears.
    send(token, security_updates=[])
    assert not [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.3"]


def test_a_system_that_stops_reporting(web):
    system, token = web
    AgentToken.objects.filter(system=system).update(
        created_at=timezone.now() - dt.timedelta(days=3))
    [silent] = [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.2"]
    assert "no agent report since" in silent.message
    send(token)
    assert not [f for f in drift.system_drift(system).findings if f.section == "SP 3.2.2"]
    # Systems without a live token are not expected to report.
    agents.revoke_token(actor=None, system=system, authority="SP 3.2.2")
    assert drift.system_drift(system).findings == []


def test_configuration_changed_without_a_record(web, org):
    system, token = web
    first = send(token)
    send(token, sshd={"permitrootlogin": "yes"})
    [unrecorded] = [f for f in drift.system_drift(system).findings
                    if f.section == "SM 4.1.3"]
    assert "sshd changed" in unrecorded.message
    # It stays a finding at the next report, until a change covering it is recorded.
    send(token, sshd={"permitrootlogin": "yes"})
    assert [f for f in drift.system_drift(system).findings if f.section == "SM 4.1.3"]
    ConfigurationChange.objects.create(
        system=system, summary="root login for the migration", rcs_reference="puppet@1a2b",
        covers=["sshd"], made_at=first.received_at + dt.timedelta(microseconds=1),
        authority=resolve_authority("SM 4.1.3"))
    assert not [f for f in drift.system_drift(system).findings if f.section == "SM 4.1.3"]


def test_a_recorded_change_before_the_report_covers_it(web):
    system, token = web
    send(token)
    ConfigurationChange.objects.create(
        system=system, summary="sudo for backups", rcs_reference="puppet@2b3c",
        covers=["sudoers", "sshd"], authority=resolve_authority("SM 4.1.3"))
    send(token, sshd={"permitrootlogin": "prohibit-password"})
    assert not [f for f in drift.system_drift(system).findings if f.section == "SM 4.1.3"]


def test_the_ruleset_is_compared_when_the_firewall_module_is_there(web):
    system, token = web
    send(token)
    found = drift.system_drift(system)
    try:
        import secman.systems.firewall  # noqa: F401
    except ModuleNotFoundError:
        assert not found.ruleset_checked
        assert not [f for f in found.findings if f.subject.startswith("agent.ruleset")]
    else:
        assert found.ruleset_checked
    unavailable = {"ruleset": "nft: not installed"}
    agents.receive_report(token, json.dumps({k: v for k, v in facts(unavailable=unavailable).items()
                           if k != "ruleset"}).encode())
    [missing] = [f for f in drift.system_drift(system).findings
                 if f.subject.startswith("agent.ruleset")]
    assert "could not read the nftables ruleset" in missing.message


def test_drift_appearing_and_clearing_is_one_entry_each(web):
    system, token = web
    actions = lambda: list(Event.objects.filter(action="systems.agent.drift")  # noqa: E731
                           .order_by("seq").values_list("details", flat=True))
    send(token)
    [appeared] = actions()
    assert "agent.port_undocumented:web:53/udp" in appeared["appeared"]
    send(token)  # the same findings: no new entry
    assert len(actions()) == 1
    system.flows.create(direction="ingress", protocol="udp", port=53, status="approved")
    system.flows.filter(port=80).update(status="ended")
    send(token)
    entries = actions()
    assert len(entries) == 2 and entries[1]["appeared"] == []
    assert set(entries[1]["cleared"]) == {"agent.port_undocumented:web:53/udp",
                                          "agent.port_not_listening:web:80/tcp"}
    assert token not in json.dumps(entries)


def test_the_controls_name_their_sections(web):
    _system, token = web
    send(token, block_devices=PLAIN)
    for control_id, section in [("systems.agent_undocumented_ports", "SP 3.1.2.1"),
                                ("systems.agent_documented_ports_listening", "SP 3.1.2.1"),
                                ("systems.agent_disk_encryption", "SP 3.2.1")]:
        declared = control(control_id)
        assert declared is not None and section in declared.sections
        found = declared.check()
        assert found and all(f.section == section for f in found), control_id
    assert control("systems.agent_reporting").check() == []


def test_evaluation_reads_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    def fleet(first: int, count: int) -> None:
        for number in range(first, first + count):
            system = System.objects.create(name=f"host{number}", kind="vm")
            for port in range(30):
                system.flows.create(direction="ingress", protocol="tcp", port=1000 + port,
                                    status="approved")
            token = agents.issue_token(actor=None, system=system, authority="SP 3.2.2")
            send(token, system=system.name)
            send(token, system=system.name, sshd={"permitrootlogin": "yes"})

    fleet(0, 3)
    with django_assert_max_num_queries(6) as few:
        small = drift.evaluate()
    fleet(3, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = drift.evaluate()
    assert len(small) == 3 and len(large) == 15
    assert all(any(f.section == "SM 4.1.3" for f in d.findings) for d in large)
