"""The weekly review of filing decisions (SM 8.5) shows the period's decisions on its
occurrences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from secman.core.controls import DutyReview, register_duty_review
from secman.support.models import Filing


def context(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"filings": list(Filing.objects.filter(decided_at__gte=start, decided_at__lt=end)
                            .select_related("decided_by", "case"))}


def no_blocker(start: dt.datetime, end: dt.datetime) -> str | None:
    return None


register_duty_review("support.filing_review",
                     DutyReview("support/_filing_review.html", context, no_blocker))
