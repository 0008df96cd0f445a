"""The audit report's PDF made in the background (issue 11, item 8): asked for on the
page, made by `secman report run-job ID` in a process of its own, followed on a progress
page and downloaded; only by the person who asked; failures shown; old files cleaned."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone

from secman.compliance import report
from secman.compliance.models import JobStatus, ReportJob
from secman.compliance.report import services
from secman.core.errors import NotAllowed, Refused
from tests.conftest import ROOT

THIS_YEAR = timezone.now().year
PERIOD = report.Period(dt.date(THIS_YEAR, 1, 1), dt.date(THIS_YEAR, 12, 31))
FORM = {"from": f"{THIS_YEAR}-01-01", "to": f"{THIS_YEAR}-12-31"}


def test_it_makes_the_pdf_in_a_process_of_its_own_and_offers_the_download(database_env):
    done = subprocess.run(
        [sys.executable, "-m", "tests.compliance.report_job_client", FORM["from"],
         FORM["to"]], env={**database_env, "SECMAN_ALLOWED_HOSTS": "testserver"}, cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["asked"] == 302 and seen["job_url"].startswith("/compliance/report/jobs/")
    assert seen["seen"][-1] == "done", seen
    assert not seen["refresh"]  # the finished page stops refreshing itself
    assert seen["status"] == 200 and seen["type"] == "application/pdf"
    assert seen["disposition"] == (f'attachment; filename="secman-audit-{FORM["from"]}-'
                                   f'{FORM["to"]}.pdf"')
    assert seen["start"] == "%PDF-" and seen["size"] > 10_000
    assert seen["board_member"] == 404  # a reader, but not the one who asked
    assert "Step " not in done.stderr  # no WeasyPrint chatter


def test_asking_again_returns_the_job_being_made_and_a_third_period_waits(org):
    first = services.request_job(actor=org.aud, period=PERIOD)
    assert services.request_job(actor=org.aud, period=PERIOD) == first
    services.request_job(actor=org.aud, period=report.Period(PERIOD.first, PERIOD.first))
    with pytest.raises(Refused, match="2 of your reports are still being made"):
        services.request_job(actor=org.aud, period=report.Period(PERIOD.last, PERIOD.last))
    assert ReportJob.objects.count() == 2
    # Someone else's jobs do not count against the auditor's.
    assert services.request_job(actor=org.bea, period=PERIOD) != first


@pytest.mark.parametrize("login", ["sue", "abby", "arne", "nobody"])
def test_only_those_who_read_the_report_may_ask_for_one(org, client, login):
    with pytest.raises(NotAllowed):
        services.request_job(actor=org.people[login], period=PERIOD)
    client.force_login(org.people[login].user)
    assert client.post(reverse("compliance:report_jobs"), FORM).status_code == 403
    assert not ReportJob.objects.exists()


def test_the_job_and_its_file_are_only_for_the_person_who_asked(org, client):
    job = services.request_job(actor=org.aud, period=PERIOD)
    services.run_job(job.pk)
    for login in ("bea", "sam", "sue", "nobody"):  # readers and others alike
        client.force_login(org.people[login].user)
        assert client.get(job.get_absolute_url()).status_code == 404
        assert client.get(reverse("compliance:report_job_file", args=[job.pk])).status_code == 404
    client.force_login(org.aud.user)
    assert client.get(reverse("compliance:report_job_file", args=[job.pk])).status_code == 200


def test_an_auditor_who_is_no_longer_one_loses_the_download(org, client):
    from secman.people import services as people_services
    from secman.people.models import Membership

    job = services.request_job(actor=org.aud, period=PERIOD)
    services.run_job(job.pk)
    membership = Membership.objects.get(person=org.aud, end__isnull=True)
    people_services.end_membership(actor=org.aud, membership=membership,
                                   authority="SP 9.1.7", reason="Resigned",
                                   end=timezone.localdate())
    client.force_login(org.aud.user)
    assert client.get(reverse("compliance:report_job_file", args=[job.pk])).status_code == 404


def test_the_page_asks_for_the_job_and_follows_it_until_the_download(org, client):
    client.force_login(org.aud.user)
    asked = client.post(reverse("compliance:report_jobs"), FORM)
    job = ReportJob.objects.get()
    assert asked.status_code == 302 and asked["Location"] == job.get_absolute_url()
    waiting = client.get(job.get_absolute_url()).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in waiting
    assert '<progress id="job-progress" max="100" value="0">' in waiting
    # The strict CSP: no inline script or style (a vendored script by src is allowed).
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|style=", waiting)
    assert client.get(reverse("compliance:report_job_file", args=[job.pk])).status_code == 404

    job.format = "html"  # the same machinery, without the half minute of WeasyPrint
    job.save()
    services.run_job(job.pk)
    ready = client.get(job.get_absolute_url()).content.decode()
    assert "http-equiv" not in ready and "Download HTML" in ready
    response = client.get(reverse("compliance:report_job_file", args=[job.pk]))
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="secman-audit-{FORM["from"]}-{FORM["to"]}.html"')
    assert b"<h1>Audit report</h1>" in b"".join(response.streaming_content)
    report_page = client.get(reverse("compliance:report"), FORM).content.decode()
    assert f'href="{job.get_absolute_url()}"' in report_page  # listed as a recent report


def test_a_failed_job_shows_its_error_and_offers_to_try_again(org, client):
    job = ReportJob.objects.create(requested_by=org.aud, first_day=PERIOD.last,
                                   last_day=PERIOD.first)  # written behind the service
    with pytest.raises(report.ReportError):
        services.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    client.force_login(org.aud.user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "The report could not be made" in page
    assert "ReportError: the period ends" in page and "Try again" in page
    assert "http-equiv" not in page


def test_a_job_is_made_once(org):
    job = services.request_job(actor=org.aud, period=PERIOD)
    job.format = "oscal"
    job.save()
    services.run_job(job.pk)
    with pytest.raises(Refused, match="not waiting to be made"):
        services.run_job(job.pk)


def test_old_jobs_and_their_files_are_deleted_after_a_week(org, settings):
    kept = services.request_job(actor=org.aud, period=PERIOD)
    old = services.request_job(actor=org.bea, period=PERIOD)
    for job in (kept, old):
        ReportJob.objects.filter(pk=job.pk).update(format="oscal")
        services.run_job(job.pk)
    old_file = services.job_file(ReportJob.objects.get(pk=old.pk))
    assert old_file.is_file()
    ReportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - services.KEEP - dt.timedelta(minutes=1))
    assert services.clean() == 1
    assert not old_file.exists() and list(ReportJob.objects.all()) == [kept]
    assert services.job_file(ReportJob.objects.get()).is_file()


def test_a_job_whose_process_stopped_is_shown_as_failed(org, client):
    job = services.request_job(actor=org.aud, period=PERIOD)
    ReportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, updated_at=timezone.now() - services.STALLED * 2)
    client.force_login(org.aud.user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "stopped without finishing" in page and "http-equiv" not in page
    # ...and it no longer keeps the auditor from asking again.
    assert services.request_job(actor=org.aud, period=PERIOD) != job
    services.clean()
    assert ReportJob.objects.get(pk=job.pk).status == JobStatus.FAILED


def test_weasyprint_says_nothing_while_the_pdf_renders_but_tells_the_pages(org, caplog):
    caplog.set_level(logging.DEBUG)
    built = report.build(PERIOD)
    pages: list[tuple[str, int]] = []
    data = report.render_pdf(built, pages=lambda stage, page: pages.append((stage, page)))
    assert data.startswith(b"%PDF-")
    chatter = [r for r in caplog.records if r.name.startswith(("weasyprint", "fontTools"))]
    assert chatter == []
    assert ("Laying out", 1) in pages and pages[-1][0] == "Writing the PDF"
    # Afterwards the loggers are as they were.
    assert logging.getLogger("weasyprint.progress").propagate
    assert not logging.getLogger("weasyprint.progress").handlers
