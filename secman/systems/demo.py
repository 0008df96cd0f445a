"""The systems part of the demo organisation: webdb and signer (critical, physical, made
critical by a Board decision recorded here), hop (an infrastructure VM on webdb's host
side), their flows approved by the Systems Administration team leader, and one flow
request still waiting for him. Everything goes through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from secman.authority import services as authority
from secman.systems import services
from secman.systems.models import System


def _computer(nickname: str) -> Any:
    # The physical register's computer, through the model's relation: the systems chapter
    # does not import the physical chapter.
    computers = System._meta.get_field("computer").related_model._default_manager  # type: ignore[union-attr]
    return computers.filter(nickname=nickname).first()


def load(people_by_login: dict[str, Any]) -> None:
    samir, lena, piet = people_by_login["samir"], people_by_login["lena"], people_by_login["piet"]
    board = [people_by_login[login] for login in ("beatrix", "tomasz", "ingrid")]
    decided = timezone.localdate() - dt.timedelta(days=200)
    critical = authority.record_board_decision(
        actor=board[0], minute_id=f"m{decided:%Y%m%d}.1", decided_on=decided,
        title="Critical systems: the web and database server and the signing server",
        text="The Board declares webdb and signer critical systems under SP 1.1.",
        votes={board[0]: "aye", board[1]: "aye", board[2]: "aye"})
    critical = authority.confirm_board_decision(actor=board[1], decision=critical)

    webdb = services.add_system(
        actor=lena, name="webdb", kind="physical", criticality="critical",
        computer=_computer("webdb"), status="planned", authority=critical,
        purpose="Web front end and the member database of the CA.",
        primary_admin=lena, secondary_admin=piet, os_name="Debian GNU/Linux",
        os_release="12", contact="sysadmins@example.org",
        running_services=[{"service": "apache2", "purpose": "web front end"},
                          {"service": "postgresql", "purpose": "member database"},
                          {"service": "openssh-server", "purpose": "administration"}],
        databases=[{"name": "cacert", "engine": "PostgreSQL 15", "purpose": "members"}],
        monitoring=["icinga: http, ssh, disk"])
    services.set_addresses(actor=lena, system=webdb, authority=critical, addresses=[
        {"network": "internet", "address": "192.0.2.10", "interface": "eth0"},
        {"network": "internet", "address": "2001:db8::10", "interface": "eth0"},
        {"network": "internal", "address": "10.0.0.10", "interface": "eth1"}])
    services.set_dns_records(actor=lena, system=webdb, authority=critical, records=[
        {"name": "www.example.org", "rtype": "A", "content": "192.0.2.10"},
        {"name": "www.example.org", "rtype": "AAAA", "content": "2001:db8::10"}])
    services.record_installation(actor=lena, system=webdb, disk_encryption="enabled",
                                 build_document="infradocs/systems/webdb.rst#installation")
    services.record_inspection(actor=piet, system=webdb,
                               notes="Only apache2, postgresql and sshd listen; modules "
                               "reduced to the documented set.")

    signer = services.add_system(
        actor=samir, name="signer", kind="physical", criticality="critical",
        computer=_computer("signer"), status="planned", authority=critical,
        purpose="Offline-style signing server, reached only over the serial link from webdb.",
        primary_admin=lena, secondary_admin=samir, os_name="Debian GNU/Linux",
        os_release="11", running_services=[{"service": "signer", "purpose": "signing"}])
    services.set_addresses(actor=samir, system=signer, authority=critical, addresses=[
        {"network": "internal", "address": "10.0.0.20", "interface": "eth0"}])
    services.record_installation(actor=samir, system=signer, disk_encryption="enabled",
                                 build_document="infradocs/critical/signer.rst")
    services.record_inspection(actor=lena, system=signer,
                               notes="No network service but the signer daemon; no Internet.")

    hop = services.add_system(
        actor=piet, name="hop", kind="vm", host=webdb, status="installed",
        authority="SM 3.1.2", purpose="SSH jump host for the administrators.",
        primary_admin=piet, os_name="Debian GNU/Linux", os_release="12",
        disk_encryption="unknown", build_document="infradocs/systems/hop.rst",
        running_services=[{"service": "openssh-server", "purpose": "jump host"}])
    services.set_addresses(actor=piet, system=hop, authority="SM 3.1.2", addresses=[
        {"network": "internet", "address": "192.0.2.30", "interface": "eth0"},
        {"network": "internal", "address": "10.0.0.30", "interface": "eth1"}])
    # hop is recorded in service by its inspection; its second administrator is missing
    # (SP 1.2) and its disk encryption is not known (SP 3.2.1): findings to show.
    services.record_inspection(actor=lena, system=hop, notes="Only sshd listens.")

    def approved(system: System, requester: Any, **flow: Any) -> None:
        request = services.request_flow(actor=requester, system=system, **flow)
        services.decide_flow(actor=samir, flow=request, approve=True)

    approved(webdb, lena, direction="ingress", port=443, service="https", peer="ANY",
             purpose="the web front end for members")
    approved(webdb, lena, direction="ingress", port=80, service="http", peer="ANY",
             purpose="redirect to https")
    approved(webdb, piet, direction="ingress", port=22, service="ssh", peer="hop",
             purpose="administration through the jump host")
    approved(webdb, lena, direction="egress", port=2000, port_end=2001, service="signer",
             peer="signer", purpose="certificate requests to the signing server")
    approved(webdb, piet, direction="egress", port=53, protocol="udp", service="dns",
             peer="10.0.0.1", purpose="name resolution")
    approved(signer, lena, direction="ingress", port=2000, port_end=2001, service="signer",
             peer="webdb", purpose="certificate requests from webdb")
    approved(hop, piet, direction="ingress", port=22, service="ssh", peer="ANY",
             purpose="administrators' SSH")
    approved(hop, piet, direction="egress", port=22, service="ssh", peer="10.0.0.0/24",
             purpose="SSH to the internal systems")
    # A temporary Internet access for an upgrade (SP 3.1.1.1), and one request waiting for
    # the team leader (SP 3.1.1.2).
    approved(hop, lena, direction="egress", port=443, service="https",
             peer="deb.debian.org", purpose="package upgrade to Debian 12.8",
             temporary_until=timezone.now() + dt.timedelta(days=2))
    services.request_flow(actor=piet, system=webdb, direction="egress", port=443,
                          service="https", peer="ocsp.example.org",
                          purpose="fetch the OCSP responder's status for monitoring",
                          reason="new monitoring check")
