"""The audit report in the web UI, included by compliance/urls.py under "report/" in the
`compliance` namespace:

- `?from=YYYY-MM-DD&to=YYYY-MM-DD`: the report as a page (by default this year up to
  today);
- `oscal/?from=...&to=...`: the OSCAL export, downloaded at once (it takes about as long
  as the page);
- `jobs/` (POST): ask for the PDF, made in the background; `jobs/ID/` shows its
  progress and `jobs/ID/file/` downloads it.

For the Board, auditors and team leaders (services.may_read_report); a job only for the
person who asked for it (services.may_see_job).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from secman.compliance import report
from secman.compliance.models import JobStatus, ReportJob
from secman.compliance.report import services
from secman.core.accounts import person_for_user
from secman.core.errors import Refused
from secman.core.views import post_only
from secman.people.models import Person

REFUSED = "The audit report is for the Board, auditors and team leaders."


def _period(query: dict) -> report.Period:
    """The period asked for; by default this year up to today."""
    today = timezone.now().astimezone(dt.UTC).date()
    first = query.get("from") or today.replace(month=1, day=1).isoformat()
    last = query.get("to") or today.isoformat()
    return report.parse_period(first, last)


def _reader(request: HttpRequest) -> Person:
    person = person_for_user(request.user)
    if person is None or not services.may_read_report(person):
        raise PermissionDenied(REFUSED)
    return person


def _bad_period(exc: report.ReportError) -> HttpResponse:
    return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")


def _report_url(first: dt.date, last: dt.date) -> str:
    return f"{reverse('compliance:report')}?from={first:%Y-%m-%d}&to={last:%Y-%m-%d}"


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    person = _reader(request)
    try:
        period = _period(request.GET)
    except report.ReportError as exc:
        return _bad_period(exc)
    jobs = ReportJob.objects.filter(requested_by=person)[:5]
    return HttpResponse(report.render_html(report.build(period), request=request, jobs=jobs))


@require_GET
def report_oscal(request: HttpRequest) -> HttpResponse:
    _reader(request)
    try:
        period = _period(request.GET)
    except report.ReportError as exc:
        return _bad_period(exc)
    response = HttpResponse(report.render_oscal(report.build(period)),
                            content_type=services.CONTENT_TYPES["oscal"])
    response["Content-Disposition"] = (
        f'attachment; filename="secman-audit-{period.first}-{period.last}.oscal.json"')
    return response


@post_only(lambda: reverse("compliance:report"))
def job_create(request: HttpRequest) -> HttpResponse:
    person = _reader(request)
    try:
        period = _period(request.POST)
    except report.ReportError as exc:
        return _bad_period(exc)
    try:
        job = services.request_job(actor=person, period=period,
                                   format=request.POST.get("format", "pdf"))
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect(_report_url(period.first, period.last))
    return redirect(job)


def _job(request: HttpRequest, pk: int) -> ReportJob:
    job = get_object_or_404(ReportJob.objects.select_related("requested_by"), pk=pk)
    if not services.may_see_job(person_for_user(request.user), job):
        # The same answer whether the job is someone else's or does not exist.
        raise Http404("No such report job.")
    return job


@require_GET
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "compliance/report_job.html", {
        "job": job, "stalled": services.stalled(job),
        "report_url": _report_url(job.first_day, job.last_day),
        "download_name": services.download_name(job),
    })


@require_GET
def job_file(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    path = services.job_file(job)
    if job.status != JobStatus.DONE or path is None or not path.is_file():
        raise Http404("This report is not ready, or was deleted after a week.")
    return FileResponse(path.open("rb"), as_attachment=True,
                        filename=services.download_name(job),
                        content_type=services.CONTENT_TYPES[job.format])


urlpatterns = [
    path("", report_page, name="report"),
    path("oscal/", report_oscal, name="report_oscal"),
    path("jobs/", job_create, name="report_jobs"),
    path("jobs/<int:pk>/", job_page, name="report_job"),
    path("jobs/<int:pk>/file/", job_file, name="report_job_file"),
]
