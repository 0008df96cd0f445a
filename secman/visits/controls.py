"""Chapter 2.3 controls: plain functions returning findings, each naming its section,
declared in CONTROLS for the compliance app to collect.

A rule an action would break is refused by visits.services; these find what time
breaks or what is still owed: reports not filed, rulings not linked, keys held by
people who have since left their team or list.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from secman.core.controls import Control, Finding
from secman.core.roles import TeamKind
from secman.visits.choices import ReportKind, VisitStatus
from secman.visits.models import Holding, Participant, Visit, VisitReport
from secman.visits.selectors import why_not_authorised


def visit_findings() -> list[Finding]:
    """SP 2.3 and 4.2.4: every visit with two persons on site and both reports."""
    findings: list[Finding] = []
    now = timezone.now()
    reportable = [VisitStatus.LEFT, VisitStatus.CLOSED, VisitStatus.AWAITING_RULING]
    # The register holds tens of thousands of visits, nearly all in order: the database
    # counts the people and looks for each report, and only visits with a problem are
    # read (one query, however many visits).
    persons = (Participant.objects.filter(visit=OuterRef("pk")).order_by()
               .values("visit").annotate(n=Count("pk")).values("n"))
    filed = {kind: Exists(VisitReport.objects.filter(visit=OuterRef("pk"), kind=kind))
             for kind in ReportKind}
    missing_report = Q()
    for kind in ReportKind:
        missing_report |= Q(**{f"filed_{kind.value}": False})
    visits = (Visit.objects.exclude(status__in=[VisitStatus.REQUESTED, VisitStatus.AUTHORISED])
              .annotate(persons=Coalesce(Subquery(persons), 0),
                        **{f"filed_{kind.value}": filed[kind] for kind in ReportKind})
              .filter(Q(persons__lt=2) | Q(status=VisitStatus.ON_SITE, window_end__lt=now)
                      | (Q(status__in=reportable) & missing_report))
              .only("pk", "is_emergency", "window_start", "window_end", "status"))
    for visit in visits:
        url = visit.get_absolute_url()
        if visit.persons < 2:
            findings.append(Finding("SP 2.3", f"{visit} had fewer than two persons on site",
                                    url))
        if visit.status == VisitStatus.ON_SITE and visit.window_end < now:
            findings.append(Finding("SM 2.3.1", f"{visit}: people are still checked in after "
                                    "the authorised window ended", url))
        if visit.status in reportable:
            for kind in ReportKind:
                if not getattr(visit, f"filed_{kind.value}"):
                    findings.append(Finding("SP 4.2.4", f"{visit}: the {kind.label.lower()} "
                                            "is missing", url))
    return findings


def emergency_findings() -> list[Finding]:
    """SP 2.3.4: every emergency access is authorised after the fact by a ruling."""
    return [
        Finding("SP 2.3.4", f"{visit} awaits after-the-fact authorisation: case "
                f"{visit.case.number if visit.case else '(none)'} has no linked ruling",
                visit.get_absolute_url())
        for visit in Visit.objects.filter(is_emergency=True, ruling__isnull=True)
        .select_related("case")
    ]


def holder_findings() -> list[Finding]:
    """SP 2.3.5: codes and devices are held only by authorised people."""
    findings = []
    for holding in Holding.objects.current().select_related("device", "holder"):
        reason = why_not_authorised(holding.holder)
        if reason:
            findings.append(Finding("SP 2.3.5", f"{reason} but holds {holding.device}: "
                                    "record its return", holding.device.get_absolute_url()))
    return findings


CONTROLS = [
    Control("visits.two_persons_reported", ("SP 2.3", "SM 2.3.1", "SP 4.2.4"),
            "Every visit to the secure area has two persons on site, ends within its "
            "authorised window and has both reports filed.",
            TeamKind.ACCESS, check=visit_findings),
    Control("visits.emergency_ruled", ("SP 2.3.4",),
            "Every emergency access is authorised after the fact by an Arbitrator's ruling.",
            TeamKind.ACCESS, check=emergency_findings),
    Control("visits.holders_authorised", ("SP 2.3.5",),
            "Access codes and devices are held only by people authorised to hold them.",
            TeamKind.ACCESS, check=holder_findings),
]
