"""The audit report in the web UI: /compliance/report/?from=YYYY-MM-DD&to=YYYY-MM-DD and its
PDF. Included by compliance/urls.py under "report/", in the `compliance` namespace.

For the Board, auditors and team leaders (report.may_read_report). The page uses the
newest Event Log checkpoint there is: signing one on demand is for Systems Administrators
(SM 4.2.2), and the scheduler signs them anyway.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from secman.compliance import report
from secman.people.selectors import person_for_user


def _period(request: HttpRequest) -> report.Period:
    """The period asked for; by default this year up to today."""
    today = timezone.now().astimezone(dt.UTC).date()
    first = request.GET.get("from") or today.replace(month=1, day=1).isoformat()
    last = request.GET.get("to") or today.isoformat()
    return report.parse_period(first, last)


def _allowed(request: HttpRequest) -> None:
    if not report.may_read_report(person_for_user(request.user)):
        raise PermissionDenied("The audit report is for the Board, auditors and team leaders.")


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    try:
        period = _period(request)
    except report.ReportError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
    built = report.build(period)
    query = urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})
    return HttpResponse(report.render_html(
        built, web=True, pdf_url=f"{reverse('compliance:report_pdf')}?{query}"))


@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    try:
        period = _period(request)
    except report.ReportError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
    response = HttpResponse(report.render_pdf(report.build(period)),
                            content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-report-{period.first}-{period.last}.pdf"')
    return response


urlpatterns = [
    path("", report_page, name="report"),
    path("pdf/", report_pdf, name="report_pdf"),
]
