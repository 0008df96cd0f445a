"""Event Log controls (SM 4.2.2, 4.2.3): the log was verified within the last day and its
latest checkpoint left secman, so that a rewrite would be caught."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.eventlog.models import Checkpoint, Event, VerificationRun

VERIFIED_WITHIN = dt.timedelta(hours=24)


def verification_findings() -> list[Finding]:
    url = reverse("eventlog:events")
    run = VerificationRun.objects.filter(finished_at__isnull=False).first()
    if run is None:
        return [Finding("SM 4.2.3", "the Event Log has never been verified", url,
                        Status.NOT_EVIDENCED, "verification")]
    if not run.ok:
        return [Finding("SM 4.2.3", f"the last verification ({run.finished_at:%Y-%m-%d %H:%M} "
                        f"UTC, by {run.by_label}) FAILED: {run.problems[:200]}", url,
                        Status.VIOLATED, "verification")]
    assert run.finished_at is not None
    if timezone.now() - run.finished_at > VERIFIED_WITHIN:
        return [Finding("SM 4.2.3", f"last verified {run.finished_at:%Y-%m-%d %H:%M} UTC, more "
                        "than 24 hours ago", url, Status.OVERDUE, "verification")]
    return []


def publication_findings() -> list[Finding]:
    url = reverse("eventlog:checkpoints")
    if not settings.EVENTLOG_WITNESSES:
        return [Finding("SM 4.2.2", "no witnesses are configured "
                        "(SECMAN_EVENTLOG_WITNESSES): checkpoints are not published outside "
                        "secman", url, Status.VIOLATED, "witnesses")]
    checkpoint = Checkpoint.objects.first()
    if checkpoint is None:
        if Event.objects.exists():
            return [Finding("SM 4.2.2", "entries exist but no checkpoint has been signed", url,
                            Status.NOT_EVIDENCED, "checkpoint")]
        return []
    if checkpoint.emailed_at is None:
        return [Finding("SM 4.2.2", f"the latest checkpoint (size {checkpoint.tree_size}, "
                        f"{checkpoint.time:%Y-%m-%d %H:%M} UTC) has not been mailed to the "
                        "witnesses", url, Status.OVERDUE, "checkpoint")]
    return []


CONTROLS = [
    Control("eventlog.verified", ("SM 4.2.3", "SP 4.2.1"),
            "The Event Log was verified (leaves, tree and checkpoint signatures) within the "
            "last 24 hours, and the verification passed.", TeamKind.SYSTEMS_ADMINISTRATION,
            check=verification_findings),
    Control("eventlog.published", ("SM 4.2.2",),
            "The latest Event Log checkpoint has been sent to the witnesses outside secman.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=publication_findings),
]
