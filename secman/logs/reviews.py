"""The log duties on real data (SM 4.2.3 daily automated review, SM 5.2 weekly anomaly
examination): each occurrence's page shows the period's messages per host and class, the
anomalies to examine and the detection rules changed. The weekly examination, the primary
log monitor's (SM 5.2), is not completed while an anomaly first seen before the period's
end is still open; the daily review shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from secman.core.controls import DutyReview, register_duty_review
from secman.logs import selectors


def context(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"counts": selectors.counts(start, end),
            "anomalies": selectors.anomalies_in(start, end),
            "rule_changes": selectors.rule_changes(start, end),
            "open_before_end": selectors.open_anomalies_before(end)}


def blocker(start: dt.datetime, end: dt.datetime) -> str | None:
    waiting = selectors.open_anomalies_before(end)
    if not waiting:
        return None
    return (f"{waiting} anomal{'y is' if waiting == 1 else 'ies are'} not examined yet: "
            "dismiss each with a reason or promote it to an incident first (Anomalies)")


def no_blocker(start: dt.datetime, end: dt.datetime) -> str | None:
    return None


register_duty_review("logs.automated_review",
                     DutyReview("logs/_duty_review.html", context, no_blocker))
register_duty_review("logs.anomaly_examination",
                     DutyReview("logs/_duty_review.html", context, blocker))
