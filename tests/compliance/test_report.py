"""The audit report (issue 6, item 7): `secman report audit` as HTML, PDF and OSCAL
assessment-results, the web page for the Board, auditors and team leaders, and bad input
refused before anything is written."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from click.testing import CliRunner
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from secman.cli import main
from secman.compliance import report, services
from secman.compliance.models import Occurrence, OccurrenceStatus
from secman.core.controls import declared_controls
from secman.eventlog.models import Checkpoint, Event

SP_TEXT = b"""# Security Policy

## 4. Logging

### 4.2 Logs

#### 4.2.3 Log review

Logs MUST be reviewed daily for anomalies.

## 9. Staffing

### 9.1 Roles

#### 9.1.3 Appointment

People in critical roles are appointed by the Board.
"""

SM_TEXT = b"""# Security Manual

## 4. Logging

### 4.2 Logs

#### 4.2.3 Log review

The automated review runs every night; a Systems Administrator reads its report.

## 9. Staffing

### 9.1 Roles

#### 9.1.3 Appointment

The Board minutes every appointment.
"""

THIS_YEAR = timezone.now().year
PERIOD = [f"{THIS_YEAR}-01-01", f"{THIS_YEAR}-12-31"]


# The lead adds the report's URLs to compliance/urls.py; until then the web tests mount
# them the same way (report/ inside the compliance namespace) on a URLconf of their own.
def _fallback_urls() -> list:
    from secman import urls as root
    from secman.compliance import urls as compliance_urls

    mounted = [p for p in root.urlpatterns if str(p.pattern) != "compliance/"]
    compliance = [*compliance_urls.urlpatterns,
                  path("report/", include("secman.compliance.report_urls"))]
    return [path("compliance/", include((compliance, "compliance"))), *mounted]


urlpatterns = _fallback_urls()


@pytest.fixture
def report_urls(settings):
    try:
        reverse("compliance:report")
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__
    return reverse("compliance:report")


@pytest.fixture
def evidence(org):
    """SP and SM texts, a daily duty with one occurrence done (with a file), one skipped
    with a Board decision and the rest overdue, an attestation and an accepted exception."""
    from secman.documents.services import import_document

    import_document(actor=None, data=SP_TEXT, filename="sp.md", name="Security Policy",
                    kind="policy")
    import_document(actor=None, data=SM_TEXT, filename="sm.md", name="Security Manual",
                    kind="manual")
    now = timezone.now()
    services.sync_duties(now=now - dt.timedelta(days=5))
    services.generate_occurrences(now=now)
    past = list(Occurrence.objects.filter(duty__control_id="logs.automated_review",
                                          due_at__lte=now).order_by("due_at"))
    assert len(past) >= 4
    services.complete_occurrence(actor=org.sam, occurrence=past[0],
                                 note="Reviewed the nightly report: nothing anomalous.",
                                 evidence=("review.txt", b"all quiet\n"))
    services.skip_occurrence(actor=org.sam, occurrence=past[1], reason="Machine room move",
                             authority=org.decision)
    services.attest(actor=org.arne, control_id="staffing.background_checks",
                    statement="Every critical role holder has an Arbitrated Background Check.",
                    authority="SP 9.1.4.2")
    services.accept(actor=org.bea, control_id="eventlog.published", kind="exception",
                    reason="Witnesses are chosen at the next Board meeting.",
                    authority=org.decision,
                    expires_on=timezone.localdate() + dt.timedelta(days=60))
    return {"done": past[0], "skipped": past[1],
            "overdue": Occurrence.objects.filter(duty__control_id="logs.automated_review",
                                                 status=OccurrenceStatus.OPEN,
                                                 due_at__lte=timezone.now()).count()}


def _article(html: str, number: str) -> str:
    match = re.search(rf'<article class="section[^"]*" id="s{re.escape(number)}">(.*?)</article>',
                      html, re.S)
    assert match, f"no section {number} in the report"
    return match.group(1)


def _run(*args: str) -> object:
    return CliRunner().invoke(main, ["report", "audit", *args], catch_exceptions=False)


# --- HTML -----------------------------------------------------------------------------------


def test_it_writes_an_html_report_per_section_with_evidence_findings_and_exceptions(
        evidence, org, tmp_path):
    out = tmp_path / "audit.html"
    result = _run("--from", PERIOD[0], "--to", PERIOD[1], "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")

    review = _article(html, "4.2.3")
    assert "Logs MUST be reviewed daily for anomalies." in review  # the SP
    assert "a Systems Administrator reads its report." in review  # the SM
    assert "<strong>1</strong> done" in review
    assert f"<strong>{evidence['overdue']}</strong> overdue" in review
    assert "<strong>1</strong> skipped with authority" in review
    assert f"/compliance/occurrences/{evidence['done'].pk}/" in review
    assert evidence["done"].evidence_sha256 in review
    assert "logs.automated_review" in review and "Overdue" in review

    # Event Log entries citing a section are counted and sampled with links.
    appointment = _article(html, "9.1.3")
    cites = Event.objects.filter(authority__in=["SP 9.1.3", "SM 9.1.3"]).count()
    assert cites > 0 and f"<strong>{cites}</strong> Event Log entries" in appointment
    latest = Event.objects.filter(authority="SP 9.1.3").order_by("-seq").first()
    assert f'href="http://127.0.0.1:8000/events/{latest.seq}/"' in appointment

    # The attestation, and the exception with its authority and expiry.
    checks = _article(html, "9.1.4.2")
    assert "<strong>1</strong> attestations" in checks and "Arne" in checks
    published = _article(html, "4.2.2")
    assert org.decision.minute_id in published
    expiry = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    assert expiry in published and "in force" in published
    assert "Witnesses are chosen at the next Board meeting." in published
    assert "Duty occurrences" not in published  # a computed control has none

    # Chapter order: 4.2.2 before 4.2.3 before 9.1.3 before 9.1.4.2.
    positions = [html.index(f'id="s{n}"') for n in ("4.2.2", "4.2.3", "9.1.3", "9.1.4.2")]
    assert positions == sorted(positions)


def test_it_names_the_checkpoint_it_was_made_against_and_how_to_check_it(evidence, tmp_path):
    out = tmp_path / "audit.html"
    assert _run("--from", PERIOD[0], "--to", PERIOD[1], "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    assert checkpoint.tree_size == Event.objects.count()  # signed fresh, covering the head
    assert checkpoint.note in html
    assert checkpoint.root_hash in html and f"<dd>{checkpoint.tree_size}</dd>" in html
    assert "secman eventlog verify --checkpoint checkpoint.txt" in html
    cited = Event.objects.filter(authority__regex=r"^S[PM] ").count()
    about_controls = Event.objects.filter(details__has_key="control").exclude(
        authority__regex=r"^S[PM] ").count()
    assert about_controls > 0  # the duty done and skipped, the attestation, the exception
    assert (f'<span class="count">{cited + about_controls}</span> '
            '<span class="label">Event Log entries as evidence') in html
    assert "python -m secman.eventlog.verify DIR" in html


def test_the_html_file_needs_nothing_from_elsewhere_and_runs_no_script(evidence, tmp_path):
    out = tmp_path / "audit.html"
    assert _run("--from", PERIOD[0], "--to", PERIOD[1], "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert " src=" not in html and "@import" not in html and "url(" not in html
    assert "@media print" in html and "@page" in html  # the print stylesheet, copied in


def test_restricted_entries_are_counted_but_show_only_their_number_and_action(
        evidence, org, tmp_path):
    from django.db import transaction

    from secman.eventlog.models import RetentionClass
    from secman.eventlog.services import record

    with transaction.atomic():
        login = record("system.root_login", actor=org.sid, authority="SM 4.2.3",
                       subject=org.pia, retention_class=RetentionClass.LOGIN,
                       details={"host": "vault-7"})
    out = tmp_path / "audit.html"
    assert _run("--from", PERIOD[0], "--to", PERIOD[1], "-o", str(out)).exit_code == 0
    review = _article(out.read_text(encoding="utf-8"), "4.2.3")
    row = re.search(rf"<tr><td><a [^>]*>{login.seq}</a>.*?</tr>", review, re.S)
    assert row, "the restricted entry is among the samples"
    assert "system.root_login" in row.group(0)
    assert "restricted to Systems Administrators" in row.group(0)
    assert "Pia" not in review and "Sid" not in review and "vault-7" not in review


def test_evidence_counts_every_entry_up_to_the_head_and_names_what_the_checkpoint_covers(
        evidence, org):
    from secman.eventlog.services import root_at, write_checkpoint
    from secman.people import services as people_services

    signed = write_checkpoint()
    checkpoints = Checkpoint.objects.count()
    period = report.parse_period(*PERIOD)
    before = _section(report.build(period), "9.1.3").events
    people_services.create_person(actor=None, authority="SP 9.1.3", name="Late",
                                  email="late@example.org", username="late",
                                  password="a-long-password-1")
    latest = report.build(period)
    assert _section(latest, "9.1.3").events == before + 1  # counted before any checkpoint
    assert latest.head == Event.objects.count() > signed.tree_size
    assert latest.head_root == root_at(latest.head).hex() and not latest.covered
    html = report.render_html(latest)
    assert f"#1 to #{latest.head}</strong>, {latest.head} entries" in html
    assert f"covers entries #1 to #{signed.tree_size}." in html
    assert f"secman eventlog proof consistency {latest.head}</code>" in html
    assert Checkpoint.objects.count() == checkpoints  # the report signed nothing

    fresh = report.build(period, fresh_checkpoint=True)  # the command line's way
    assert fresh.covered and fresh.checkpoint.fresh
    assert fresh.checkpoint.root_hash == fresh.head_root
    assert "covers all of them" in report.render_html(fresh)


def test_a_period_without_activity_shows_no_evidence(evidence):
    built = report.build(report.parse_period("2020-01-01", "2020-12-31"))
    review = _section(built, "4.2.3")
    assert (review.events, review.done, review.skipped, review.overdue) == (0, 0, 0, 0)
    assert review.results  # the controls are still evaluated and shown


def _section(built: report.AuditReport, number: str) -> report.SectionReport:
    return next(s for s in built.sections if s.number == number)


# --- PDF and OSCAL ----------------------------------------------------------------------------


def test_it_renders_the_pdf_with_weasyprint(evidence, tmp_path):
    import weasyprint

    out = tmp_path / "audit.pdf"
    result = _run("--from", PERIOD[0], "--to", PERIOD[1], "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    built = report.build(report.parse_period(*PERIOD))
    document = weasyprint.HTML(string=report.render_html(built)).render()
    assert len(document.pages) >= 2  # summary and checkpoint, then the sections


def test_the_oscal_export_validates_against_the_assessment_results_model(evidence, tmp_path):
    from trestle.oscal import assessment_results

    out = tmp_path / "audit.json"
    result = _run("--from", PERIOD[0], "--to", PERIOD[1], "--format", "oscal", "-o",
                  str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    model = assessment_results.Model.model_validate(data)  # extra fields are forbidden

    document = model.assessment_results
    assert document.metadata.oscal_version.root.root.startswith("1.1.")
    (run,) = document.results
    assert run.start.date() == dt.date(THIS_YEAR, 1, 1)
    assert run.end.date() == dt.date(THIS_YEAR + 1, 1, 1)
    targets = {f.target.target_id: f.target.status.state.value for f in run.findings}
    assert set(targets) == {c.id for c in declared_controls()}
    assert targets["eventlog.verified"] == "not-satisfied"  # never verified
    assert targets["staffing.background_checks"] == "satisfied"  # attested just now
    selected = {c.control_id for c in run.reviewed_controls.control_selections[0]
                .include_controls}
    assert {"s4.2.3", "s9.1.4.2"} <= selected
    # Every observation a finding names exists, and identifiers are unique.
    observations = {o.uuid for o in run.observations}
    for finding in run.findings:
        for related in finding.related_observations or []:
            assert related.observation_uuid in observations
    uuids = [document.uuid, run.uuid, *observations, *(f.uuid for f in run.findings)]
    assert len(uuids) == len(set(uuids))
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    assert document.back_matter.resources[0].description == checkpoint.note
    assert {p.name: p.value for p in run.props}["eventlog-root-hash"] == checkpoint.root_hash


def test_the_oscal_export_validates_without_any_evidence_or_checkpoint(db):
    from trestle.oscal import assessment_results

    data = report.oscal(report.build(report.parse_period("2026-01-01", "2026-01-01")))
    assessment_results.Model.model_validate(data)
    assert "back-matter" not in data["assessment-results"]


# --- bad input --------------------------------------------------------------------------------


def _is_day(text: str) -> bool:
    try:
        report.parse_day(text, "day")
    except report.ReportError:
        return False
    return True


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A-?\d{1,5}-\d{1,3}-\d{1,3}\Z"),
    st.sampled_from(["2026-02-30", "2026-13-01", "2026-1-1", "20260101", "2026-01-01T00:00",
                     "2026-01-01 ", " ", "0000-01-01", "2026-W01-1",
                     "\u0661\u0662\u0663\u0664-\u0660\u0661-\u0660\u0661"])),
    which=st.sampled_from(["--from", "--to"]))
def test_hostile_days_are_refused_and_nothing_is_written(tmp_path, text, which):
    if _is_day(text):
        return
    out = tmp_path / "never.html"
    days = {"--from": "2026-01-01", "--to": "2026-12-31", which: text}
    result = CliRunner().invoke(main, ["report", "audit", "--from", days["--from"], "--to",
                                       days["--to"], "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{which}'" in result.output
    assert not out.exists() and not list(tmp_path.iterdir())


@hypothesis_settings(max_examples=50, deadline=None)
@given(day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_real_day_reads_back_as_itself(day):
    assert report.parse_day(day.isoformat(), "--from") == day


@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.dates(min_value=dt.date(1000, 1, 2)),
       back=st.integers(min_value=1, max_value=5000))
def test_a_period_that_ends_before_it_starts_is_refused(tmp_path, first, back):
    last = first - dt.timedelta(days=back) if first - dt.date(1000, 1, 1) > dt.timedelta(
        days=back) else dt.date(1000, 1, 1)
    out = tmp_path / "never.json"
    result = CliRunner().invoke(main, ["report", "audit", "--from", first.isoformat(), "--to",
                                       last.isoformat(), "--format", "oscal", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "ends" in result.output and "before it starts" in result.output
    assert not out.exists()


def test_an_unknown_format_is_refused(tmp_path):
    out = tmp_path / "audit.docx"
    result = CliRunner().invoke(main, ["report", "audit", "--from", "2026-01-01", "--to",
                                       "2026-12-31", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.output
    assert not out.exists()
    with pytest.raises(report.ReportError, match="unknown format 'docx'"):
        report.render(None, "docx")  # type: ignore[arg-type]


@pytest.mark.parametrize("where", ["missing/dir/audit.html", "a-directory", "a-file/audit.html"])
def test_an_output_path_that_cannot_be_written_is_refused(tmp_path, where):
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("not a directory")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(main, ["report", "audit", "--from", "2026-01-01", "--to",
                                       "2026-12-31", "-o", str(tmp_path / where)])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --output" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list((tmp_path / "a-directory").iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    from secman.compliance import report_cli

    def broken(fd, mode):
        class Fails(io.BytesIO):
            def write(self, data):
                raise OSError(28, "No space left on device")

        import os as real_os

        real_os.close(fd)
        return Fails()

    monkeypatch.setattr(report_cli.os, "fdopen", broken)
    target = tmp_path / "audit.html"
    with pytest.raises(Exception, match="No space left on device"):
        report_cli.write_atomically(target, b"<html></html>")
    assert list(tmp_path.iterdir()) == []


# --- the web page ------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["bea", "aud", "sam", "admin"])
def test_the_board_auditors_and_team_leaders_read_the_report(evidence, client, org, login,
                                                             report_urls):
    client.force_login(org.people[login].user)
    checkpoints = Checkpoint.objects.count()
    response = client.get(report_urls, {"from": PERIOD[0], "to": PERIOD[1]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Logs MUST be reviewed daily for anomalies." in page
    assert "<style" not in page and "<script" not in page  # the strict CSP allows neither
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    assert "Content-Security-Policy" in response.headers
    assert f'action="{reverse("compliance:report_jobs")}"' in page
    assert (f'{reverse("compliance:report_oscal")}?from={PERIOD[0]}&amp;to={PERIOD[1]}'
            in page)
    assert Checkpoint.objects.count() == checkpoints  # the page signs nothing


def test_the_web_report_counts_every_entry_in_the_log(evidence, client, org, report_urls):
    """A fresh demo showed "#1 to #1" beside a log of 191: the page counted only what the
    newest checkpoint covered."""
    from secman.eventlog.services import write_checkpoint
    from secman.people import services as people_services

    write_checkpoint()
    for n in range(3):
        people_services.create_person(actor=None, authority="SP 9.1.3", name=f"New {n}",
                                      email=f"new{n}@example.org")
    client.force_login(org.aud.user)
    page = client.get(report_urls, {"from": PERIOD[0], "to": PERIOD[1]}).content.decode()
    entries = Event.objects.count()
    assert f"<strong>#1 to #{entries}</strong>, {entries} entries" in page
    oscal = json.loads(client.get(reverse("compliance:report_oscal"),
                                  {"from": PERIOD[0], "to": PERIOD[1]}).content)
    run = oscal["assessment-results"]["results"][0]
    assert {p["name"]: p["value"] for p in run["props"]}["eventlog-head-size"] == str(entries)


@pytest.mark.parametrize("login", ["sue", "abby", "arne", "nobody"])
def test_others_are_refused_the_report(evidence, client, org, login, report_urls):
    client.force_login(org.people[login].user)
    assert client.get(report_urls).status_code == 403
    assert client.get(reverse("compliance:report_oscal")).status_code == 403
    assert client.post(reverse("compliance:report_jobs"), {"from": PERIOD[0],
                                                            "to": PERIOD[1]}).status_code == 403


def test_the_report_page_needs_a_login(db, client, report_urls):
    response = client.get(report_urls)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_oscal_export_downloads_from_the_page(evidence, client, org, report_urls):
    client.force_login(org.aud.user)
    response = client.get(reverse("compliance:report_oscal"), {"from": PERIOD[0],
                                                                 "to": PERIOD[1]})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="secman-audit-{PERIOD[0]}-{PERIOD[1]}.oscal.json"')
    from trestle.oscal import assessment_results

    assessment_results.Model.model_validate(json.loads(response.content))


@pytest.mark.parametrize("query", [{"from": "2026-12-31", "to": "2026-01-01"},
                                   {"from": "yesterday"}, {"to": "2026-02-30"}])
def test_a_bad_period_on_the_page_is_a_clear_400(db, client, org, query, report_urls):
    client.force_login(org.bea.user)
    response = client.get(report_urls, query)
    assert response.status_code == 400
    assert re.search(r"before it starts|is not a day like", response.content.decode())


def test_the_stylesheet_is_served_for_the_page(client, org, db):
    client.force_login(org.bea.user)
    response = client.get("/static/report.css")
    assert response.status_code == 200
    assert "@media print" in b"".join(response.streaming_content).decode()
