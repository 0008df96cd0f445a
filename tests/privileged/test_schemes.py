"""Authentication schemes (SP 3.4.3 "All authentication schemes must be documented"):
every rule broken once (the refusal writes nothing) and followed once; the controls find
their case and turn OK when it is fixed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.privileged import schemes
from secman.privileged.models import AuthenticationScheme
from secman.systems import services
from tests.privileged.helpers import critical, infrastructure
from tests.refusals import actions_since, last_seq, refused

pytestmark = pytest.mark.django_db


def no_change(exc_type, match, section=None):
    return refused(exc_type, match, AuthenticationScheme, section=section)


def ssh(org, system, hop, actor=None, **fields):
    values = {"path": "ssh_hop", "via": hop, "authenticates": "personal ed25519 keys",
              "refused": "passwords; root logins", "ip_blocking": True,
              "authority": "SP 3.4.3", **fields}
    return schemes.document_scheme(actor=actor or org.sue, system=system, **values)


@pytest.fixture
def signer(org):
    return critical(org, "signer")


def test_refusals_write_nothing(org):
    signer, hop = critical(org, "signer"), infrastructure(org, "hop")
    for outsider in (org.aud, org.ola, org.bea, org.admin):
        with no_change(NotAllowed, "Systems Administrators", "SP 3.4.3"):
            ssh(org, signer, hop, actor=outsider)
    with no_change(RuleViolation, "names the hop machine"):
        ssh(org, signer, None)
    with no_change(RuleViolation, "its own hop"):
        ssh(org, signer, signer)
    with no_change(RuleViolation, "only SSH via the hop"):
        ssh(org, signer, hop, path="console")
    with no_change(RuleViolation, "what authenticates"):
        ssh(org, signer, hop, authenticates="  ")
    with no_change(RuleViolation, "what is refused"):
        ssh(org, signer, hop, refused="")
    with no_change(RuleViolation, "access path is one of"):
        ssh(org, signer, hop, path="telnet")


def test_a_new_scheme_replaces_the_old_one_with_history(org):
    signer, hop = critical(org, "signer"), infrastructure(org, "hop")
    seq = last_seq()
    first = ssh(org, signer, hop)
    second = ssh(org, signer, hop, authenticates="ed25519 keys on tokens")
    first.refresh_from_db()
    assert first.ended_at is not None and second.ended_at is None
    assert actions_since(seq) == ["privileged.scheme.document"] * 2
    assert list(schemes.live_schemes()) == [second]
    ended = schemes.end_scheme(actor=org.sue, scheme=second, reason="console only now",
                               authority="SP 3.4.3")
    assert ended.ended_at is not None
    with no_change(RuleViolation, "ended on"):
        schemes.end_scheme(actor=org.sue, scheme=second, reason="again", authority="SP 3.4.3")


def test_every_critical_system_has_ssh_and_console_schemes(org):
    signer, hop = critical(org, "signer"), infrastructure(org, "hop")
    [finding] = schemes.schemes_documented()
    assert "SSH or console" in finding.message and finding.section == "SP 3.4.3"
    ssh(org, signer, hop)
    [finding] = schemes.schemes_documented()
    assert "console" in finding.message and "SSH" not in finding.message
    schemes.document_scheme(actor=org.sue, system=signer, path="console",
                            authenticates="root password (Console Access List)",
                            refused="remote consoles", authority="SP 3.4.3")
    assert schemes.schemes_documented() == []


def test_a_hop_scheme_through_a_retired_hop_is_violated(org):
    signer, hop = critical(org, "signer"), infrastructure(org, "hop")
    ssh(org, signer, hop)
    assert schemes.hop_in_service() == []
    services.retire_system(actor=org.sue, system=hop, reason="replaced",
                           authority="SP 3.2.2")
    [finding] = schemes.hop_in_service()
    assert "hop, which is retired" in finding.message
    hop2 = infrastructure(org, "hop2")
    ssh(org, signer, hop2)
    assert schemes.hop_in_service() == []
    with no_change(RuleViolation, "is retired"):
        ssh(org, signer, hop)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(text=st.text(max_size=12_000))
def test_hostile_scheme_text_is_refused_or_stored_as_given(org, signer, text):
    try:
        scheme = schemes.document_scheme(actor=org.sue, system=signer, path="console",
                                         authenticates=text, refused="nothing else",
                                         authority="SP 3.4.3")
    except RuleViolation as exc:
        assert exc.field in ("authenticates", "refused")
        return
    scheme.refresh_from_db()
    assert scheme.authenticates == text.strip()
