"""SM 4.1.3, all changes made to system configuration are recorded through RCS; and the
team leader's summary to the Board (SP 3.2.3.1) of the period's patches, emergency
patches with their cases, and configuration changes.

Test                                                         Section
--------------------------------------------------------------------------------------
test_changes_are_recorded_by_systems_administrators           SM 4.1.3
test_a_change_names_its_rcs_reference                         SM 4.1.3
test_the_summary_lists_the_periods_patches_and_changes        SP 3.2.3.1
test_the_summary_is_a_quarterly_duty_of_systems_administration  SP 3.2.3.1
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.cli import main
from secman.core.controls import Kind, control
from secman.core.errors import NotAllowed, RuleViolation
from secman.systems import patches
from secman.systems.models import ConfigurationChange, Patch, System
from tests.refusals import actions_since, last_seq, refused


@pytest.fixture
def hop(db):
    return System.objects.create(name="hop", kind="vm", os_release="12")


def change(org, hop, **overrides):
    kwargs = {"actor": org.sue, "system": hop, "summary": "sshd: no password logins",
              "rcs_reference": "cacert-puppet@1a2b3c4", "covers": ["sshd"]} | overrides
    return patches.record_change(**kwargs)


@pytest.mark.parametrize("login", ["bea", "aud", "axel", "ola", "admin"])
def test_changes_are_recorded_by_systems_administrators(org, hop, login):
    with refused(NotAllowed, "Systems Administrators", ConfigurationChange,
                 section="SM 4.1.3"):
        change(org, hop, actor=org.people[login])
    seq = last_seq()
    recorded = change(org, hop)
    assert actions_since(seq) == ["systems.change.record"]
    assert (recorded.recorded_by, recorded.covers, str(recorded.authority)) == (
        org.sue, ["sshd"], "SM 4.1.3")


@pytest.mark.parametrize(("overrides", "match"), [
    ({"rcs_reference": "the usual repo"}, "is not an RCS reference"),
    ({"rcs_reference": ""}, "is not an RCS reference"),
    ({"summary": ""}, "say what was changed"),
    ({"summary": "two\nlines"}, "line break"),
    ({"covers": ["firewall"]}, "not firewall"),
    ({"made_at": timezone.now() + dt.timedelta(days=1)}, "not in the future"),
    ({"made_at": timezone.now() - dt.timedelta(days=400)}, "more than a year old"),
])
def test_a_change_names_its_rcs_reference(org, hop, overrides, match):
    with refused(RuleViolation, match, ConfigurationChange):
        change(org, hop, **overrides)


def test_the_summary_lists_the_periods_patches_and_changes(org, hop):
    today = timezone.localdate()
    normal = patches.propose_patch(actor=org.sue, advisory="DSA-5678-1", title="openssl",
                                   packages=["openssl"], systems=[hop])
    emergency = patches.propose_patch(actor=org.sue, advisory="CVE-2026-1234", title="sshd",
                                      packages=["openssh-server"], systems=[hop],
                                      emergency=True, exploit="remote exploit public")
    request = patches.start_application(actor=org.sue, patch=emergency)
    from secman.authority.services import sign
    sign(actor=org.sid, request=request, slot="observer")
    patches.approve_patch(actor=org.sam, patch=emergency)
    change(org, hop)
    old = change(org, hop, summary="older")
    ConfigurationChange.objects.filter(pk=old.pk).update(
        made_at=timezone.now() - dt.timedelta(days=200))
    found = patches.summary(today - dt.timedelta(days=30), today)
    assert [p.advisory for p in found.patches] == ["DSA-5678-1", "CVE-2026-1234"]
    assert [p.advisory for p in found.emergencies] == ["CVE-2026-1234"]
    assert [c.summary for c in found.changes] == ["sshd: no password logins"]
    data = found.as_json()
    case = Patch.objects.get(pk=emergency.pk).case
    assert data["emergency_patches"][0]["case"] == case.number
    assert data["patches"][0]["id"] == normal.pk
    assert patches.summary(today + dt.timedelta(days=1), today + dt.timedelta(days=2)
                           ).patches == []
    with pytest.raises(RuleViolation, match=r"ends .* before it begins"):
        patches.summary(today, today - dt.timedelta(days=1))
    # The command line says the same, as JSON.
    result = CliRunner().invoke(main, ["systems", "summary", "--from",
                                       str(today - dt.timedelta(days=30)), "--to",
                                       str(today), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["emergency_patches"][0]["case"] == case.number
    result = CliRunner().invoke(main, ["systems", "summary", "--from", str(today), "--to",
                                       str(today - dt.timedelta(days=1))])
    assert result.exit_code != 0 and "before it begins" in result.output


def test_the_summary_is_a_quarterly_duty_of_systems_administration():
    duty = control("systems.board_summary")
    assert (duty.kind, duty.schedule, duty.owner, duty.sections) == (
        Kind.DUTY, "quarterly", "systems_administration", ("SP 3.2.3.1",))
    assert patches.last_quarter(dt.date(2026, 2, 10)) == (dt.date(2025, 10, 1),
                                                           dt.date(2025, 12, 31))
    assert patches.last_quarter(dt.date(2026, 7, 1)) == (dt.date(2026, 4, 1),
                                                          dt.date(2026, 6, 30))
