"""The controls of incidents (SP/SM 5, 4.4.3), each naming its section, declared in
CONTROLS for the compliance app to collect."""

from __future__ import annotations

from django.utils import timezone

from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.eventlog.models import LegalHold
from secman.incidents.choices import (
    INTRUSION_OR_WORSE,
    ISOLATE_FIRST,
    NEEDS_CASE,
    IncidentStatus,
)
from secman.incidents.models import Incident
from secman.logs.models import Anomaly, AnomalyStatus

_SA = TeamKind.SYSTEMS_ADMINISTRATION
# An incident without its final report after this many days is overdue (SM 5.6 says "as
# soon as possible"; a month is what a reader of the report would still call timely).
REPORT_DAYS = 30


def _open_intrusions() -> list[Incident]:
    return list(Incident.objects.filter(status=IncidentStatus.OPEN,
                                        severity__in=INTRUSION_OR_WORSE))


def isolated() -> list[Finding]:
    """SM 5.3.1: an intrusion's compromised services are isolated immediately."""
    return [Finding("SM 5.3.1", f"{incident}: the isolation of the compromised services is "
                    "not recorded", incident.get_absolute_url(), Status.VIOLATED,
                    f"incident:{incident.pk}")
            for incident in _open_intrusions()
            if incident.severity in ISOLATE_FIRST and not incident.isolated_at]


def escalated() -> list[Finding]:
    """SM 5.3.3: intrusion or worse has separated oversight (a case) and management."""
    found = []
    for incident in _open_intrusions():
        if incident.case_id is None:
            found.append(Finding("SM 5.3.3", f"{incident}: no Arbitration case oversees it",
                                 incident.get_absolute_url(), Status.VIOLATED,
                                 f"incident:{incident.pk}:case"))
        if incident.management_id is None:
            found.append(Finding("SM 5.3.3", f"{incident}: the team leader (or the Board's "
                                 "member) is not in the loop", incident.get_absolute_url(),
                                 Status.WARNING, f"incident:{incident.pk}:management"))
    return found


def logs_archived() -> list[Finding]:
    """SM 5.4: where a breach may have occurred (a compromise or a breach), "any related
    log data archived": a legal hold under the case keeps each system's logs."""
    found = []
    for incident in Incident.objects.filter(status=IncidentStatus.OPEN,
                                            severity__in=NEEDS_CASE).prefetch_related("systems"):
        held = set(LegalHold.objects.filter(
            case=incident.case_id, released_at__isnull=True, subject_type="systems.system")
            .values_list("subject_id", flat=True)) if incident.case_id else set()
        missing = [s.name for s in incident.systems.all() if str(s.pk) not in held]
        if missing:
            found.append(Finding("SM 5.4", f"{incident}: the logs of {', '.join(missing)} are "
                                 "not archived under a legal hold", incident.get_absolute_url(),
                                 Status.VIOLATED, f"incident:{incident.pk}:logs"))
    return found


def response_chosen() -> list[Finding]:
    """SM 5.5: an intrusion or worse is mitigated by a response checklist."""
    return [Finding("SM 5.5", f"{incident}: no response checklist chosen",
                    incident.get_absolute_url(), Status.WARNING,
                    f"incident:{incident.pk}:response")
            for incident in _open_intrusions()
            if not incident.steps.exclude(checklist="recovery").exists()]


def reported() -> list[Finding]:
    """SM 5.6, 4.4.3: every incident gets its final report; an anomaly promoted to an
    incident that was never opened, or never reported, is a finding."""
    now = timezone.now()
    found = []
    for anomaly in Anomaly.objects.filter(status=AnomalyStatus.PROMOTED,
                                          incident__isnull=True).select_related("rule"):
        found.append(Finding("SM 5.6", f"Anomaly {anomaly.pk} ({anomaly}) was promoted but no "
                             "incident was opened for it", anomaly.get_absolute_url(),
                             Status.VIOLATED, f"anomaly:{anomaly.pk}"))
    for incident in Incident.objects.filter(status=IncidentStatus.OPEN, report__isnull=True):
        days = (now - incident.opened_at).days
        if days >= REPORT_DAYS:
            found.append(Finding("SM 5.6", f"{incident}: open for {days} days without its "
                                 "final report", incident.get_absolute_url(), Status.OVERDUE,
                                 f"incident:{incident.pk}:report"))
    return found



CONTROLS = [
    Control("incidents.isolated", ("SM 5.3.1",),
            "An intrusion's compromised services are isolated immediately upon detection, "
            "and the isolation is recorded.", _SA, check=isolated),
    Control("incidents.escalated", ("SM 5.3.3",),
            "An incident of intrusion or worse is overseen by an Arbitration case, and the "
            "team leader (or the Board's designated member) is in the loop.", _SA,
            check=escalated),
    Control("incidents.logs_archived", ("SM 5.4", "SM 4.4.2"),
            "Where a breach may have occurred (a compromise or a breach), the related logs of "
            "every system concerned are kept by a legal hold under the incident's case.", _SA,
            check=logs_archived),
    Control("incidents.response_chosen", ("SM 5.5",),
            "An intrusion or worse is mitigated by the response checklist of its class "
            "(SM 5.5.1-5.5.5).", _SA, check=response_chosen),
    Control("incidents.reported", ("SM 5.6", "SM 4.4.3"),
            f"Every anomaly promoted to an incident has its incident, and every incident "
            f"its final report within {REPORT_DAYS} days; reports are kept indefinitely.",
            _SA, check=reported),
]
