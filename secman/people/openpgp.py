"""People's OpenPGP public keys, read and used by GnuPG in a throw-away keyring: secman
never trusts or changes the operator's keyring for this, and needs no secret key."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import gnupg

from secman.core.errors import RuleViolation

ARMOUR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"


@contextmanager
def _keyring() -> Iterator[gnupg.GPG]:
    with tempfile.TemporaryDirectory(prefix="secman-gpg-") as home:
        try:
            yield gnupg.GPG(gnupghome=home)
        except (OSError, ValueError) as exc:
            raise RuleViolation(f"GnuPG cannot be started ({exc}): install Debian's "
                                "gnupg") from None


def fingerprint_of(armoured: str) -> str:
    """The fingerprint of the one public key in `armoured`; refused unless it holds
    exactly one public key that can encrypt (and no secret key)."""
    text = (armoured or "").strip()
    if not text.startswith(ARMOUR_BEGIN):
        raise RuleViolation("paste the OpenPGP public key in ASCII armour (gpg --armor "
                            "--export FINGERPRINT): it starts with " + ARMOUR_BEGIN,
                            field="openpgp_key")
    with _keyring() as gpg:
        result = gpg.import_keys(text)
        if gpg.list_keys(secret=True):
            raise RuleViolation("this is a secret key: paste the public key only",
                                field="openpgp_key")
        keys = gpg.list_keys()
        if len(keys) != 1:
            raise RuleViolation(f"one public key is expected; this holds {len(keys)}"
                                + (f" ({result.stderr.strip()[-200:]})" if not keys else ""),
                                field="openpgp_key")
        key = keys[0]
        can_encrypt = "e" in key.get("cap", "") or any(
            "e" in sub[1] for sub in key.get("subkeys", []) if len(sub) > 1)
        if key.get("trust") in ("r", "e") or not can_encrypt:
            raise RuleViolation("this key is revoked, expired or cannot encrypt",
                                field="openpgp_key")
        return str(key["fingerprint"]).upper()


def encrypt(data: bytes, armoured_keys: list[str], *, armor: bool = True) -> bytes:
    """`data` as one OpenPGP message to every key of `armoured_keys` (each a person's
    stored public key): any one of their secret keys decrypts it."""
    if not armoured_keys:
        raise RuleViolation("nobody to encrypt to: no OpenPGP public key is recorded")
    with _keyring() as gpg:
        fingerprints = []
        for armoured in armoured_keys:
            imported = gpg.import_keys(armoured)
            fingerprints += [fp for fp in imported.fingerprints if fp not in fingerprints]
        # The keys were just imported into a keyring of this call only; trusting them is
        # what the person who recorded each key vouched for.
        result = gpg.encrypt(data, fingerprints, armor=armor, always_trust=True)
        if not result.ok:
            raise RuleViolation(f"GnuPG could not encrypt: {result.status} "
                                f"{(result.stderr or '').strip()[-300:]}")
        return bytes(result.data)
