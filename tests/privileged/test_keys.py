"""SSH keys (secman.privileged.keys): reading public keys and fingerprints, hostile
input refused with nothing written, a key belongs to one person, blocking."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.privileged import keys
from secman.privileged.models import SshKey
from tests.privileged.support import KEY_A, KEY_A_FINGERPRINT, KEY_B

pytestmark = pytest.mark.django_db

PRIVATE = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
           "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
           "-----END OPENSSH PRIVATE KEY-----\n")


def nothing_written() -> bool:
    return not SshKey.objects.exists() and not Event.objects.filter(
        action__startswith="privileged.").exists()


def test_a_public_key_line_gives_openssh_fingerprint():
    parsed = keys.parse_public_key(KEY_A)
    assert parsed.fingerprint == KEY_A_FINGERPRINT
    assert (parsed.key_type, parsed.bits, parsed.comment) == ("ssh-ed25519", 256, "spare1")


@given(st.text(max_size=300))
def test_any_text_is_a_key_or_a_clear_refusal(text):
    try:
        parsed = keys.parse_public_key(text)
    except RuleViolation as exc:
        assert exc.field == "public_key" and exc.section
    else:
        assert keys.FINGERPRINT_RE.fullmatch(parsed.fingerprint)


@given(st.text(max_size=80))
def test_any_text_is_a_fingerprint_or_a_clear_refusal(text):
    try:
        value = keys.parse_fingerprint(text)
    except RuleViolation as exc:
        assert exc.field == "fingerprint"
    else:
        assert value.startswith("SHA256:") and len(value) == 50


@given(prefix=st.sampled_from(keys.KEY_TYPES), junk=st.text(min_size=1, max_size=200))
def test_a_type_and_garbage_is_refused(prefix, junk):
    with pytest.raises(RuleViolation):
        keys.parse_public_key(f"{prefix} {junk.replace(' ', '')}x=")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), st.just(PRIVATE),
                      st.just(KEY_A.replace("AAAA", "AAAB")), st.just(KEY_A[:40])))
def test_malformed_keys_write_nothing(org, text):
    with pytest.raises(RuleViolation):
        keys.add_key(actor=org.sam, person=org.sid, public_key=text or " ",
                     authority="SM 3.4.3")
    assert nothing_written()


def test_a_private_key_is_refused_and_not_echoed(org):
    with pytest.raises(RuleViolation) as refused:
        keys.add_key(actor=org.sam, person=org.sid, public_key=PRIVATE, authority="SM 3.4.3")
    assert "private key" in str(refused.value) and "b3Blbn" not in str(refused.value)
    assert nothing_written()


def test_a_key_belongs_to_one_person(org):
    keys.add_key(actor=org.sam, person=org.sid, public_key=KEY_A, authority="SM 3.4.3")
    before = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        keys.add_key(actor=org.sam, person=org.sue, public_key=KEY_A, authority="SM 3.4.3")
    assert "Sid's" in str(refused.value)
    with pytest.raises(RuleViolation):  # by fingerprint too
        keys.add_key(actor=org.sam, person=org.sue, fingerprint=KEY_A_FINGERPRINT,
                     key_type="ssh-ed25519", authority="SM 3.4.3")
    assert SshKey.objects.count() == 1 and Event.objects.count() == before


def test_by_fingerprint_and_type_and_the_entry(org):
    key = keys.add_key(actor=org.sam, person=org.sid, fingerprint=KEY_A_FINGERPRINT,
                       key_type="ssh-ed25519", comment="laptop", authority="SM 3.4.3")
    assert key.public_key == "" and key.added_by == org.sam
    entry = Event.objects.get(action="privileged.key.add")
    assert entry.details["fingerprint"] == KEY_A_FINGERPRINT and entry.authority == "SM 3.4.3"
    with pytest.raises(RuleViolation) as refused:
        keys.add_key(actor=org.sam, person=org.sid, fingerprint="SHA256:abc",
                     key_type="ssh-ed25519", authority="SM 3.4.3")
    assert refused.value.field == "fingerprint"
    with pytest.raises(RuleViolation) as refused:  # a line and another key's fingerprint
        keys.add_key(actor=org.sam, person=org.sid, public_key=KEY_B,
                     fingerprint=KEY_A_FINGERPRINT, authority="SM 3.4.3")
    assert refused.value.field == "fingerprint"
    assert SshKey.objects.count() == 1


def test_only_systems_administrators_register_and_block(org):
    for outsider in (org.aud, org.otto, org.bea):
        with pytest.raises(NotAllowed):
            keys.add_key(actor=outsider, person=outsider, public_key=KEY_A,
                         authority="SM 3.4.3")
    assert nothing_written()
    key = keys.add_key(actor=org.sam, person=org.sid, public_key=KEY_A, authority="SM 3.4.3")
    with pytest.raises(NotAllowed):
        keys.block_key(actor=org.aud, key=key, reason="left", authority="SM 9.1.7")


def test_blocking_once_with_a_reason(org):
    key = keys.add_key(actor=org.sam, person=org.sid, public_key=KEY_A, authority="SM 3.4.3")
    with pytest.raises(RuleViolation):
        keys.block_key(actor=org.sam, key=key, reason="  ", authority="SM 9.1.7")
    blocked = keys.block_key(actor=org.sam, key=key, reason="left", authority="SM 9.1.7")
    assert blocked.blocked_at and blocked.blocked_by == org.sam
    assert Event.objects.get(action="privileged.key.block").details["reason"] == "left"
    with pytest.raises(RuleViolation):
        keys.block_key(actor=org.sam, key=blocked, reason="again", authority="SM 9.1.7")
    assert Event.objects.filter(action="privileged.key.block").count() == 1
