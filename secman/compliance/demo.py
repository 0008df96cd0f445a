"""Compliance in the demo organisation: duties running for the last nine days (most
done, the latest automated log review overdue), a designated primary log monitor, an
attestation, an accepted exception and a verified log. Made through the services."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.utils import timezone

from secman.authority.models import BoardDecision
from secman.compliance import evaluation, services
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.people.models import Person

# The CAcert texts are not copied into secman; the demo imports them when they are beside
# the checkout (as on the development machines) or where SECMAN_DEMO_DOCUMENTS points.
REFERENCE = Path(os.environ.get(
    "SECMAN_DEMO_DOCUMENTS",
    Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "cacert"))


def import_reference_documents() -> bool:
    from secman.documents.services import import_document

    policy, manual = REFERENCE / "SecurityPolicy.html", REFERENCE / "SecurityManual.txt"
    if not (policy.is_file() and manual.is_file()):
        return False
    import_document(actor=None, data=policy.read_bytes(), filename=policy.name,
                    name="Security Policy", kind="policy", authority="SP 1.4")
    import_document(actor=None, data=manual.read_bytes(), filename=manual.name,
                    name="Security Manual", kind="manual", authority="SP 1.4")
    return True


def load(people: dict[str, Person], decision: BoardDecision) -> None:
    from secman.eventlog import verification

    samir, lena, piet = people["samir"], people["lena"], people["piet"]
    import_reference_documents()
    started = timezone.now() - dt.timedelta(days=9)
    services.sync_duties(now=started)  # the duties start nine days ago
    services.generate_occurrences()
    monitor = Duty.objects.get(control_id="logs.anomaly_examination")
    services.designate(actor=samir, duty=monitor, person=lena, authority="SM 5.2")

    now = timezone.now()
    due = Occurrence.objects.filter(due_at__lte=now, status=OccurrenceStatus.OPEN)
    review = list(due.filter(duty__control_id="logs.automated_review").order_by("due_at"))
    # Done every day but the last: that one is overdue on the dashboard.
    for n, occurrence in enumerate(review[:-1]):
        services.complete_occurrence(
            actor=(samir, lena, piet)[n % 3], occurrence=occurrence,
            note="Read the automated review of the day: no failed root logins, no new "
            "listening ports, disk use normal.")
    for occurrence in due.filter(duty=monitor):
        services.complete_occurrence(
            actor=lena, occurrence=occurrence,
            note="Examined auth, web server and signer logs for the week; no anomalies. "
            "Added a detector for repeated OCSP errors.")
    services.attest(actor=people["aurelio"], control_id="staffing.background_checks",
                    statement="The ABC files of every person in a critical role are on file "
                    "and reviewable (SP 9.1.4.3).", authority="SP 9.1.4")
    services.accept(actor=people["beatrix"], control_id="people.redundancy",
                    kind="exception", subject="team:support",
                    reason="Support has two engineers while a third is recruited; the Board "
                    "accepts fewer than the three the manual asks for until then.",
                    authority=decision, expires_on=timezone.localdate() + dt.timedelta(days=90))
    verification.run(by=samir)
    services.record_statuses(evaluation.evaluate())
