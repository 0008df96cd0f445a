"""The controls of disaster recovery (SP/SM 6), each naming its section, declared in
CONTROLS for the compliance app to collect."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.recovery import services
from secman.recovery.models import BusinessProcess, Distribution

# SM 6 sets no period; an exercise a year is what "exercised" means to an auditor.
EXERCISE_DAYS = 365


def core_processes() -> list[Finding]:
    """SM 6.1.1: the core processes are recorded with their objectives."""
    if BusinessProcess.objects.filter(core=True, retired_at__isnull=True).exists():
        return []
    return [Finding("SM 6.1.1", "No core business process is recorded", reverse(
        "recovery:overview"), Status.NOT_EVIDENCED, "processes")]


def plan_adopted() -> list[Finding]:
    if services.current_plan() is not None:
        return []
    return [Finding("SM 6.3", "The Board has adopted no recovery plan", reverse(
        "recovery:overview"), Status.NOT_EVIDENCED, "plan")]


def exercised() -> list[Finding]:
    """Every core process exercised within a year, its last exercise within its recovery
    time objective."""
    since = timezone.now() - dt.timedelta(days=EXERCISE_DAYS)
    found = []
    for process in BusinessProcess.objects.filter(core=True, retired_at__isnull=True):
        last = process.exercises.filter(finished_at__isnull=False).order_by(
            "-finished_at").first()
        if last is None or last.finished_at is None or last.finished_at < since:
            found.append(Finding(
                "SM 6.2", f"{process}: not exercised in the last {EXERCISE_DAYS} days"
                + (f" (last: {last.finished_at:%Y-%m-%d})" if last and last.finished_at
                   else ""),
                reverse("recovery:overview"), Status.OVERDUE, f"process:{process.pk}"))
            continue
        hours = last.hours or 0
        if hours > process.rto_hours:
            found.append(Finding(
                "SM 6.2", f"{process}: its last exercise took {hours:.1f} h, more than its "
                f"recovery time objective of {process.rto_hours} h", last.get_absolute_url(),
                Status.VIOLATED, f"process:{process.pk}"))
    return found


def key_persons_distributed() -> list[Finding]:
    """SM 6.4, 10.1.1: every key person holds the current list."""
    url = reverse("recovery:key_persons")
    holders = services.key_persons()
    if not holders:
        return [Finding("SM 6.4", "The Board has designated no key person", url,
                        Status.NOT_EVIDENCED, "key_persons")]
    found = [Finding("SM 6.4", f"{k.person} has no OpenPGP key: the list cannot be "
                     "encrypted to them", url, Status.VIOLATED, f"key_person:{k.pk}")
             for k in holders if not k.person.openpgp_fingerprint]
    latest = Distribution.objects.order_by("-made_at").first()
    changed = services.latest_contact_change()
    if latest is None:
        found.append(Finding("SM 6.4", "The Key Persons List was never distributed", url,
                             Status.NOT_EVIDENCED, "distribution"))
    elif changed is not None and changed > latest.made_at:
        found.append(Finding("SM 6.4", f"The key persons' copies ({latest.made_at:%Y-%m-%d}) "
                             f"are older than the latest change of the list "
                             f"({changed:%Y-%m-%d}): export and distribute it again", url,
                             Status.OVERDUE, "distribution"))
    return found


CONTROLS = [
    Control("recovery.core_processes", ("SM 6.1", "SM 6.1.1"),
            "The Board's register of business processes names the core ones, each with its "
            "maximum outage and recovery time objective.", TeamKind.BOARD,
            check=core_processes),
    Control("recovery.plan", ("SM 6.3",),
            "A recovery plan adopted by Board decision.", TeamKind.BOARD, check=plan_adopted),
    Control("recovery.exercised", ("SM 6.2", "SM 6.3"),
            f"Every core process was exercised in the last {EXERCISE_DAYS} days, recovered "
            "within its recovery time objective.", TeamKind.BOARD, check=exercised),
    Control("recovery.key_persons", ("SM 6.4", "SM 10.1.1"),
            "Every key person has an OpenPGP key and holds a copy of the Key Persons List "
            "newer than its latest change.", TeamKind.BOARD, check=key_persons_distributed),
]
