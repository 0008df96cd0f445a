"""Temporary grants (SP 4.1.1.1): the Systems Administration team leader (or as the
Arbitrator directs) grants a Software Assessor SSH access until an end. Every refusal
writes nothing; the control finds the key of an ended grant still on the system."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.privileged import checks, grants
from secman.privileged.models import TemporaryGrant
from tests.privileged.helpers import critical, new_key, report
from tests.refusals import actions_since, last_seq, refused

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def no_change(exc_type, match, section="SP 4.1.1.1"):
    return refused(exc_type, match, TemporaryGrant, section=section)


@pytest.fixture
def signer(org):
    return critical(org, "signer")


def grant(org, signer, actor=None, **fields):
    values = {"person": org.otto, "reason": "debug the signer's queue",
              "ends_at": timezone.now() + DAY, "authority": "SP 4.1.1.1", **fields}
    return grants.grant_access(actor=actor or org.sam, system=signer, **values)


def test_refusals_write_nothing(org, signer):
    for outsider in (org.sue, org.ola, org.aud, org.bea, org.admin):
        with no_change(NotAllowed, "team leader"):
            grant(org, signer, actor=outsider)
    for not_assessor in (org.sue, org.pia, org.nobody):
        with no_change(RuleViolation, "not a Software Assessor"):
            grant(org, signer, person=not_assessor)
    with no_change(RuleViolation, "has an end"):
        grant(org, signer, ends_at=None)
    with no_change(RuleViolation, "end is in the past"):
        grant(org, signer, ends_at=timezone.now() - DAY)
    with no_change(RuleViolation, "after the start"):
        grant(org, signer, starts_at=timezone.now() + 2 * DAY)
    with no_change(RuleViolation, "at most 30 days"):
        grant(org, signer, ends_at=timezone.now() + 31 * DAY)
    with no_change(RuleViolation, "say why"):
        grant(org, signer, reason="  ")
    with no_change(RuleViolation, "a past grant has ended"):
        grants.record_past_grant(actor=org.sam, person=org.otto, system=signer, reason="x",
                                 starts_at=timezone.now() - DAY,
                                 ends_at=timezone.now() + DAY, authority="SP 4.1.1.1")


def test_the_leader_or_the_arbitrator_grants_and_expiry_is_a_query(org, signer):
    seq = last_seq()
    mine = grant(org, signer)
    directed = grant(org, signer, actor=org.arne, person=org.ola)
    assert actions_since(seq) == ["privileged.grant.add"] * 2
    assert set(grants.active_grants()) == {mine, directed}
    assert grants.active_grants(timezone.now() + 2 * DAY).count() == 0
    assert grants.state(mine, timezone.now() + 2 * DAY) == "expired"


def test_revoking_early(org, signer):
    given_grant = grant(org, signer)
    with no_change(NotAllowed, "team leader"):
        grants.revoke_grant(actor=org.sue, grant=given_grant, reason="done",
                            authority="SP 4.1.1.1")
    seq = last_seq()
    done = grants.revoke_grant(actor=org.sam, grant=given_grant, reason="debugging done",
                               authority="SP 4.1.1.1")
    assert done.revoked_by == org.sam and actions_since(seq) == ["privileged.grant.revoke"]
    assert grants.state(done) == "revoked" and not grants.active_grants().exists()
    with no_change(RuleViolation, "revoked already"):
        grants.revoke_grant(actor=org.sam, grant=done, reason="again",
                            authority="SP 4.1.1.1")


def test_an_ended_grants_key_still_present_is_violated_until_gone(org, signer):
    key = new_key(org, org.otto)
    past = grants.record_past_grant(
        actor=org.sam, person=org.otto, system=signer, reason="debugging last month",
        starts_at=timezone.now() - 10 * DAY, ends_at=timezone.now() - 8 * DAY,
        authority="SP 4.1.1.1")
    assert grants.state(past) == "expired"
    # A report from before the end proves nothing yet: a warning.
    report(signer, [key.fingerprint], at=timezone.now() - 9 * DAY)
    [finding] = grants.ended_grant_keys_removed()
    assert finding.status == "warning"
    report(signer, [key.fingerprint])
    [finding] = grants.ended_grant_keys_removed()
    assert finding.status == "violated" and key.fingerprint in finding.message
    assert finding.section == "SP 4.1.1.1" and f"#grant-{past.pk}" in finding.url
    # Said once: the list control leaves a key whose grant ended to this one.
    assert not [f for f in checks.keys_of_listed_people() if key.fingerprint in f.message]
    # A new grant in effect: the key is there rightly.
    current = grant(org, signer)
    assert grants.ended_grant_keys_removed() == []
    grants.revoke_grant(actor=org.sam, grant=current, reason="done",
                        authority="SP 4.1.1.1")
    assert len(grants.ended_grant_keys_removed()) == 1
    report(signer, [])
    assert grants.ended_grant_keys_removed() == []


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(hours=st.integers(min_value=-10_000, max_value=10_000),
       reason=st.text(max_size=300))
def test_any_end_and_reason_is_granted_or_refused_cleanly(org, signer, hours, reason):
    ends = timezone.now() + dt.timedelta(hours=hours)
    before = TemporaryGrant.objects.count()
    try:
        made = grant(org, signer, ends_at=ends, reason=reason)
    except RuleViolation as exc:
        assert exc.field in ("ends_at", "reason")
        assert TemporaryGrant.objects.count() == before
        return
    assert 0 < hours <= 30 * 24 and made.reason == reason.strip()
