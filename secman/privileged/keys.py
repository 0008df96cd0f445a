"""SSH public keys: reading them (a public key line, or a fingerprint as `ssh-keygen -l`
prints it) and the services that register and block them (SM 3.4.3, 9.1.7 step 1).

A key is known by its SHA-256 fingerprint, the form the host agent reports; the public
key itself is public and kept when given. Nothing here ever reads a private key: one
pasted by mistake is refused without being stored or echoed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from django.db import IntegrityError, transaction
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.privileged.models import AccessRemoval, SshKey
from secman.privileged.selectors import may_keep_register

SECTION = "SM 3.4.3"
# "SHA256:" and the unpadded base64 of 32 bytes, as ssh-keygen -l prints it.
FINGERPRINT_RE = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
             "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
             "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss", "ssh-ed448")
# The agent reports the type as ssh-keygen prints it: "(ED25519)", "(RSA)", ...
AGENT_TYPE = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ecdsa-sha2-nistp256": "ECDSA",
              "ecdsa-sha2-nistp384": "ECDSA", "ecdsa-sha2-nistp521": "ECDSA",
              "sk-ssh-ed25519@openssh.com": "ED25519-SK",
              "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK", "ssh-dss": "DSA",
              "ssh-ed448": "ED448"}
PUBLIC_KEY_MAX = 16_384  # an 16384-bit RSA key is ~2.8 KB of base64: far below this


@dataclass(frozen=True)
class ParsedKey:
    fingerprint: str
    key_type: str
    bits: int | None
    comment: str
    public_key: str  # "type base64" without the comment; "" when only a fingerprint


def fingerprint_of(blob: bytes) -> str:
    """OpenSSH's SHA-256 fingerprint of a key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_fingerprint(text: str) -> str:
    """A fingerprint as `ssh-keygen -l` prints it, or a RuleViolation saying the form."""
    value = text.strip()
    if not FINGERPRINT_RE.fullmatch(value):
        raise RuleViolation("a fingerprint looks like SHA256: followed by 43 characters of "
                            "base64 (as ssh-keygen -l prints it)", field="fingerprint",
                            section=SECTION)
    return value


def _bits(key: object) -> int | None:
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey):
        return key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 256
    if isinstance(key, ed448.Ed448PublicKey):
        return 456
    return None


def parse_public_key(text: str) -> ParsedKey:
    """One OpenSSH public key line ("ssh-ed25519 AAAA... comment"). Options before the
    type (authorized_keys' from="...", command="...") are refused: secman registers keys,
    not the lines of a file."""
    line = text.strip()
    if "PRIVATE KEY" in line:
        raise RuleViolation("this is a private key: never paste one anywhere; give the "
                            "public key (the .pub file)", field="public_key",
                            section="SP 4.1.1")
    if len(line) > PUBLIC_KEY_MAX:
        raise RuleViolation(f"a public key line is at most {PUBLIC_KEY_MAX} characters",
                            field="public_key", section=SECTION)
    if "\n" in line or "\r" in line:
        raise RuleViolation("give one public key, on one line", field="public_key",
                            section=SECTION)
    parts = line.split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise RuleViolation("a public key line starts with its type (ssh-ed25519, ssh-rsa, "
                            "ecdsa-sha2-nistp256, ...) followed by the key in base64",
                            field="public_key", section=SECTION)
    key_type, encoded = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else ""
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RuleViolation("the key is not valid base64", field="public_key",
                            section=SECTION) from None
    # The blob names its own type first (RFC 4253 string): it must be the one declared.
    declared = key_type.encode()
    if blob[:4] != len(declared).to_bytes(4, "big") or blob[4:4 + len(declared)] != declared:
        raise RuleViolation(f"the key's data is not a {key_type} key", field="public_key",
                            section=SECTION)
    bits: int | None = None
    if not key_type.startswith("sk-"):  # cryptography does not read security-key types
        try:
            bits = _bits(load_ssh_public_key(f"{key_type} {encoded}".encode()))
        except (ValueError, TypeError):
            raise RuleViolation(f"the key's data is not a valid {key_type} key",
                                field="public_key", section=SECTION) from None
    return ParsedKey(fingerprint_of(blob), key_type, bits, comment, f"{key_type} {encoded}")


