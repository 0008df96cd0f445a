"""Who reads the audit report, and the reports made in the background for the web.

A PDF of a year takes tens of seconds (WeasyPrint), longer than a web request may last
(gunicorn's worker timeout). So the web asks for a ReportJob and returns at once; the job
is made by `secman report run-job ID` in a process of its own, started with
subprocess.Popen: the child is exec'd, so nothing of the gunicorn worker (its database
connection, its threads) crosses into it, and it opens its own connection. The page
polls the job and offers the file when it is ready; files are kept KEEP for whoever
asked.

Making a report reads and changes nothing the SP or SM governs, so (like the report
page and `secman report audit`) a job records no Event Log entry: the job row says who
asked for which period, until it is cleaned away.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secman.compliance import report
from secman.compliance.models import JobStatus, ReportJob
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.people.selectors import holds_any, is_administrator

READER_ROLES = (Role.BOARD_MEMBER, Role.AUDITOR, Role.TEAM_LEADER)
# A person has at most this many reports being made at once: each is a WeasyPrint
# process using a CPU for tens of seconds.
MAX_IN_FLIGHT = 2
# Files (and the rows that name them) are deleted this long after they were asked for.
KEEP = dt.timedelta(days=7)
# A job that has not moved for this long has lost its process (a restart, a kill).
STALLED = dt.timedelta(minutes=10)
EXTENSIONS = {"pdf": "pdf", "html": "html", "oscal": "oscal.json"}
CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
                 "oscal": "application/json"}


# --- who may read it ----------------------------------------------------------------------


def may_read_report(person: Any) -> bool:
    """The Board, auditors and team leaders read the audit report (and the secman
    administrator, who enters data on the Board's behalf)."""
    return person is not None and (holds_any(person, *READER_ROLES) or is_administrator(person))


def may_see_job(person: Any, job: ReportJob) -> bool:
    """A report job, its progress and its file are for the person who asked for it, as
    long as they may read the report."""
    return person is not None and job.requested_by_id == person.pk and may_read_report(person)


def download_name(job: ReportJob) -> str:
    return (f"secman-audit-{job.first_day:%Y-%m-%d}-{job.last_day:%Y-%m-%d}."
            f"{EXTENSIONS[job.format]}")


def reports_dir() -> Path:
    directory = Path(settings.DATA_DIR) / "reports"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def job_file(job: ReportJob) -> Path | None:
    return Path(settings.DATA_DIR) / job.file if job.file else None


def stalled(job: ReportJob, now: dt.datetime | None = None) -> bool:
    return job.in_flight and job.updated_at < (now or timezone.now()) - STALLED


# --- asking for one -----------------------------------------------------------------------


def request_job(*, actor: Any, period: report.Period, format: str = "pdf") -> ReportJob:
    """Queue a report of `period` for `actor`; its process starts once the row is
    committed (before that it could not find it). Asking again for a report that is
    still being made returns that job."""
    if not may_read_report(actor):
        raise NotAllowed("The audit report is for the Board, auditors and team leaders.")
    if format not in report.FORMATS:
        raise RuleViolation(f"unknown format {format!r}: choose one of "
                            f"{', '.join(report.FORMATS)}", field="format")
    with transaction.atomic():
        mine = ReportJob.objects.select_for_update().filter(
            requested_by=actor, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        waiting = [job for job in mine if not stalled(job)]
        for job in waiting:
            if (job.first_day, job.last_day, job.format) == (period.first, period.last,
                                                             format):
                return job
        if len(waiting) >= MAX_IN_FLIGHT:
            raise RuleViolation(f"{len(waiting)} of your reports are still being made: "
                                "wait until one is ready")
        job = ReportJob.objects.create(requested_by=actor, first_day=period.first,
                                       last_day=period.last, format=format)
        transaction.on_commit(lambda: start(job.pk))
    return job


def start(job_id: int) -> None:
    """Start `secman report run-job ID` as a process of its own. Popen forks and execs
    at once, so the child holds nothing of this process (no database connection, no
    thread, no lock); its own session keeps it running when this worker is recycled. It
    runs with this process's environment and working directory, so it reads the same
    settings and database; -P keeps that directory off its import path. Its output goes
    to reports/job-ID.log, deleted with the job."""
    log = reports_dir() / f"job-{job_id}.log"
    try:
        with log.open("ab") as output:
            subprocess.Popen(  # noqa: S603 - a fixed command; the id is an int
                [sys.executable, "-P", "-m", "secman", "report", "run-job", str(job_id)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                close_fds=True, start_new_session=True)
    except OSError as exc:
        _finish(job_id, JobStatus.FAILED, error=f"the report process could not be started "
                                                f"({exc.strerror or exc})")


# --- making it (in the job's own process) -------------------------------------------------


class _Progress:
    """Writes the job's progress at most once a second: reading the evidence is the first
    30 %, laying out the pages most of the rest."""

    READ = 30

    def __init__(self, job: ReportJob) -> None:
        self.job_id = job.pk
        self.last = 0.0
        self.pages_expected = 1

    def save(self, percent: int, stage: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= 1.0:
            self.last = now
            ReportJob.objects.filter(pk=self.job_id).update(
                progress=max(0, min(percent, 99)), stage=stage[:120],
                updated_at=timezone.now())

    def section(self, number: str, done: int, total: int) -> None:
        # Pages grow with sections; the full CAcert SP and SM (about 280 sections) fill
        # about a page per two sections. An estimate only: the bar never passes 99 %.
        self.pages_expected = max(1, total // 2)
        self.save(self.READ * done // max(total, 1),
                  f"Reading the evidence: section {number}" if number else
                  "Reading the evidence")

    def page(self, stage: str, page: int) -> None:
        share = min(page / self.pages_expected, 1.0)
        percent = self.READ + int((95 - self.READ) * share)
        if stage == "Writing the PDF":
            percent = 96
        self.save(percent, f"{stage} page {page}" if stage == "Laying out" else stage)


def run_job(job_id: int, *, now: dt.datetime | None = None) -> ReportJob:
    """Make the report of a queued job and store its file, or record why it failed. A job
    that is not queued (already claimed, finished or cleaned away) is refused."""
    clean(now=now)
    claimed = ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), updated_at=timezone.now(),
        stage="Reading the evidence")
    if not claimed:
        raise RuleViolation(f"report job {job_id} is not waiting to be made")
    job = ReportJob.objects.get(pk=job_id)
    progress = _Progress(job)
    try:
        period = report.Period(job.first_day, job.last_day)
        built = report.build(period, progress=progress.section)
        progress.save(progress.READ, "Rendering", force=True)
        data = report.render(built, job.format, pages=progress.page)
        relative = Path("reports") / f"job-{job.pk}.{EXTENSIONS[job.format]}"
        _write(Path(settings.DATA_DIR) / relative, data)
    except Exception as exc:  # whatever broke, the person who asked must see it
        _finish(job.pk, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    _finish(job.pk, JobStatus.DONE, file=str(relative), size=len(data))
    return ReportJob.objects.get(pk=job.pk)


def _write(path: Path, data: bytes) -> None:
    """Written beside its name and renamed, so a download never sees half a file."""
    reports_dir()
    partial = path.with_name(f".{path.name}.part")
    with partial.open("wb") as out:
        out.write(data)
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def _finish(job_id: int, status: str, **fields: Any) -> None:
    now = timezone.now()
    fields.setdefault("stage", "")
    ReportJob.objects.filter(pk=job_id).update(
        status=status, finished_at=now, updated_at=now,
        progress=100 if status == JobStatus.DONE else 0, **fields)


def clean(*, now: dt.datetime | None = None) -> int:
    """Delete jobs asked for more than KEEP ago, with their files and logs, and mark the
    jobs whose process has stopped without finishing as failed. Runs before each job."""
    now = now or timezone.now()
    ReportJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                             updated_at__lt=now - STALLED).update(
        status=JobStatus.FAILED, finished_at=now, updated_at=now, stage="",
        error="the report process stopped without finishing")
    old = list(ReportJob.objects.filter(created_at__lt=now - KEEP))
    for job in old:
        path = job_file(job)
        if path is not None:
            path.unlink(missing_ok=True)
        (Path(settings.DATA_DIR) / "reports" / f"job-{job.pk}.log").unlink(missing_ok=True)
    ReportJob.objects.filter(pk__in=[job.pk for job in old]).delete()
    return len(old)
