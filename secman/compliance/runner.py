"""`secman duties run`: one round of the compliance duties, and the loop that repeats it.

A round syncs the declared duties, generates occurrences up to the horizon, refreshes the
procedure copies of occurrences not yet due, reopens four-eyes requests that expired,
does the Event Log's recurring work that is due (a checkpoint, the daily verification and
retention purge: secman.eventlog.upkeep), evaluates every control and records today's
statuses, then mails the reminders and overdue notices that have come due (SM 4.2.3,
5.2, 4.3.7: the team is told before a duty is due and when it was missed).

Several replicas may run rounds at once (`secman serve` on two machines, plus cron).
Every mail is claimed first with a conditional UPDATE of its occurrence
(`reminded_at` / `overdue_notified_at` from NULL to now; only the replica whose UPDATE
changed the row sends), so each goes out once. On PostgreSQL the whole round is also
serialised with an advisory lock: a replica that finds it held skips its round. On SQLite
every write transaction already starts with BEGIN IMMEDIATE, and the generation steps
drop duplicates by constraint, so no further lock is taken.

Mail is sent after its claim has committed. A mail server that is down is logged and the
claim is released, so a later round sends it (a reminder only while its occurrence is not
yet due; after that the overdue notice replaces it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, connections
from django.template.loader import render_to_string
from django.utils import timezone

from secman.compliance import evaluation, schedules, services
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.core.controls import control
from secman.eventlog import upkeep
from secman.people.models import Membership
from secman.people.selectors import is_member

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of a round: any constant; this one reads "secman duties".
ADVISORY_LOCK_KEY = 0x5EC3A4D071E5
# The longest reminder lead (yearly duties; cron schedules are capped at a week).
LONGEST_LEAD = max([*schedules.LEAD.values(), dt.timedelta(days=7)])

STEPS = ("sync duties", "generate occurrences", "refresh procedures",
         "reopen expired sign-offs", "Event Log upkeep", "evaluate controls",
         "send reminders")

REMINDER = "reminder"
OVERDUE = "overdue"


@dataclass
class RunSummary:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    # Another replica held the round's lock; this one did nothing.
    skipped: bool = False
    duties_added: int = 0
    occurrences_generated: int = 0
    procedures_refreshed: int = 0
    signoffs_reopened: int = 0
    # The Event Log's upkeep: the size of a checkpoint it signed; the daily verification's
    # outcome (None: not due this round) and the entries the purge emptied; whether it
    # failed (logged; the rest of the round goes on).
    log_checkpoint: int | None = None
    log_verified: bool | None = None
    log_purged: int = 0
    log_upkeep_failed: bool = False
    controls_evaluated: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reminders_sent: int = 0
    overdue_sent: int = 0
    mails_failed: int = 0
    # Occurrences with nobody to tell (the owning team has no active member with mail).
    unaddressed: int = 0

    @property
    def mails_sent(self) -> int:
        return self.reminders_sent + self.overdue_sent


@contextmanager
def round_lock() -> Iterator[bool]:
    """True when this process may run the round. PostgreSQL: a session advisory lock,
    released at the end (or when the session dies with the process)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def run(now: dt.datetime | None = None,
        progress: Callable[[str], None] | None = None) -> RunSummary:
    """One round. `progress` is told the name of each step as it starts."""
    now = now or timezone.now()
    summary = RunSummary(started_at=now)

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with round_lock() as acquired:
        if not acquired:
            summary.skipped = True
            summary.finished_at = timezone.now()
            return summary
        step(STEPS[0])
        summary.duties_added = len(services.sync_duties(now))
        step(STEPS[1])
        summary.occurrences_generated = services.generate_occurrences(now)
        step(STEPS[2])
        summary.procedures_refreshed = services.refresh_procedures(now)
        step(STEPS[3])
        summary.signoffs_reopened = services.reopen_expired_signoffs()
        step(STEPS[4])
        _log_upkeep(summary)
        step(STEPS[5])
        results = evaluation.evaluate(now=now)
        services.record_statuses(results, day=timezone.localdate(now))
        summary.controls_evaluated = len(results)
        summary.statuses = Counter(str(r.status) for r in results)
        step(STEPS[6])
        send_notifications(now, summary)
    summary.finished_at = timezone.now()
    return summary


def _log_upkeep(summary: RunSummary) -> None:
    """A failure here (a database role without UPDATE for the purge, a verification
    that cannot read) is logged and must not stop the reminders and notices."""
    try:
        done = upkeep.run_due()
    except Exception:
        logger.exception("Event Log upkeep failed in the duties round")
        summary.log_upkeep_failed = True
        return
    if done.checkpoint is not None:
        summary.log_checkpoint = done.checkpoint.tree_size
    if done.verification is not None:
        summary.log_verified = done.verification.ok
        summary.log_purged = done.purged


# --- reminders and overdue notices --------------------------------------------------------


def reminders_due(now: dt.datetime) -> list[Occurrence]:
    """Open occurrences not yet due whose reminder time (due - lead) has come and whose
    reminder has not been claimed."""
    candidates = (Occurrence.objects.filter(
        status=OccurrenceStatus.OPEN, reminded_at__isnull=True, due_at__gt=now,
        due_at__lte=now + LONGEST_LEAD).select_related("duty", "duty__assignee"))
    return [o for o in candidates
            if o.due_at - schedules.lead(o.duty.schedule, o.due_at) <= now]


def overdue_due(now: dt.datetime) -> list[Occurrence]:
    """Occurrences past their due time, not done, whose notice has not been claimed."""
    return list(Occurrence.objects.filter(
        status__in=[OccurrenceStatus.OPEN, OccurrenceStatus.AWAITING_SIGNOFF],
        overdue_notified_at__isnull=True, due_at__lte=now)
        .select_related("duty", "duty__assignee"))


