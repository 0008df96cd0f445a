"""Reads of the systems' logs that pages, the duties and the dashboard ask the same way:
counts only, which everyone signed in may see (SM 4.2.2 restricts the messages)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDay, TruncHour

from secman.logs.models import (
    LOG_CLASSES,
    Anomaly,
    AnomalyStatus,
    DetectionRule,
    Message,
    TreeCheckpoint,
    TreeHead,
)


def counts(since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Messages per host and class in [since, until), with the totals."""
    rows = (Message.objects.filter(received_at__gte=since, received_at__lt=until)
            .values_list("host", "log_class").annotate(n=Count("seq")).order_by("host"))
    per_host: dict[str, dict[str, int]] = defaultdict(dict)
    per_class: dict[str, int] = defaultdict(int)
    for host, log_class, n in rows:
        per_host[host][log_class] = n
        per_class[log_class] += n
    classes = [(value, label) for value, label in LOG_CLASSES]
    return {"classes": classes,
            "hosts": [(host, [by.get(c, 0) for c, _ in classes], sum(by.values()))
                      for host, by in sorted(per_host.items())],
            "per_class": [per_class.get(c, 0) for c, _ in classes],
            "total": sum(per_class.values())}


def volume(since: dt.datetime, until: dt.datetime, hourly: bool) -> dict[str, Any]:
    """Messages per host per hour (a day or two) or per day: the chart's bars."""
    trunc = TruncHour if hourly else TruncDay
    rows = (Message.objects.filter(received_at__gte=since, received_at__lt=until)
            .annotate(slot=trunc("received_at")).values_list("slot", "host")
            .annotate(n=Count("seq")).order_by("slot"))
    step = dt.timedelta(hours=1) if hourly else dt.timedelta(days=1)
    start = since.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        start = start.replace(hour=0)
    slots: list[dt.datetime] = []
    at = start
    while at < until and len(slots) < 400:
        slots.append(at)
        at += step
    by_host: dict[str, dict[dt.datetime, int]] = defaultdict(dict)
    for slot, host, n in rows:
        by_host[host][slot] = n
    peak = max((n for per in by_host.values() for n in per.values()), default=0)
    return {"slots": slots, "hourly": hourly, "peak": peak,
            "hosts": [(host, [per.get(s, 0) for s in slots]) for host, per in
                      sorted(by_host.items())]}


def state() -> dict[str, Any]:
    head = TreeHead.objects.filter(pk=1).first()
    newest = TreeCheckpoint.objects.order_by("-tree_size", "-id").first()
    span = Message.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    return {"size": head.size if head else 0, "checkpoint": newest, **span,
            "open_anomalies": Anomaly.objects.filter(status=AnomalyStatus.OPEN).count(),
            "rules": DetectionRule.objects.filter(enabled=True).count()}


def anomalies_in(since: dt.datetime, until: dt.datetime) -> list[Anomaly]:
    """The anomalies seen in a period, and every one still open, oldest first."""
    from django.db.models import Q

    return list(Anomaly.objects.filter(Q(status=AnomalyStatus.OPEN) | Q(
        last_seen__gte=since, first_seen__lt=until)).select_related("rule", "examined_by")
        .order_by("first_seen"))


def open_anomalies_before(until: dt.datetime) -> int:
    return Anomaly.objects.filter(status=AnomalyStatus.OPEN, first_seen__lt=until).count()


def rule_changes(since: dt.datetime, until: dt.datetime) -> list[Any]:
    """SM 5.2 "update the automated detectors": the rule changes in a period."""
    from secman.eventlog.models import Event

    return list(Event.objects.filter(action__startswith="logs.detection_rule.",
                                     recorded_at__gte=since, recorded_at__lt=until)
                .order_by("recorded_at"))