def _require_keeper(actor: Person | None, what: str) -> None:
    # None is the command line, whose operator already controls the server.
    if actor is not None and not may_keep_register(actor):
        raise NotAllowed(f"{what} is for Systems Administrators", section=SECTION)


def add_key(*, actor: Person | None, person: Person, authority: AuthorityLike,
            public_key: str = "", fingerprint: str = "", key_type: str = "",
            comment: str = "") -> SshKey:
    """Register a person's key, from its public key line or from its fingerprint and
    type. A fingerprint already registered (to anyone, blocked or not) is refused: a key
    belongs to one person."""
    _require_keeper(actor, "registering an SSH key")
    if public_key.strip():
        parsed = parse_public_key(public_key)
        if fingerprint.strip() and parse_fingerprint(fingerprint) != parsed.fingerprint:
            raise RuleViolation("the fingerprint given is not the public key's "
                                f"({parsed.fingerprint})", field="fingerprint",
                                section=SECTION)
    elif fingerprint.strip():
        if key_type not in KEY_TYPES:
            raise RuleViolation(f"give the key's type: one of {', '.join(KEY_TYPES)}",
                                field="key_type", section=SECTION)
        parsed = ParsedKey(parse_fingerprint(fingerprint), key_type, None, "", "")
    else:
        raise RuleViolation("give the public key, or its fingerprint and type",
                            field="public_key", section=SECTION)
    comment = (comment or parsed.comment).strip()
    check_text(SshKey, {"comment": comment})
    owner = SshKey.objects.filter(fingerprint=parsed.fingerprint).select_related(
        "person").first()
    if owner is not None:
        whose = "theirs already" if owner.person_id == person.pk else f"{owner.person}'s"
        raise RuleViolation(f"the key {parsed.fingerprint} is {whose}: a key belongs to one "
                            "person", field="public_key", section=SECTION)
    try:
        with transaction.atomic():
            authority_row = resolve_authority(authority)
            key = SshKey.objects.create(
                person=person, fingerprint=parsed.fingerprint, key_type=parsed.key_type,
                bits=parsed.bits, comment=comment, public_key=parsed.public_key,
                added_by=actor, authority=authority_row)
            record("privileged.key.add", actor=actor, authority=authority_row, subject=key,
                   retention_class=RetentionClass.CONFIGURATION,
                   actor_label="" if actor else "secman command line",
                   details={"person": person.name, "fingerprint": key.fingerprint,
                            "type": key.key_type, "comment": comment})
    except IntegrityError:  # registered by someone else in the meantime
        raise RuleViolation(f"the key {parsed.fingerprint} was registered meanwhile",
                            field="public_key", section=SECTION) from None
    return key


def block_key(*, actor: Person | None, key: SshKey, reason: str,
              authority: AuthorityLike, removal: AccessRemoval | None = None) -> SshKey:
    """Block a key (SM 9.1.7 step 1): from now on, finding it on any system is a
    violation. A block is not undone; a person who needs access again registers a new
    key. Systems Administrators block keys; so does whoever removes the key's owner's
    access (removals.remove_access, SM 3.4.4), under that `removal`."""
    if removal is None:
        _require_keeper(actor, "blocking an SSH key")
    elif actor is None or removal.removed_by_id != actor.pk or removal.person_id != key.person_id:
        raise NotAllowed("a key is blocked under a removal of access by whoever removed "
                         "its owner's access", section="SM 3.4.4")
    if not reason.strip():
        raise RuleViolation("say why the key is blocked", field="reason", section="SM 9.1.7")
    check_text(SshKey, {"block_reason": reason.strip()}, {"block_reason": "reason"})
    with transaction.atomic():
        locked = SshKey.objects.select_for_update().get(pk=key.pk)
        if locked.blocked_at is not None:
            raise RuleViolation(f"this key was blocked on {locked.blocked_at:%Y-%m-%d}",
                                field="key", section="SM 9.1.7")
        authority_row = resolve_authority(authority)
        locked.blocked_at, locked.blocked_by = timezone.now(), actor
        locked.block_reason = reason.strip()
        locked.save(update_fields=["blocked_at", "blocked_by", "block_reason"])
        details: dict[str, object] = {"person": locked.person.name,
                                      "fingerprint": locked.fingerprint,
                                      "reason": locked.block_reason}
        if removal is not None:
            details["removal"] = removal.pk
        record("privileged.key.block", actor=actor, authority=authority_row, subject=locked,
               retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line", details=details)
    return locked