def recipients(duty: Duty, kind: str) -> list[str]:
    """A reminder goes to whoever performs the duty: its designated person if it names
    one and one is designated (and still in the team), else the owning team's active
    members. An overdue notice goes to the whole team and the designated person: the
    leader must know a duty was missed, to designate someone else or to do it with the
    team."""
    declared = control(duty.control_id)
    assignee = duty.assignee
    designee = (assignee if declared and declared.designated and assignee is not None
                and is_member(assignee, duty.owner) else None)
    if kind == REMINDER and designee is not None:
        return [designee.email] if designee.email else []
    team = set(Membership.objects.active().filter(team__kind=duty.owner)
               .exclude(person__email="").values_list("person__email", flat=True))
    if designee is not None and designee.email:
        team.add(designee.email)
    return sorted(team)


def _claim(occurrence: Occurrence, kind: str, now: dt.datetime) -> bool:
    """The conditional UPDATE: true for exactly one caller however many race. Runs in
    autocommit (outside any atomic block of ours), so the claim is committed before the
    mail goes out."""
    column = "reminded_at" if kind == REMINDER else "overdue_notified_at"
    return Occurrence.objects.filter(
        pk=occurrence.pk, **{f"{column}__isnull": True}).update(**{column: now}) == 1


def _release(occurrences: list[Occurrence], kind: str, now: dt.datetime) -> None:
    column = "reminded_at" if kind == REMINDER else "overdue_notified_at"
    Occurrence.objects.filter(pk__in=[o.pk for o in occurrences],
                              **{column: now}).update(**{column: None})


def render(duty: Duty, occurrences: list[Occurrence], kind: str,
           now: dt.datetime) -> tuple[str, str]:
    declared = control(duty.control_id)
    text = render_to_string(f"notifications/compliance.duty.{kind}.txt", {
        "duty": duty, "control": declared, "occurrences": occurrences,
        "first": occurrences[0], "now": now, "site_url": settings.SITE_URL,
        "schedule": schedules.describe(duty.schedule),
        "sections": ", ".join(declared.sections) if declared else duty.control_id,
    })
    subject, _, body = text.strip().partition("\n")
    return settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()), body.strip() + "\n"


def send_notifications(now: dt.datetime, summary: RunSummary | None = None) -> RunSummary:
    """Claim, then mail, every reminder and overdue notice that has come due: one mail
    per duty and kind, listing the occurrences this replica claimed."""
    summary = summary or RunSummary(started_at=now)
    for kind, candidates in ((OVERDUE, overdue_due(now)), (REMINDER, reminders_due(now))):
        by_duty: dict[int, list[Occurrence]] = defaultdict(list)
        duties: dict[int, Duty] = {}
        for occurrence in candidates:
            duties[occurrence.duty_id] = occurrence.duty
            by_duty[occurrence.duty_id].append(occurrence)
        for duty_id, occurrences in by_duty.items():
            duty = duties[duty_id]
            if control(duty.control_id) is None:
                continue  # no longer declared: its history stays, nobody is reminded
            to = recipients(duty, kind)
            if not to:
                summary.unaddressed += len(occurrences)
                continue
            claimed = [o for o in occurrences if _claim(o, kind, now)]
            if not claimed:
                continue
            if _send(duty, claimed, kind, now, to):
                if kind == REMINDER:
                    summary.reminders_sent += 1
                else:
                    summary.overdue_sent += 1
            else:
                _release(claimed, kind, now)
                summary.mails_failed += 1
    return summary


def _send(duty: Duty, occurrences: list[Occurrence], kind: str, now: dt.datetime,
          to: list[str]) -> bool:
    subject, body = render(duty, occurrences, kind, now)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except OSError:  # smtplib's errors are OSErrors, as are refused connections
        logger.exception("could not send the %s of %s (%d occurrence(s)) to %d recipient(s); "
                         "released for the next round", kind, duty.control_id,
                         len(occurrences), len(to))
        return False
    return True


# --- the loop ------------------------------------------------------------------------------


def run_forever(every: int, stop: threading.Event,
                report: Callable[[RunSummary], Any] | None = None) -> None:
    """Run a round, then one every `every` seconds, until `stop` is set. A failed round
    (database away, a bug in one control) is logged and the next one runs as planned:
    nothing here may end the process that hosts the loop."""
    while not stop.is_set():
        try:
            summary = run()
            if report is not None:
                report(summary)
        except Exception:
            logger.exception("compliance duties round failed; the next runs in %ss", every)
        finally:
            # No connection kept between rounds: a round every few minutes needs none.
            connections.close_all()
        _sleep_unless_stopped(every, stop)


def _sleep_unless_stopped(seconds: float, stop: threading.Event) -> None:
    # Not stop.wait(seconds): `secman duties run` sets `stop` from a signal handler, which
    # runs in this same thread. Had the signal come while Event.wait held the event's
    # (non-reentrant) lock, set() would wait for that lock forever and SIGTERM would hang
    # the process. is_set() takes no lock.
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def log_summary(summary: RunSummary) -> None:
    if summary.skipped:
        logger.info("compliance duties: another replica holds the round; skipped")
        return
    if summary.log_verified is not None:
        log = logger.info if summary.log_verified else logger.error
        log("Event Log daily verification: %s; retention purge: entries emptied %d",
            "intact" if summary.log_verified else "FAILED", summary.log_purged)
    # "controls evaluated: 22, ..." reads right for any count, 1 included.
    logger.info("compliance duties: controls evaluated %d, occurrences generated %d, "
                "reminders sent %d, overdue notices sent %d, mails failed %d",
                summary.controls_evaluated, summary.occurrences_generated,
                summary.reminders_sent, summary.overdue_sent, summary.mails_failed)
