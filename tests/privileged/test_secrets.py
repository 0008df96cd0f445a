"""Privileged secrets (SM 4.1.1, 9.1.7): registered without their value, with who knows
them and when they were changed. A secret is due after turnover or a suspected
compromise until rotated; root passwords are known only on the Console Access List."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.people import services as people_services
from secman.privileged import secrets_register as secrets
from secman.privileged.models import Secret, SecretHolder, SecretRotation
from tests.privileged.helpers import critical
from tests.refusals import actions_since, last_seq, refused

pytestmark = pytest.mark.django_db
TABLES = (Secret, SecretHolder, SecretRotation)


def no_change(exc_type, match, section="SM 4.1.1"):
    return refused(exc_type, match, *TABLES, section=section)


@pytest.fixture
def signer(org):
    return critical(org, "signer")


@pytest.fixture
def root(org, signer, approve):
    approve("console_access", org.sam)
    approve("console_access", org.sue)
    made = secrets.register_secret(actor=org.sue, name="signer root password",
                                   kind="root_password", systems=[signer],
                                   authority="SM 4.1.1")
    for person in (org.sam, org.sue):
        secrets.add_holder(actor=org.sue, secret=made, person=person, authority="SM 4.1.1")
    secrets.rotate_secret(actor=org.sue, secret=made, reason="first", authority="SM 4.1.1")
    return made


def test_registering_never_takes_a_value(org, signer):
    for outsider in (org.aud, org.sam.__class__.objects.get(pk=org.ola.pk), org.admin):
        with no_change(NotAllowed, "Systems Administrators"):
            secrets.register_secret(actor=outsider, name="x", kind="other",
                                    authority="SM 4.1.1")
    for field in ("value", "password", "Passphrase"):
        with no_change(RuleViolation, "never keeps a secret's value"):
            secrets.refuse_values({"name": "db", field: "hunter2"})
    with no_change(RuleViolation, "reads like a secret's value"):
        secrets.register_secret(actor=org.sue, name="db password=hunter2",
                                kind="service_password", authority="SM 4.1.1")
    with no_change(RuleViolation, "reads like a secret's value"):
        secrets.register_secret(actor=org.sue, name="db", kind="service_password",
                                where_used="-----BEGIN OPENSSH PRIVATE KEY-----",
                                authority="SM 4.1.1")
    with no_change(RuleViolation, "kind is one of"):
        secrets.register_secret(actor=org.sue, name="db", kind="magic", authority="SM 4.1.1")
    with pytest.raises(TypeError):
        secrets.register_secret(actor=org.sue, name="db", kind="other", value="x",  # type: ignore[call-arg]
                                authority="SM 4.1.1")
    seq = last_seq()
    made = secrets.register_secret(actor=org.sue, name="webdb database password",
                                   kind="service_password", weight="minor",
                                   systems=[signer], authority="SM 4.1.1")
    assert actions_since(seq) == ["privileged.secret.add"]
    with no_change(RuleViolation, "called"):
        secrets.register_secret(actor=org.sue, name="WEBDB database password",
                                kind="other", authority="SM 4.1.1")
    assert not any("hunter2" in str(v) for v in Secret.objects.values())
    assert made.weight == "minor"


def test_root_password_holders_are_on_the_console_access_list(org, root, approve):
    with no_change(RuleViolation, "not on the Console Access List"):
        secrets.add_holder(actor=org.sue, secret=root, person=org.sid, authority="SM 4.1.1")
    with no_change(RuleViolation, "knows signer root password already"):
        secrets.add_holder(actor=org.sue, secret=root, person=org.sam, authority="SM 4.1.1")
    assert secrets.root_password_holders() == []
    approve("console_access", org.sue, change="remove")
    [finding] = secrets.root_password_holders()
    assert "Sue knows signer root password" in finding.message
    # Leaving the list is also turnover: due until rotated.
    [due] = secrets.secrets_rotated()
    assert "Sue left the Console Access List" in due.message


def test_turnover_makes_a_secret_due_until_rotated(org, root):
    assert secrets.secrets_rotated() == []
    holding = root.holders.get(person=org.sam)
    with no_change(NotAllowed, "Systems Administrators"):
        secrets.end_holding(actor=org.aud, holding=holding, reason="left",
                            authority="SM 9.1.7")
    seq = last_seq()
    secrets.end_holding(actor=org.sue, holding=holding, reason="moved to Support",
                        authority="SM 9.1.7")
    assert actions_since(seq) == ["privileged.secret.holder_end"]
    [finding] = secrets.secrets_rotated()
    assert "signer root password" in finding.message and "Sam" in finding.message
    assert finding.section == "SM 4.1.1" and finding.url.endswith(f"/secrets/{root.pk}/")
    with no_change(RuleViolation, "reason is one of"):
        secrets.rotate_secret(actor=org.sue, secret=root, reason="whim", authority="SM 4.1.1")
    seq = last_seq()
    secrets.rotate_secret(actor=org.sue, secret=root, reason="turnover",
                          note="after Sam's move", authority="SM 4.1.1")
    assert actions_since(seq) == ["privileged.secret.rotate"]
    root.refresh_from_db()
    assert root.last_rotated_at is not None and secrets.secrets_rotated() == []


def test_a_sysadmin_who_left_makes_their_secrets_due(org, root):
    # The first rotation two days ago; Sue's membership ends today (her first day out).
    Secret.objects.filter(pk=root.pk).update(
        last_rotated_at=timezone.now() - dt.timedelta(days=2))
    membership = org.sue.memberships.get(role="systems_administrator")
    people_services.end_membership(actor=None, membership=membership, authority="SP 9.1.7",
                                   reason="resigned", end=dt.date.today())
    found = secrets.secrets_rotated()
    assert any("Sue left the Systems Administrators" in f.message for f in found)
    secrets.rotate_secret(actor=org.sam, secret=root, reason="turnover", authority="SM 4.1.1")
    assert not any("Sue left" in f.message for f in secrets.secrets_rotated())


def test_a_suspected_compromise_makes_every_secret_used_there_due(org, root, signer):
    with no_change(NotAllowed, "Systems Administrators"):
        secrets.mark_compromised(actor=org.aud, system=signer, reason="odd logins",
                                 authority="SM 4.1.1")
    seq = last_seq()
    secrets.mark_compromised(actor=org.sue, system=signer, reason="odd logins",
                             authority="SM 4.1.1")
    assert actions_since(seq) == ["privileged.system.compromised"]
    [finding] = secrets.secrets_rotated()
    assert "suspected compromised" in finding.message
    secrets.rotate_secret(actor=org.sue, secret=root, reason="compromise",
                          authority="SM 4.1.1")
    assert secrets.secrets_rotated() == []


def test_a_retired_secret_is_kept_and_never_due(org, root, signer):
    with no_change(NotAllowed, "Systems Administrators"):
        secrets.retire_secret(actor=org.aud, secret=root, reason="signer replaced",
                              authority="SM 4.1.1")
    with no_change(RuleViolation, "reason"):
        secrets.retire_secret(actor=org.sue, secret=root, reason="  ", authority="SM 4.1.1")
    secrets.mark_compromised(actor=org.sue, system=signer, reason="odd logins",
                             authority="SM 4.1.1")
    assert secrets.secrets_rotated()
    seq = last_seq()
    secrets.retire_secret(actor=org.sue, secret=root, reason="signer replaced",
                          authority="SM 4.1.1")
    assert actions_since(seq) == ["privileged.secret.retire"]
    kept = Secret.objects.get(pk=root.pk)
    assert kept.retired_by == org.sue and kept.retire_reason == "signer replaced"
    assert kept.holders.count() == 2 and kept.rotations.count() == 1
    assert secrets.secrets_rotated() == [] and secrets.due_secrets() == {}
    with no_change(RuleViolation, "was retired on"):
        secrets.retire_secret(actor=org.sue, secret=root, reason="again",
                              authority="SM 4.1.1")
    with no_change(RuleViolation, "is retired"):
        secrets.rotate_secret(actor=org.sue, secret=root, reason="scheduled",
                              authority="SM 4.1.1")


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(name=st.text(max_size=200), where=st.text(max_size=400))
def test_hostile_names_are_refused_or_stored_as_given(org, name, where):
    try:
        made = secrets.register_secret(actor=org.sue, name=name, kind="other",
                                       where_used=where, authority="SM 4.1.1")
    except RuleViolation as exc:
        assert exc.field in ("name", "where_used")
        return
    made.refresh_from_db()
    assert (made.name, made.where_used) == (name.strip(), where.strip())
