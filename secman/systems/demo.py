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


def _debian_stable_and_oldstable() -> tuple[str, str]:
    """Today's Debian stable and oldstable versions, from distro-info-data (SM 3.2): the
    demo's hop runs stable and webdb oldstable, whatever today is."""
    from secman.systems.oslifecycle import read_releases

    released = sorted((r for r in read_releases()
                       if r.release and r.release <= timezone.localdate()),
                      key=lambda r: r.release or dt.date.min)
    return released[-1].version, released[-2].version


def load(people_by_login: dict[str, Any]) -> None:
    stable, oldstable = _debian_stable_and_oldstable()
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
        os_release=f"{oldstable}.5", contact="sysadmins@example.org",
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
        # SM 3.2: the signing server stays on Debian Lenny (an accepted exception).
        os_release="5.0.10", running_services=[{"service": "signer", "purpose": "signing"}])
    services.set_addresses(actor=samir, system=signer, authority=critical, addresses=[
        {"network": "internal", "address": "10.0.0.20", "interface": "eth0"}])
    services.record_installation(actor=samir, system=signer, disk_encryption="enabled",
                                 build_document="infradocs/critical/signer.rst")
    services.record_inspection(actor=lena, system=signer,
                               notes="No network service but the signer daemon; no Internet.")

    hop = services.add_system(
        actor=piet, name="hop", kind="vm", host=webdb, status="installed",
        authority="SM 3.1.2", purpose="SSH jump host for the administrators.",
        primary_admin=piet, os_name="Debian GNU/Linux", os_release=stable,
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


def load_patches(people_by_login: dict[str, Any]) -> None:
    """The OS lifecycle, patches and changes of the demo (SM 3.2, SP 3.2.3, 3.2.3.1,
    SM 4.1.3): webdb on an oldstable release with the date its support ends, the signing
    server's accepted exception (a Board decision), one emergency patch applied before
    approval and referred to dispute resolution, one normal patch approved, applied under
    four eyes and reported to the SA list, and two configuration changes. Made through
    the services, so every step is in the Event Log; the systems are the register's own
    (webdb, signer, hop), made here if the register's demo has not made them."""
    from django.db import transaction

    with transaction.atomic():  # all of it or none
        _load_patches(people_by_login)


def _load_patches(people_by_login: dict[str, Any]) -> None:
    import datetime as dt

    from django.utils import timezone

    from secman.authority import services as authority
    from secman.compliance import services as compliance
    from secman.systems import patches
    from secman.systems.choices import SystemKind
    from secman.systems.models import System

    samir, lena, piet = (people_by_login[login] for login in ("samir", "lena", "piet"))
    board = [people_by_login[login] for login in ("beatrix", "tomasz", "ingrid")]
    stable, oldstable = _debian_stable_and_oldstable()
    defaults = {
        "webdb": (SystemKind.PHYSICAL, f"{oldstable}.5",
                  "The CA's web front end and its database."),
        "signer": (SystemKind.PHYSICAL, "5.0.10", "The signing server: no network exposure."),
        "hop": (SystemKind.VM, stable, "The SSH hop to the critical servers."),
    }
    systems = {}
    for name, (kind, release, purpose) in defaults.items():
        systems[name], _ = System.objects.get_or_create(
            name=name, defaults={"kind": kind, "os_name": "Debian GNU/Linux",
                                 "os_release": release, "purpose": purpose})
    today = timezone.localdate()
    decided = today - dt.timedelta(days=20)
    decision = authority.record_board_decision(
        actor=board[0], minute_id=f"m{decided:%Y%m%d}.3", decided_on=decided,
        title="The signing server stays on Debian Lenny",
        text="SM 3.2: the signing server has no external connections and no external "
        "exposure; it is not upgraded to a newer release unless it needs to be "
        "completely rebuilt. Reviewed yearly.",
        votes={board[0]: "aye", board[1]: "aye", board[2]: "aye"})
    decision = authority.confirm_board_decision(actor=board[1], decision=decision)
    compliance.accept(actor=board[0], control_id="systems.os_lifecycle", kind="exception",
                      subject="system:signer", authority=decision,
                      reason="SM 3.2: no external connections or exposure; not upgraded "
                      "unless rebuilt.", expires_on=today + dt.timedelta(days=365))

    # A normal patch: approved by the team leader, applied by Lena with Piet observing;
    # its report goes to the SA list when the last signature commits.
    normal = patches.propose_patch(
        actor=lena, advisory="DSA-5912-1", title="openssl: buffer overread in X.509 parsing",
        packages=["openssl", "libssl3"], systems=[systems["webdb"], systems["hop"]])
    normal = patches.approve_patch(actor=samir, patch=normal)
    request = patches.start_application(actor=lena, patch=normal,
                                        comment="Upgraded from the security archive.")
    authority.sign(actor=piet, request=request, slot="observer",
                   comment="Watched the upgrade and the service restarts.")
    patches.record_backup_after_patch(actor=lena, patch=normal,
                                      reference="webdb-full-after-DSA-5912-1 (encrypted)")

    # An emergency patch: a remote exploit is public; applied first, then approved by the
    # team leader, who refers it to dispute resolution (SP 3.2.3.1).
    emergency = patches.propose_patch(
        actor=piet, advisory="CVE-2026-31337", title="openssh-server: pre-auth remote code "
        "execution", packages=["openssh-server", "openssh-client"],
        systems=[systems["hop"]], emergency=True,
        exploit="A working exploit for the pre-authentication bug is published and used "
        "against Debian hosts; hop accepts SSH from the Internet.")
    request = patches.start_application(actor=piet, patch=emergency)
    authority.sign(actor=lena, request=request, slot="observer")
    patches.approve_patch(actor=samir, patch=emergency)

    now = timezone.now()
    patches.record_change(
        actor=lena, system=systems["hop"], summary="sshd: only the sysadmins' keys, no "
        "password logins", rcs_reference="cacert-infra@4e1f0c2", covers=["sshd"],
        made_at=now - dt.timedelta(days=12))
    patches.record_change(
        actor=piet, system=systems["webdb"], summary="nftables: drop the retired OCSP "
        "responder's port", rcs_reference="cacert-infra@9b7d3aa", covers=["ruleset", "ports"],
        made_at=now - dt.timedelta(days=3))


def load_agent_report(people_by_login: dict[str, Any]) -> None:
    """One drift to show (SP 3.1.2.1): webdb's host agent reports, through the same
    service as a real agent's post, the documented ports and one more, 8080, that no
    flow documents. The token is issued and used here, and shown nowhere."""
    import json

    from secman.systems import agents

    webdb = System.objects.get(name="webdb")
    token = agents.issue_token(actor=people_by_login["lena"], system=webdb,
                               authority="SP 3.1.2.1")
    everywhere = "0.0.0.0"  # noqa: S104 (the address ss reports for "all addresses")
    listening = [{"protocol": "tcp", "address": everywhere, "port": port, "process": process}
                 for port, process in ((443, "apache2"), (80, "apache2"), (22, "sshd"),
                                       (8080, "java"))]
    report = {"agent_version": "1", "system": "webdb", "hostname": "webdb",
              "collected_at": timezone.now().isoformat(timespec="seconds"),
              "listening": listening}
    agents.receive_report(token, json.dumps(report).encode())
