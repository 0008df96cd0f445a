"""SM 3.2, the operating system: Debian's own release calendar (distro-info-data, the
real /usr/share/distro-info/debian.csv of this machine) says when each release's security
support ends; a system on oldstable is upgraded before then, and the signing server's
exception is accepted by the Board, not ignored.

Test                                                       Section
--------------------------------------------------------------------------------------
test_a_system_release_names_its_debian_release              SM 3.2
test_stable_oldstable_unsupported_on_fixed_dates             SM 3.2
test_oldstable_ends_a_year_after_the_next_stable_or_earlier  SM 3.2
test_oldstable_is_due_soon_before_its_end_and_violated_after SM 3.2
test_unknown_release_is_a_warning                            SM 3.2
test_the_signing_servers_exception_is_accepted_with_authority  SM 3.2, SP 1.2
test_a_hostile_calendar_is_a_clear_error                     (bad input)
test_a_missing_calendar_is_a_warning_naming_the_file          (bad input)
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.compliance import services as compliance
from secman.compliance.evaluation import evaluate
from secman.core.controls import Status, control
from secman.core.errors import NotAllowed
from secman.systems import controls, oslifecycle
from secman.systems.models import System
from secman.systems.oslifecycle import Support, lifecycle, parse_releases, read_releases

CSV = "/usr/share/distro-info/debian.csv"


@pytest.fixture
def releases():
    return read_releases(CSV)


def by_series(releases, series):
    return next(r for r in releases if r.series == series)


def test_a_system_release_names_its_debian_release(releases):
    assert oslifecycle.find_release("10.9", releases).series == "buster"
    assert oslifecycle.find_release("12", releases).series == "bookworm"
    assert oslifecycle.find_release("bookworm", releases).series == "bookworm"
    assert oslifecycle.find_release("Bookworm", releases).series == "bookworm"
    assert oslifecycle.find_release("12 (bookworm)", releases).series == "bookworm"
    assert oslifecycle.find_release("5.0.10", releases).series == "lenny"
    assert oslifecycle.find_release("lenny", releases).version == "5.0"
    assert oslifecycle.find_release("99", releases) is None
    assert oslifecycle.find_release("", releases) is None


def test_stable_oldstable_unsupported_on_fixed_dates(releases):
    bookworm, trixie = by_series(releases, "bookworm"), by_series(releases, "trixie")
    # The day before trixie's release, bookworm is stable; that day, oldstable.
    before = trixie.release - dt.timedelta(days=1)
    assert lifecycle("12", before, releases).support == Support.STABLE
    on = lifecycle("12.5", trixie.release, releases)
    assert on.support == Support.OLDSTABLE
    assert lifecycle("13", trixie.release, releases).support == Support.STABLE
    assert lifecycle("11", trixie.release, releases).support == Support.UNSUPPORTED
    assert on.supported and lifecycle("13", trixie.release, releases).supported
    # Still oldstable by Debian's name once its support has ended; no longer supported.
    after = lifecycle("bookworm", on.support_ends, releases)
    assert after.support == Support.OLDSTABLE and not after.supported
    assert after.days_left == 0
    assert not lifecycle("11", trixie.release, releases).supported
    assert bookworm.release < trixie.release
    testing = next(r for r in releases if r.version and r.release is None)
    assert lifecycle(testing.series, trixie.release, releases).support == Support.UNRELEASED


def test_oldstable_ends_a_year_after_the_next_stable_or_earlier(releases):
    trixie = by_series(releases, "trixie")
    bookworm = by_series(releases, "bookworm")
    state = lifecycle("12", trixie.release, releases)
    year_after = trixie.release + dt.timedelta(days=365)
    expected = min(bookworm.eol, year_after) if bookworm.eol else year_after
    assert state.support_ends == expected
    assert state.days_left == (expected - trixie.release).days
    # A calendar that has no eol for the oldstable release: a year after the next stable.
    text = ("version,codename,series,created,release,eol\n"
            "1,One,one,2000-01-01,2001-01-01,\n2,Two,two,2001-01-01,2002-03-01,\n")
    mine = parse_releases(text, "mine.csv")
    assert lifecycle("1", dt.date(2002, 6, 1), mine).support_ends == dt.date(2003, 3, 1)


def make_system(name, release, **fields):
    return System.objects.create(name=name, kind="vm", os_name="Debian GNU/Linux",
                                 os_release=release, **fields)


@pytest.mark.django_db
def test_oldstable_is_due_soon_before_its_end_and_violated_after(releases, settings):
    settings.SECMAN_DISTRO_INFO_CSV = CSV
    settings.SECMAN_OS_UPGRADE_LEAD_DAYS = 60
    make_system("webdb", "12.5")
    make_system("hop", "13")
    end = lifecycle("12", by_series(releases, "trixie").release, releases).support_ends

    def status_on(day):
        found = [f for f in controls.os_lifecycle_findings(day) if f.subject == "system:webdb"]
        assert [f.subject for f in controls.os_lifecycle_findings(day)] == ["system:webdb"]
        return found[0]

    far = status_on(end - dt.timedelta(days=200))
    assert far.status == Status.OK and str(end) in far.message and "200 days" in far.message
    soon = status_on(end - dt.timedelta(days=30))
    assert soon.status == Status.DUE_SOON and "upgrade it before then" in soon.message
    past = status_on(end)
    assert past.status == Status.VIOLATED and f"ended on {end}" in past.message
    assert "oldstable" in past.message
    assert past.section == "SM 3.2" and past.url == "/systems/os/#system-webdb"


@pytest.mark.django_db
def test_unknown_release_is_a_warning(settings):
    settings.SECMAN_DISTRO_INFO_CSV = CSV
    make_system("odd", "99.1")
    make_system("blank", "")
    System.objects.create(name="bsd", kind="vm", os_name="OpenBSD", os_release="7.5")
    found = {f.subject: f for f in controls.os_lifecycle_findings(dt.date(2026, 1, 1))}
    assert {s: f.status for s, f in found.items()} == {
        "system:odd": Status.WARNING, "system:blank": Status.WARNING,
        "system:bsd": Status.WARNING}
    assert "'99.1'" in found["system:odd"].message
    assert "OpenBSD" in found["system:bsd"].message


def test_the_signing_servers_exception_is_accepted_with_authority(org, settings):
    settings.SECMAN_DISTRO_INFO_CSV = CSV
    make_system("signer", "5.0.10")  # lenny, as SM 3.2 says
    make_system("webdb", "13")
    declared = control("systems.os_lifecycle")
    result = evaluate([declared])[0]
    assert result.status == Status.VIOLATED
    assert [f.subject for f in result.findings] == ["system:signer"]
    # An auditor, a Systems Administrator, the administrator may not accept it.
    for person in (org.aud, org.sam, org.admin):
        with pytest.raises(NotAllowed):
            compliance.accept(actor=person, control_id=declared.id, kind="exception",
                              subject="system:signer", reason="SM 3.2",
                              authority=org.decision,
                              expires_on=timezone.localdate() + dt.timedelta(days=365))
    acceptance = compliance.accept(
        actor=org.bea, control_id=declared.id, kind="exception", subject="system:signer",
        reason="SM 3.2: no external connections; not upgraded unless rebuilt",
        authority=org.decision, expires_on=timezone.localdate() + dt.timedelta(days=365))
    result = evaluate([declared])[0]
    assert result.status == Status.OK
    assert [(f.subject, a.pk) for f, a in result.accepted] == [("system:signer",
                                                                acceptance.pk)]
    # Withdrawn, the finding counts again.
    compliance.withdraw_acceptance(actor=org.tom, acceptance=acceptance, authority=org.decision)
    assert evaluate([declared])[0].status == Status.VIOLATED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_a_hostile_calendar_is_a_clear_error(garbage):
    text = "version,codename,series,created,release,eol\n" + garbage
    try:
        releases = parse_releases(text, "hostile.csv")
    except oslifecycle.DistroInfoError as exc:
        assert re.match(r"hostile\.csv(:\d+)?: ", str(exc)), str(exc)
        assert exc.section == "SM 3.2"
    else:
        for release in releases:
            assert re.fullmatch(r"[a-z][a-z0-9-]*", release.series)
            assert release.eol is None or release.release is None or (
                release.eol >= release.release)


@pytest.mark.parametrize(("text", "message"), [
    ("", "hostile.csv:1: the header must begin"),
    ("version,codename,series,created,release,eol\n12,B,bookworm,2021-08-14,2023-13-01,\n",
     "hostile.csv:2: release '2023-13-01' is not a date"),
    ("version,codename,series,created,release,eol\n12,B,Bad Name,2021-08-14,,\n",
     "hostile.csv:2: series 'Bad Name'"),
    ("version,codename,series,created,release,eol\n12,B,b,2021-08-14,2023-01-01,2020-01-01\n",
     "hostile.csv:2: b ends"),
    ('version,codename,series,created,release,eol\n12,"B,b\n', "hostile.csv:"),
    ("version,codename,series,created,release,eol\n", "lists no release"),
])
def test_a_hostile_calendar_names_file_and_line(text, message):
    with pytest.raises(oslifecycle.DistroInfoError) as info:
        parse_releases(text, "hostile.csv")
    assert message in str(info.value)


@pytest.mark.django_db
def test_a_missing_calendar_is_a_warning_naming_the_file(settings, tmp_path):
    settings.SECMAN_DISTRO_INFO_CSV = str(tmp_path / "nope.csv")
    make_system("webdb", "12")
    found = controls.os_lifecycle_findings(dt.date(2026, 1, 1))
    assert [f.status for f in found] == [Status.WARNING]
    assert "nope.csv" in found[0].message and "SECMAN_DISTRO_INFO_CSV" in found[0].message
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"version,codename,series,created,release,eol\n\xff\xfe\n")
    settings.SECMAN_DISTRO_INFO_CSV = str(bad)
    assert "not UTF-8" in controls.os_lifecycle_findings(dt.date(2026, 1, 1))[0].message
