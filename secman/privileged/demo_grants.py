"""The demo's authentication schemes, temporary grants and secrets: webdb and signer
reached by SSH via hop and from the console; Clara's grant on signer that expired last
week while her key stays there (the "expired grant still present" finding); Oskar's grant
on webdb in effect; signer's root password known to Lena and Samir (both on the Console
Access List), a backup key whose former holder makes it due, and webdb's database
password rotated last week."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone

from secman.privileged import grants, keys, schemes
from secman.privileged import secrets_register as secrets
from secman.privileged.models import SshKey
from secman.systems.models import System


def demo_public_key(login: str) -> str:
    """A stable public key for a demo person (its private half is thrown away)."""
    private = Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"secman demo {login}".encode()).digest())
    line = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    return f"{line.decode()} {login}@assessor"


def load(people_by_login: dict[str, Any]) -> list[SshKey]:
    """Returns the keys that should still be found on signer (an expired grant's)."""
    lena, samir, piet = (people_by_login[x] for x in ("lena", "samir", "piet"))
    clara, oskar = people_by_login["clara"], people_by_login["oskar"]
    systems = {s.name: s for s in System.objects.filter(name__in=["webdb", "signer", "hop"])}
    hop = systems["hop"]
    for name in ("webdb", "signer"):
        schemes.document_scheme(
            actor=lena, system=systems[name], path="ssh_hop", via=hop, ip_blocking=True,
            authenticates="personal named accounts with ed25519 keys, from hop only; sudo "
            "with the personal password", refused="password logins; root logins; keys not "
            "in the register; connections from anywhere but hop", authority="SP 3.4.3")
        schemes.document_scheme(
            actor=lena, system=systems[name], path="console",
            authenticates="the root password, known to those on the Console Access List",
            refused="personal accounts at the console; remote consoles",
            authority="SM 4.1.1")
    schemes.document_scheme(
        actor=lena, system=systems["webdb"], path="web_application",
        authenticates="members' client certificates; admin role by certificate and "
        "password", refused="password-only logins to admin pages", authority="SP 3.4.3")

    # Clara debugged the signer's queue last week under Samir's grant; it has expired but
    # her key is still in root's authorized_keys on signer (the keys' demo reports it).
    clara_key = keys.add_key(actor=lena, person=clara, public_key=demo_public_key("clara"),
                             authority="SP 4.1.1.1")
    now = timezone.now()
    grants.record_past_grant(
        actor=samir, person=clara, system=systems["signer"],
        reason="Advanced debugging of the signing queue stalls (ticket 4711).",
        starts_at=now - dt.timedelta(days=12), ends_at=now - dt.timedelta(days=5),
        authority="SP 4.1.1.1")
    keys.add_key(actor=lena, person=oskar, public_key=demo_public_key("oskar"),
                 authority="SP 4.1.1.1")
    grants.grant_access(
        actor=samir, person=oskar, system=systems["webdb"],
        reason="Trace the slow member search with the developers' debug build.",
        ends_at=now + dt.timedelta(days=3), authority="SP 4.1.1.1")

    root = secrets.register_secret(
        actor=lena, name="signer root password", kind="root_password",
        systems=[systems["signer"]], where_used="root at signer's console",
        authority="SM 4.1.1")
    backup = secrets.register_secret(
        actor=lena, name="signer backup encryption key", kind="backup_key",
        systems=[systems["signer"]], where_used="nightly backups of signer to tape",
        authority="SM 4.1.1")
    database = secrets.register_secret(
        actor=lena, name="webdb database password", kind="service_password", weight="minor",
        systems=[systems["webdb"]], where_used="the web application's PostgreSQL role",
        authority="SM 4.1.1")
    for secret, holders in ((root, (lena, samir)), (backup, (lena, piet)),
                            (database, (lena, piet))):
        for person in holders:
            secrets.add_holder(actor=lena, secret=secret, person=person,
                               authority="SM 4.1.1")
        secrets.rotate_secret(actor=lena, secret=secret, reason="first",
                              note="recorded when the register started", authority="SM 4.1.1")
    secrets.rotate_secret(actor=lena, secret=database, reason="scheduled",
                          note="yearly change", authority="SM 4.1.1")
    # Piet hands the backups over to Lena: the key is due until it is changed.
    secrets.end_holding(actor=lena, holding=backup.holders.get(person=piet,
                                                               until__isnull=True),
                        reason="Piet hands the backups over to Lena",
                        authority="SM 9.1.7")
    return [clara_key]
