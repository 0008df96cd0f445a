"""The checks of keys, accounts and sshd on critical systems (secman.privileged.checks):
each finds its case, with its section and the evidence page, and turns OK when fixed;
facts the agent could not collect are not evidenced; a few queries for many systems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from secman.authority.services import resolve_authority
from secman.core.controls import Status
from secman.people.accounts import record_failed_login
from secman.privileged import accounts, attempts, keys
from secman.privileged.controls import CONTROLS, KEY_CONTROLS, key_findings
from secman.privileged.models import TemporaryGrant
from secman.systems.models import Flow
from tests.privileged.support import KEY_A, KEY_B, KEY_C, critical, report

pytestmark = pytest.mark.django_db


def found(control_id: str) -> list:
    return next(c for c in CONTROLS if c.id == control_id).check()


def add(org, person, line=KEY_A):
    return keys.add_key(actor=org.sam, person=person, public_key=line, authority="SM 3.4.3")


def test_every_control_names_a_section_and_the_chapter_lists_them():
    ids = {c.id for c in KEY_CONTROLS}
    assert {"privileged.unknown_keys", "privileged.keys_on_ssh_list",
            "privileged.blocked_keys_absent", "privileged.listed_people_have_keys",
            "privileged.sshd_permitrootlogin", "privileged.sshd_passwordauthentication",
            "privileged.sshd_permitemptypasswords", "privileged.sudo_asks_password",
            "privileged.privileged_accounts_no_login",
            "privileged.login_accounts_registered", "privileged.ssh_from_admin_origins",
            "privileged.access_attempts_flagged",
            "privileged.access_facts_reported"} <= ids
    assert all(c.sections for c in KEY_CONTROLS)


def test_an_unknown_key_until_registered(org, approve):
    system = critical()
    approve("ssh_access", org.sid)
    report(system, org.sam, keys=[("sid", KEY_A)])
    [finding] = found("privileged.unknown_keys")
    assert finding.status == Status.VIOLATED and finding.section == "SM 3.4.3"
    assert finding.url == f"/privileged/systems/{system.name}/"
    assert keys.parse_public_key(KEY_A).fingerprint in finding.message
    add(org, org.sid)
    assert found("privileged.unknown_keys") == []
    assert found("privileged.keys_on_ssh_list") == []


def test_only_critical_systems_are_checked(org):
    from secman.systems.models import System

    system = System.objects.create(name="web", kind="vm", purpose="t")
    report(system, org.sam, keys=[("sid", KEY_A)], sshd={"permitrootlogin": "yes"})
    assert all(not f for f in key_findings().values())


def test_a_key_of_someone_off_the_list_until_a_grant(org, approve):
    system = critical()
    add(org, org.otto)
    report(system, org.sam, keys=[("otto", KEY_A)])
    [finding] = found("privileged.keys_on_ssh_list")
    assert finding.section == "SP 4.1.1.1" and "Otto" in finding.message
    now = timezone.now()
    grant = TemporaryGrant.objects.create(
        person=org.otto, system=system, reason="debugging", granted_by=org.sam,
        authority=resolve_authority("SP 4.1.1.1"), starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1))
    assert found("privileged.keys_on_ssh_list") == []
    grant.ends_at = now - dt.timedelta(minutes=1)  # expired: the key is still there
    grant.starts_at = now - dt.timedelta(hours=2)
    grant.save()
    # Said once, by the grants' control with the grant's end, not by this one too.
    assert found("privileged.keys_on_ssh_list") == []
    assert len(found("privileged.grant_keys_removed")) == 1
    report(system, org.sam, keys=[])
    assert found("privileged.grant_keys_removed") == []


def test_physical_access_members_are_on_the_ssh_list(org, approve):
    system = critical()
    approve("physical_access", org.sue)
    add(org, org.sue)
    accounts.add_account(actor=org.sam, system=system, username="sue", kind="personal",
                         person=org.sue, authority="SM 3.4.3")
    report(system, org.sam, keys=[("sue", KEY_A)], accounts=["root", "sue"])
    assert found("privileged.keys_on_ssh_list") == []


def test_a_personal_account_of_someone_off_the_list(org):
    system = critical()
    accounts.add_account(actor=org.sam, system=system, username="otto", kind="personal",
                         person=org.otto, authority="SM 3.4.3")
    report(system, org.sam)
    [finding] = found("privileged.keys_on_ssh_list")
    assert "personal account otto" in finding.message


def test_a_blocked_key_still_present_until_gone(org, approve):
    system = critical()
    approve("ssh_access", org.sid)
    key = add(org, org.sid)
    add(org, org.sid, KEY_B)
    report(system, org.sam, keys=[("sid", KEY_A), ("sid", KEY_B)])
    keys.block_key(actor=org.sam, key=key, reason="laptop lost", authority="SM 9.1.7")
    [finding] = found("privileged.blocked_keys_absent")
    assert finding.section == "SM 9.1.7" and key.fingerprint in finding.message
    assert found("privileged.unknown_keys") == []  # blocked is not unknown
    report(system, org.sam, keys=[("sid", KEY_B)])
    assert found("privileged.blocked_keys_absent") == []


def test_a_listed_person_without_a_key(org, approve):
    approve("ssh_access", org.sid)
    [finding] = found("privileged.listed_people_have_keys")
    assert finding.status == Status.WARNING and "Sid" in finding.message
    key = add(org, org.sid)
    assert found("privileged.listed_people_have_keys") == []
    keys.block_key(actor=org.sam, key=key, reason="left", authority="SM 9.1.7")
    assert len(found("privileged.listed_people_have_keys")) == 1


@pytest.mark.parametrize(("option", "bad", "good", "section"), [
    ("permitrootlogin", "without-password", "no", "SM 4.1.1"),
    ("permitrootlogin", "yes", "no", "SM 4.1.1"),
    ("passwordauthentication", "yes", "no", "SM 3.4.3"),
    ("permitemptypasswords", "yes", "no", "SM 4.1.1"),
])
def test_sshd_settings(org, option, bad, good, section):
    system = critical()
    sshd = {"permitrootlogin": "no", "passwordauthentication": "no",
            "permitemptypasswords": "no"}
    report(system, org.sam, sshd=sshd | {option: bad})
    [finding] = found(f"privileged.sshd_{option}")
    assert finding.section == section and bad in finding.message
    report(system, org.sam, sshd=sshd | {option: good})
    assert found(f"privileged.sshd_{option}") == []
    del sshd[option]
    report(system, org.sam, sshd=sshd)
    [finding] = found(f"privileged.sshd_{option}")
    assert finding.status == Status.NOT_EVIDENCED


def test_sudo_without_password(org):
    system = critical()
    report(system, org.sam, sudoers=[
        {"path": "/etc/sudoers", "content": "# sid ALL=(ALL) NOPASSWD: ALL\n"},
        {"path": "/etc/sudoers.d/deploy", "content": "deploy ALL=(ALL) NOPASSWD: /bin/ls\n"},
        {"path": "/etc/sudoers.d/x", "content": "Defaults:sid !authenticate\n"}])
    findings = found("privileged.sudo_asks_password")
    assert {f.subject.rsplit(":", 1)[1] for f in findings} == {"/etc/sudoers.d/deploy",
                                                                "/etc/sudoers.d/x"}
    report(system, org.sam)
    assert found("privileged.sudo_asks_password") == []


def test_privileged_and_service_accounts_permit_no_login(org):
    system = critical()
    for name in ("root", "postgres"):
        accounts.add_account(actor=org.sam, system=system, username=name,
                             kind="privileged" if name == "root" else "service",
                             authority="SM 4.1.1")
    report(system, org.sam, accounts=["root", "postgres"])
    [finding] = found("privileged.privileged_accounts_no_login")  # root keeps its shell
    assert "postgres" in finding.message and finding.section == "SM 4.1.1"
    report(system, org.sam, accounts=["root"])
    assert found("privileged.privileged_accounts_no_login") == []


def test_login_accounts_not_in_the_register(org):
    system = critical()
    report(system, org.sam, accounts=["root", "mallory"])
    findings = found("privileged.login_accounts_registered")
    assert {f.subject for f in findings} == {"account:vault:root", "account:vault:mallory"}
    assert all(f.status == Status.WARNING for f in findings)
    for name in ("root", "mallory"):
        accounts.add_account(actor=org.sam, system=system, username=name, kind="privileged",
                             authority="SM 4.1.1")
    assert found("privileged.login_accounts_registered") == []


def test_facts_the_agent_could_not_collect_are_not_evidenced(org):
    system = critical()
    [finding] = found("privileged.access_facts_reported")
    assert "no agent report" in finding.message
    report(system, org.sam, sshd={"permitrootlogin": "no"})
    assert found("privileged.access_facts_reported") == []
    from secman.privileged.demo_keys import post_report

    post_report(system, {"unavailable": {"sshd": "sshd: not installed"}}, actor=org.sam)
    [finding] = found("privileged.access_facts_reported")
    assert finding.status == Status.NOT_EVIDENCED and "sshd" in finding.message
    assert found("privileged.sshd_permitrootlogin") == []  # said once, not per rule


def test_ssh_only_from_admin_origins(org):
    system = critical()
    hop = critical("hop")
    flow = Flow.objects.create(system=system, direction="ingress", protocol="tcp", port=22,
                               peer="hop", peer_system=hop, purpose="admin",
                               status="approved")
    Flow.objects.create(system=system, direction="ingress", protocol="tcp", port=443,
                        peer="ANY", purpose="web", status="approved")
    other = Flow.objects.create(system=system, direction="ingress", protocol="tcp",
                                port=20, port_end=30, peer="198.51.100.7", purpose="x",
                                status="approved")
    assert {f.subject for f in found("privileged.ssh_from_admin_origins")} == {
        f"flow:{flow.pk}", f"flow:{other.pk}"}
    accounts.add_origin(actor=org.sam, system=hop, description="hop", authority="SM 3.4.3")
    accounts.add_origin(actor=org.sam, network="198.51.100.0/24", description="office",
                        authority="SM 3.4.3")
    assert found("privileged.ssh_from_admin_origins") == []


def test_failed_sign_ins_are_flagged(org):
    assert found("privileged.access_attempts_flagged") == []
    record_failed_login("sid", address="203.0.113.9")
    [finding] = found("privileged.access_attempts_flagged")
    assert finding.section == "SM 4.1.1.2" and finding.status == Status.WARNING
    [attempt] = attempts.failed_attempts()["secman sign-ins"]
    assert (attempt.account, attempt.origin) == ("sid", "203.0.113.9")


def test_a_registered_source_of_attempts_is_read():
    at = timezone.now()
    attempts.register_source("sshd test", lambda since: [attempts.Attempt(
        "sshd test", at, "root", "192.0.2.1", "/")])
    try:
        assert attempts.failed_attempts()["sshd test"][0].account == "root"
        assert any(f.subject == "attempts:sshd test" for f in attempts.attempts_flagged())
    finally:
        attempts._SOURCES.pop("sshd test")


def test_a_few_queries_however_many_systems(org, approve):
    approve("ssh_access", org.sid)
    add(org, org.sid)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            key_findings()
        return len(captured.captured_queries)

    for i in range(2):
        report(critical(f"s{i}"), org.sam, keys=[("sid", KEY_A), ("x", KEY_C)])
    few = queries()
    for i in range(2, 12):
        report(critical(f"s{i}"), org.sam, keys=[("sid", KEY_A), ("x", KEY_C)])
    assert queries() == few
    assert len(found("privileged.unknown_keys")) == 12
