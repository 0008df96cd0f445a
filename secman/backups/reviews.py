"""The quarterly escrow check (SM 4.3.7, compliance's `keys.escrow_check`) on the
envelope register: each occurrence shows the envelopes, and cannot be completed while a
sealed envelope was not checked during the occurrence's period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from secman.backups import controls
from secman.backups.choices import EnvelopeStatus
from secman.backups.models import SealedEnvelope
from secman.core.controls import DutyReview, register_duty_review


def _unchecked(start: dt.datetime) -> list[SealedEnvelope]:
    return list(SealedEnvelope.objects.filter(status=EnvelopeStatus.SEALED).filter(
        Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=start)))


def context(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"envelopes": SealedEnvelope.objects.filter(status__in=(
        EnvelopeStatus.SEALED, EnvelopeStatus.BROKEN)).select_related("custodian")
        .prefetch_related("secrets"),
            "unchecked": _unchecked(start), "findings": controls.envelopes_current()}


def blocker(start: dt.datetime, end: dt.datetime) -> str | None:
    waiting = _unchecked(start)
    if not waiting:
        return None
    return (f"{', '.join(e.label for e in waiting)}: not checked since {start:%Y-%m-%d} "
            "(Backups → Envelopes: record each envelope seen, intact or not)")


register_duty_review("keys.escrow_check",
                     DutyReview("backups/_escrow_review.html", context, blocker))
