from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import gnupg
import pytest

PASSPHRASE = "correct horse battery staple"


@dataclass
class Keyring:
    home: str
    fingerprint: str
    other: str  # a second key whose secret part this keyring also holds


def _make_key(keyring: gnupg.GPG, name: str) -> str:
    key = keyring.gen_key(keyring.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real=name, name_email=f"{name.lower().replace(' ', '-')}@example.org",
        passphrase=PASSPHRASE, expire_date=0))
    assert key.fingerprint, key.stderr
    return key.fingerprint


@pytest.fixture(scope="session")
def keyring() -> Iterator[Keyring]:
    """A GnuPG home with two real keys (a short path: gpg-agent's socket lives in it)."""
    if shutil.which("gpg") is None:
        pytest.fail("gpg is not installed: bin/debian-packages installs gnupg")
    home = tempfile.mkdtemp(prefix="sg", dir="/tmp")
    gpg = gnupg.GPG(gnupghome=home)
    yield Keyring(home, _make_key(gpg, "DR key"), _make_key(gpg, "Other key"))
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def backup_settings(settings, keyring):
    settings.BACKUP_GNUPGHOME = keyring.home
    settings.BACKUP_RECIPIENTS = [keyring.fingerprint]
    return settings
