"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint),
signed with Ed25519.

Standard library and `cryptography` only, so that the offline verifier can use it.

A checkpoint note looks like this (the last two body lines are secman's extensions):

    secman.example.org/eventlog
    1200
    <base64 root hash>
    time 2026-11-26T23:00:00Z
    prev <base64 SHA-256 of the previous checkpoint's whole note, or "-" for the first>

    — secman.example.org/eventlog <base64(4-byte key id || 64-byte signature)>
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(ValueError):
    """A note or key that cannot be read or does not verify; the message says why."""


def b64(text: str) -> bytes:
    """Strict, canonical base64: one text for one value. (Python's decoder accepts stray
    bits in the last character, so two different signature lines would verify alike.)"""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise binascii.Error("not canonical base64")
    return raw


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> int:
    return int.from_bytes(sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4], "big")


def check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def verifier_key(name: str, public: bytes) -> str:
    """The vkey text others keep to check secman's checkpoints."""
    check_key_name(name)
    return f"{name}+{key_id(name, public):08x}+{base64.b64encode(ED25519 + public).decode()}"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: int
    public: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        # The name and the hex id hold no "+", the base64 key may: split twice only.
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key has the form name+keyid+base64key")
        name, hex_id, encoded = parts
        check_key_name(name)
        try:
            raw = b64(encoded)
            wanted = int(hex_id, 16)
        except (binascii.Error, ValueError):
            raise NoteError("the verifier key is not valid hex and base64") from None
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        if key_id(name, raw[1:]) != wanted or len(hex_id) != 8:
            raise NoteError("the verifier key's id does not match its name and key")
        return cls(name, wanted, raw[1:])


def sign(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """Append one signature line to a note text."""
    if not text.endswith("\n"):
        raise NoteError("a note text ends with a newline")
    public = raw_public(private.public_key())
    signature = private.sign(text.encode())
    blob = key_id(name, public).to_bytes(4, "big") + signature
    return f"{text}\n{DASH} {name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: list[tuple[str, int, bytes]]  # (key name, key id, signature)

    @classmethod
    def parse(cls, note: str) -> SignedNote:
        if "\r" in note or any(ord(c) < 0x20 and c != "\n" for c in note):
            raise NoteError("a note holds no control characters but newlines")
        text, sep, tail = note.rpartition("\n\n")
        if not sep or not tail.endswith("\n"):
            raise NoteError("a signed note is text, a blank line, and signature lines")
        signatures = []
        for line in tail[:-1].split("\n"):
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != DASH:
                raise NoteError(f"not a signature line: {line[:60]!r}")
            try:
                blob = b64(parts[2])
            except ValueError:  # binascii.Error, or text that is not ASCII
                raise NoteError("a signature is not valid base64") from None
            if len(blob) < 5:
                raise NoteError("a signature is too short")
            signatures.append((parts[1], int.from_bytes(blob[:4], "big"), blob[4:]))
        return cls(text + "\n", signatures)

    def verify(self, verifier: Verifier) -> bool:
        for name, signer_id, signature in self.signatures:
            if name == verifier.name and signer_id == verifier.key_id:
                try:
                    Ed25519PublicKey.from_public_bytes(verifier.public).verify(
                        signature, self.text.encode())
                except InvalidSignature:
                    return False
                return True
        return False

    def key_ids(self) -> list[int]:
        return [signer_id for _, signer_id, _ in self.signatures]


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes
    time: str
    prev: bytes | None  # SHA-256 of the previous checkpoint note

    def text(self) -> str:
        prev = base64.b64encode(self.prev).decode() if self.prev else "-"
        return (f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
                f"time {self.time}\nprev {prev}\n")

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        lines = text.split("\n")
        if len(lines) < 6 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size, a root hash, time and prev")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        extensions = dict(line.split(" ", 1) for line in lines[3:-1] if " " in line)
        if not size_text.isascii() or not size_text.isdigit() or (
                size_text.startswith("0") and size_text != "0"):
            raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = b64(root_text)
            prev_text = extensions.get("prev", "")
            prev = None if prev_text == "-" else b64(prev_text)
        except ValueError:  # binascii.Error, or text that is not ASCII
            raise NoteError("the checkpoint's hashes are not valid base64") from None
        if len(root) != 32 or (prev is not None and len(prev) != 32):
            raise NoteError("the checkpoint's hashes are not SHA-256 hashes")
        if "time" not in extensions or "prev" not in extensions:
            raise NoteError("the checkpoint lacks its time or prev line")
        return cls(origin, int(size_text), root, extensions["time"], prev)


def note_hash(note: str) -> bytes:
    return sha256(note.encode()).digest()
