"""Where the host agent's reports reach and stop: only the roles that read agent reports
see a system's agent panel; a retired system's token stops working; drift is measured
against the flows in effect; a plain /boot beside an encrypted root is the standard
encrypted install, not a finding."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from secman.systems import agents, drift, services
from secman.systems.models import AgentToken
from tests.systems.test_firewall_support import make_flow, make_system

pytestmark = pytest.mark.django_db


def listening(*ports: int) -> bytes:
    return json.dumps({
        "agent_version": "1", "system": "web", "hostname": "web",
        "collected_at": "2026-12-03T10:00:00+00:00",
        "listening": [{"protocol": "tcp", "address": "0.0.0.0", "port": port,
                       "process": "x"} for port in ports]}).encode()


def test_only_agent_readers_see_the_panel_on_the_system_page(org, client):
    system = make_system("web", status="in_service")
    agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    # ola leads Software Assessment: a reader of the register, not of agent reports.
    for person, sees in ((org.sue, True), (org.aud, True), (org.ola, False)):
        client.force_login(person.user)
        page = client.get(system.get_absolute_url())
        assert page.status_code == 200
        assert ('id="agent"' in page.content.decode()) is sees, person


def test_retiring_a_system_revokes_its_agent_token(org):
    system = make_system("web", status="in_service")
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    services.retire_system(actor=org.sue, system=system, reason="replaced",
                           authority="SP 3.2.2")
    assert AgentToken.objects.get(system=system).revoked_at is not None
    with pytest.raises(agents.ReportRefused):
        agents.receive_report(token, listening(22))
    assert drift.evaluate() == []


def test_a_temporary_flow_past_its_end_documents_no_port(org):
    system = make_system("web", status="in_service")
    make_flow(system, "ingress", 8443, temporary_until=timezone.now() - dt.timedelta(hours=1))
    make_flow(system, "ingress", 22)
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    agents.receive_report(token, listening(22, 8443))
    messages = [f.message for f in drift.findings(drift.PORT_UNDOCUMENTED)]
    assert len(messages) == 1 and "8443/tcp" in messages[0]


def test_a_plain_boot_partition_beside_an_encrypted_root_is_encrypted():
    # lsblk -J of Debian's guided "encrypted LVM" install.
    guided = {"blockdevices": [{"name": "vda", "type": "disk", "children": [
        {"name": "vda1", "type": "part", "fstype": "vfat", "mountpoint": "/boot/efi"},
        {"name": "vda2", "type": "part", "fstype": "ext2", "mountpoint": "/boot"},
        {"name": "vda3", "type": "part", "fstype": "crypto_LUKS", "children": [
            {"name": "vda3_crypt", "type": "crypt", "fstype": "LVM2_member", "children": [
                {"name": "vg-root", "type": "lvm", "fstype": "ext4", "mountpoint": "/"},
                {"name": "vg-swap", "type": "lvm", "fstype": "swap",
                 "mountpoint": "[SWAP]"}]}]}]}]}
    assert drift.encryption_of(guided) == "enabled"
    plain_home = json.loads(json.dumps(guided))
    plain_home["blockdevices"][0]["children"].append(
        {"name": "vdb1", "type": "part", "fstype": "ext4", "mountpoint": "/home"})
    assert drift.encryption_of(plain_home) == "disabled"
