"""What the compliance pages and reports read: the dashboard's chapters and sections,
trends, my duties. Read-only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from secman.compliance.evaluation import (
    Result,
    SectionStatus,
    by_section,
    chapter_of,
    counts,
    evaluate_current,
    per_evaluation,
)
from secman.compliance.models import Acceptance, Occurrence, OccurrenceStatus, StatusRecord
from secman.core.controls import RANK, TONE, Status, declared_controls, worst
from secman.documents.selectors import default_pair
from secman.people.models import Person
from secman.people.selectors import teams_of

TREND_DAYS = 90


@dataclass
class Chapter:
    number: str
    title: str
    status: Status
    counts: dict[Status, int]
    sections: list[tuple[str, str, SectionStatus]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tone(self) -> str:
        return TONE[self.status]


def section_titles() -> dict[str, str]:
    """Titles by number from the current SM, filled in from the SP."""
    titles: dict[str, str] = {}
    for version in default_pair():
        if version is not None:
            for number, title in version.sections.values_list("number", "title"):
                titles.setdefault(number, title)
    return titles


def _sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def chapters(results: list[Result]) -> list[Chapter]:
    titles = section_titles()
    sections = by_section(results)
    grouped: dict[str, list[SectionStatus]] = defaultdict(list)
    for number, entry in sections.items():
        grouped[chapter_of(number)].append(entry)
    trends = trend_by_chapter()
    found = []
    for chapter in sorted(grouped, key=_sort_key):
        entries = sorted(grouped[chapter], key=lambda e: _sort_key(e.number))
        chapter_results = {id(r): r for e in entries for r in e.results}.values()
        found.append(Chapter(
            chapter, titles.get(chapter, ""), worst(e.status for e in entries),
            counts(chapter_results),
            [(e.number, titles.get(e.number, ""), e) for e in entries],
            trends.get(chapter, [])))
    return found


def trend_by_chapter(days: int = TREND_DAYS) -> dict[str, list[dict[str, Any]]]:
    """Per chapter, per day of the last `days`, the worst recorded status: the cells of the
    small trend strip. Days without a record stay blank (secman was not running)."""
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    chapters_of = {c.id: {chapter_of(n) for n in c.numbers} for c in declared_controls()}
    worst_of: dict[tuple[str, dt.date], Status] = {}
    for day, control_id, status in StatusRecord.objects.filter(day__gte=since).values_list(
            "day", "control_id", "status"):
        for chapter in chapters_of.get(control_id, ()):
            key = (chapter, day)
            if key not in worst_of or RANK[Status(status)] > RANK[worst_of[key]]:
                worst_of[key] = Status(status)
    strips: dict[str, list[dict[str, Any]]] = {}
    for chapter in {c for _id, cs in chapters_of.items() for c in cs}:
        strips[chapter] = []
        for i in range(days):
            day = since + dt.timedelta(days=i)
            worst = worst_of.get((chapter, day))
            # Labels made here: 90 cells per chapter through template filters cost ~50 ms.
            strips[chapter].append({"x": i * 3, "status": worst,
                                    "title": f"{day}: {worst.label if worst else 'no record'}"})
    return strips


def active_acceptances() -> list[Acceptance]:
    now = timezone.now()
    return [a for a in Acceptance.objects.filter(withdrawn_at__isnull=True)
            .select_related("authority", "accepted_by") if a.is_active(now)]


def my_occurrences(person: Person | None, horizon: dt.timedelta = dt.timedelta(days=7)
                   ) -> list[Occurrence]:
    """Open occurrences of my teams' duties that are overdue or due within `horizon`;
    a designated duty shows only to its designated person."""
    teams = teams_of(person)
    if not teams or person is None:
        return []
    return list(Occurrence.objects.filter(
        duty__owner__in=teams, status__in=[OccurrenceStatus.OPEN,
                                           OccurrenceStatus.AWAITING_SIGNOFF],
        due_at__lte=timezone.now() + horizon)
        .filter(Q(duty__assignee__isnull=True) | Q(duty__assignee=person))
        .select_related("duty").order_by("due_at"))


def compare_column(numbers: list[str]) -> dict[str, str]:
    """The third column of the documents' side-by-side view: each section's status and
    findings, linked to their evidence (registered in apps.ready). The cells are rendered
    once per evaluation (every section the controls serve), not on every page."""
    cells = per_evaluation(evaluate_current(), "documents.compare_column", lambda results: {
        number: render_to_string("compliance/_compare_cell.html", {"entry": entry})
        for number, entry in by_section(results).items()})
    return {number: cells[number] for number in numbers if number in cells}
