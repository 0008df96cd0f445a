"""Duty schedules: a keyword or a five-field cron expression (cronsim, the parser
healthchecks uses). An occurrence is due at a tick of the schedule and covers the time
since the tick before it: a weekly duty due on Monday 00:00 is the review of last week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from cronsim import CronSim, CronSimError

from secman.core.errors import RuleViolation

KEYWORDS = {
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 1",
    "monthly": "0 0 1 * *",
    "quarterly": "0 0 1 1,4,7,10 *",
    "yearly": "0 0 1 1 *",
}

# How long before the due time a reminder goes out and the occurrence shows "due soon".
LEAD = {
    "daily": dt.timedelta(hours=6),
    "weekly": dt.timedelta(days=2),
    "monthly": dt.timedelta(days=7),
    "quarterly": dt.timedelta(days=14),
    "yearly": dt.timedelta(days=30),
}

# A schedule firing more often than this is a mistake for a duty a person performs.
SHORTEST_PERIOD = dt.timedelta(hours=1)


def expression(schedule: str) -> str:
    """The cron expression of a schedule, refusing what cannot be a duty's schedule."""
    text = " ".join((schedule or "").split())
    if not text:
        raise RuleViolation("give a schedule: daily, weekly, monthly, quarterly, yearly or "
                            "a cron expression such as '0 9 * * 1'", field="schedule")
    cron = KEYWORDS.get(text.lower(), text)
    if len(cron.split(" ")) != 5:
        raise RuleViolation(
            f"{text!r} is neither daily, weekly, monthly, quarterly, yearly nor a cron "
            "expression of five fields (minute hour day-of-month month day-of-week)",
            field="schedule")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    try:
        ticks = CronSim(cron, start)
        first, second = next(ticks), next(ticks)
    except CronSimError as exc:
        raise RuleViolation(f"cron expression {text!r} is malformed: {exc}",
                            field="schedule") from exc
    except StopIteration:
        raise RuleViolation(f"cron expression {text!r} never fires",
                            field="schedule") from None
    if second - first < SHORTEST_PERIOD:
        raise RuleViolation(f"{text!r} fires every {second - first}; a duty is performed at "
                            f"most once per {SHORTEST_PERIOD}", field="schedule")
    return cron


def normalised(schedule: str) -> str:
    """The schedule as stored: the keyword in lower case, or the cron expression."""
    text = " ".join((schedule or "").split())
    expression(text)
    return text.lower() if text.lower() in KEYWORDS else text


def ticks(schedule: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """Due times strictly after `after`, in UTC."""
    return CronSim(expression(schedule), after.astimezone(dt.UTC))


def previous_tick(schedule: str, before: dt.datetime) -> dt.datetime:
    return next(CronSim(expression(schedule), before.astimezone(dt.UTC), reverse=True))


def lead(schedule: str, due: dt.datetime) -> dt.timedelta:
    """Reminder lead: fixed for keywords, a quarter of the period for cron expressions
    (capped at a week)."""
    if schedule in LEAD:
        return LEAD[schedule]
    period = due - previous_tick(schedule, due)
    return min(period / 4, dt.timedelta(days=7))


def describe(schedule: str) -> str:
    return schedule if schedule in KEYWORDS else f"cron '{schedule}'"
