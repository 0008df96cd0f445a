"""Mailing new anomalies (SM 5.2 "near-realtime"): once the batch that opened them is
committed, one mail for all of them to the designated primary log monitor and the
Systems Administrators' list (SECMAN_SYSADMIN_LIST). Further matches join an open anomaly
and send nothing: a flood is one mail."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secman.compliance.models import Duty
from secman.logs.models import Anomaly, AnomalyStatus

MONITOR_DUTY = "logs.anomaly_examination"


def recipients() -> list[str]:
    found = []
    monitor = (Duty.objects.filter(control_id=MONITOR_DUTY, assignee__isnull=False)
               .select_related("assignee").first())
    if monitor is not None and monitor.assignee is not None and monitor.assignee.email:
        found.append(monitor.assignee.email)
    if settings.SECMAN_SYSADMIN_LIST:
        found.append(settings.SECMAN_SYSADMIN_LIST)
    return list(dict.fromkeys(found))


def mail_new(anomaly_ids: list[int]) -> bool:
    """Mail these anomalies and any open one whose mail failed before; True if a mail went
    out. A failed mail is logged and tried again with the next batch that opens one, or
    within the minute by the ingest's idle loop (ingest.follow)."""
    to = recipients()
    anomalies = list(Anomaly.objects.filter(
        Q(pk__in=anomaly_ids) | Q(status=AnomalyStatus.OPEN), mailed_at__isnull=True)
        .select_related("rule").order_by("pk")[:500])
    if not anomalies or not to:
        return False
    base = settings.SITE_URL.rstrip("/")
    lines = [f"- [{a.rule.level}] {a} — {a.matches} message(s) since "
             f"{a.first_seen:%Y-%m-%d %H:%M:%S} UTC\n  {base}{a.get_absolute_url()}"
             for a in anomalies]
    subject = (f"{settings.EMAIL_SUBJECT_PREFIX}{len(anomalies)} new anomal"
               f"{'y' if len(anomalies) == 1 else 'ies'} in the systems' logs")
    body = ("The detection rules found these in the systems' logs (SM 5.2). Further "
            "matches join the same anomaly and are not mailed again. Examine each: dismiss "
            "it with a reason or promote it to an incident.\n\n" + "\n".join(lines) + "\n")
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except OSError:
        logging.getLogger(__name__).exception("could not mail %d new anomalies", len(anomalies))
        return False
    with transaction.atomic():
        Anomaly.objects.filter(pk__in=[a.pk for a in anomalies]).update(
            mailed_at=timezone.now())
    return True

