"""The OpenPGP layer of a backup, as GnuPG reads it (SP 4.3.5): which keys a file is
encrypted to, read from its packets without decrypting it, and which key ids the
configured DR keys encrypt with (their encryption subkeys)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from secman.backups.own import BackupError, gpg

# gpg --list-packets: ":pubkey enc packet: version 3, algo 18, keyid 6844349EF1731F13"
_PUBKEY_ENC = re.compile(r"^:pubkey enc packet:.*\bkeyid ([0-9A-F]{16})\b", re.MULTILINE)
# The packets of the first part of the file are enough; a backup may be very large.
HEAD_BYTES = 1 << 20


def recipients_of(sample: Path) -> list[str]:
    """The key ids `sample` is encrypted to (empty: not an OpenPGP message, or one
    encrypted with a passphrase only)."""
    if not sample.is_file():
        raise BackupError(f"{sample} is not a file")
    with sample.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    keyring = gpg()
    # gpg with secman's keyring home; the data comes on standard input, no shell.
    command = [keyring.gpgbinary, "--batch", "--no-tty", "--pinentry-mode", "cancel",
               "--list-packets"]
    if keyring.gnupghome:
        command[1:1] = ["--homedir", keyring.gnupghome]
    done = subprocess.run(command, input=head, capture_output=True,  # noqa: S603
                          timeout=120, check=False)
    return sorted(set(_PUBKEY_ENC.findall(done.stdout.decode("utf-8", "replace"))))


def encryption_key_ids(fingerprints: list[str]) -> list[str]:
    """The key ids the configured keys encrypt to: their encryption-capable subkeys (or
    the primary key when it encrypts itself)."""
    keyring = gpg()
    found: set[str] = set()
    for key in keyring.list_keys(keys=list(fingerprints)) if fingerprints else []:
        if key["fingerprint"].upper() not in fingerprints:
            continue
        subkeys = [sub[0] for sub in key.get("subkeys", []) if "e" in sub[1]]
        found.update(subkeys or ([key["keyid"]] if "e" in key.get("cap", "") else []))
    return sorted(found)
