"""The systems part of the demo organisation: a handful of systems with their flows."""

from __future__ import annotations

from typing import Any


def load(people_by_login: dict[str, Any]) -> None:
    """Filled in by the systems register work (webdb, signer, hop)."""


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
    from secman.systems.oslifecycle import read_releases

    samir, lena, piet = (people_by_login[login] for login in ("samir", "lena", "piet"))
    board = [people_by_login[login] for login in ("beatrix", "tomasz", "ingrid")]
    released = sorted((r for r in read_releases() if r.release
                       and r.release <= timezone.localdate()),
                      key=lambda r: r.release or dt.date.min)
    stable, oldstable = released[-1], released[-2]
    defaults = {
        "webdb": (SystemKind.PHYSICAL, f"{oldstable.version}.5",
                  "The CA's web front end and its database."),
        "signer": (SystemKind.PHYSICAL, "5.0.10", "The signing server: no network exposure."),
        "hop": (SystemKind.VM, stable.version, "The SSH hop to the critical servers."),
    }
    systems = {}
    for name, (kind, release, purpose) in defaults.items():
        systems[name], _ = System.objects.get_or_create(
            name=name, defaults={"kind": kind, "os_name": "Debian GNU/Linux",
                                 "os_release": release, "purpose": purpose})
    # SM 3.2: webdb is upgraded from oldstable before its support ends.
    System.objects.filter(name="webdb").update(os_release=f"{oldstable.version}.5")
    System.objects.filter(name="signer").update(os_release="5.0.10")

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
