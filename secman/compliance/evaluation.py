"""Evaluate every control now, from records and Event Log entries, and roll the results
up by section and chapter. Reads only: writing the daily status record is
services.record_statuses()."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.db import connection
from django.utils import timezone

from secman.compliance import schedules
from secman.compliance.models import (
    Acceptance,
    AcceptanceKind,
    Attestation,
    Duty,
    Occurrence,
    OccurrenceStatus,
)
from secman.core.controls import (
    RANK,
    TONE,
    Control,
    Finding,
    Kind,
    Status,
    declared_controls,
    worst,
)
from secman.eventlog.models import LogHead

ATTESTATION_WARNING = dt.timedelta(days=30)
T = TypeVar("T")


@dataclass
class Result:
    control: Control
    status: Status
    findings: list[Finding]
    evaluated_at: dt.datetime
    summary: str = ""
    # Findings an active acceptance covers: shown beside it, not counted.
    accepted: list[tuple[Finding, Acceptance]] = field(default_factory=list)
    acceptances: list[Acceptance] = field(default_factory=list)

    @property
    def tone(self) -> str:
        return TONE[self.status]


def evaluate(controls: Sequence[Control] | None = None,
             now: dt.datetime | None = None) -> list[Result]:
    now = now or timezone.now()
    controls = list(declared_controls() if controls is None else controls)
    acceptances = _active_acceptances(now)
    duties = _duty_state(now, [c for c in controls if c.kind == Kind.DUTY])
    attestations = _latest_attestations([c for c in controls if c.kind == Kind.ATTESTATION])
    results = []
    for control in controls:
        if control.kind == Kind.COMPUTED:
            assert control.check is not None
            findings, summary = list(control.check()), ""
        elif control.kind == Kind.DUTY:
            findings, summary = duties.get(control.id, (
                [Finding(control.sections[0], "not scheduled yet: `secman duties run` "
                         "generates its occurrences", status=Status.NOT_EVIDENCED)], ""))
        else:
            findings, summary = _attestation_findings(control, attestations.get(control.id),
                                                      now)
        results.append(_apply(control, findings, summary,
                              acceptances.get(control.id, []), now))
    return results


# Pages (dashboard, Today, the side-by-side view) evaluate every control on each request;
# on a large organisation that is most of their time. evaluate_current() lets the requests
# of one process share a result while nothing was recorded, for at most REUSE_SECONDS.
REUSE_SECONDS = 60
_reuse_lock = threading.Lock()
_reused: list[tuple[tuple[object, ...], float, list[Result]]] = []


def _log_state() -> tuple[int, str]:
    row = LogHead.objects.filter(pk=1).values_list("seq", "head_hash").first()
    return row or (0, "")


def evaluate_current() -> list[Result]:
    """evaluate() of every control, shared by the requests of this process while the Event
    Log has not moved, and for at most REUSE_SECONDS.

    Every service records its Event Log entry in the same transaction as its change, so
    the log's newest leaf hash moves with every recorded change and a page shows it on
    the next request; what only time changes (a duty falling due, an acceptance expiring)
    shows within REUSE_SECONDS. Inside a transaction (a service, a test changing records
    directly) and before anything is logged, it evaluates afresh."""
    if REUSE_SECONDS <= 0 or connection.in_atomic_block:
        return evaluate()
    seq, head = _log_state()
    if not seq:
        return evaluate()
    key = (connection.alias, str(connection.settings_dict["NAME"]), seq, head)
    with _reuse_lock:
        if _reused and _reused[0][0] == key and time.monotonic() - _reused[0][1] < REUSE_SECONDS:
            return _reused[0][2]
    started = time.monotonic()
    results = evaluate()
    with _reuse_lock:
        _reused[:] = [(key, started, results)]
    return results


_derived: dict[str, tuple[list[Result], Any]] = {}


def per_evaluation(results: list[Result], name: str,
                   compute: Callable[[list[Result]], T]) -> T:
    """compute(results), kept under `name` for as long as evaluate_current() shares these
    results: what a page makes of them (the side-by-side view's cells, Today's staffing
    findings) is made once per evaluation, and is as fresh as the evaluation is."""
    with _reuse_lock:
        kept = _derived.get(name)
        if kept is not None and kept[0] is results:
            return cast(T, kept[1])
    value = compute(results)
    with _reuse_lock:
        _derived[name] = (results, value)
    return value


def _apply(control: Control, findings: list[Finding], summary: str,
           acceptances: list[Acceptance], now: dt.datetime) -> Result:
    whole = next((a for a in acceptances if not a.subject), None)
    by_subject = {a.subject: a for a in acceptances if a.subject}
    open_findings, accepted = [], []
    for finding in findings:
        acceptance = by_subject.get(finding.subject) if finding.subject else None
        acceptance = acceptance or whole
        if acceptance is not None and finding.status != Status.OK:
            accepted.append((finding, acceptance))
        else:
            open_findings.append(finding)
    status = worst(f.status for f in open_findings)
    if whole is not None and whole.kind == AcceptanceKind.NOT_APPLICABLE and not open_findings:
        status = Status.NOT_APPLICABLE
    return Result(control, status, open_findings, now, summary, accepted, acceptances)


def _active_acceptances(now: dt.datetime) -> dict[str, list[Acceptance]]:
    found: dict[str, list[Acceptance]] = defaultdict(list)
    for acceptance in Acceptance.objects.filter(withdrawn_at__isnull=True).select_related(
            "authority", "accepted_by"):
        if acceptance.is_active(now):
            found[acceptance.control_id].append(acceptance)
    return found


def _duty_state(now: dt.datetime, controls: list[Control]
                ) -> dict[str, tuple[list[Finding], str]]:
    """Findings per duty from its occurrences: overdue ones, the next one if due soon."""
    if not controls:
        return {}
    wanted = {c.id: c for c in controls}
    duties = {d.pk: d for d in Duty.objects.filter(control_id__in=wanted)}
    state: dict[str, tuple[list[Finding], str]] = {}
    pending = (Occurrence.objects.filter(duty__in=duties.keys(), status__in=[
        OccurrenceStatus.OPEN, OccurrenceStatus.AWAITING_SIGNOFF],
        due_at__lte=now + dt.timedelta(days=31)).order_by("due_at"))
    by_duty: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in pending:
        by_duty[occurrence.duty_id].append(occurrence)
    last_done = dict(
        Occurrence.objects.filter(duty__in=duties.keys(), status=OccurrenceStatus.DONE)
        .order_by("duty_id", "completed_at").values_list("duty_id", "completed_at"))
    for duty in duties.values():
        control = wanted[duty.control_id]
        findings = []
        section = control.sections[0]
        upcoming = None
        for occurrence in by_duty.get(duty.pk, []):
            if occurrence.due_at <= now:
                findings.append(Finding(
                    section, f"due {occurrence.due_at:%Y-%m-%d %H:%M} UTC and not done"
                    + (" (awaiting the second person's sign-off)"
                       if occurrence.status == OccurrenceStatus.AWAITING_SIGNOFF else ""),
                    occurrence.get_absolute_url(), Status.OVERDUE,
                    f"occurrence:{occurrence.due_at:%Y-%m-%dT%H:%M}"))
            elif upcoming is None:
                upcoming = occurrence
        if upcoming and upcoming.due_at - schedules.lead(duty.schedule, upcoming.due_at) <= now:
            findings.append(Finding(section, f"due {upcoming.due_at:%Y-%m-%d %H:%M} UTC",
                                    upcoming.get_absolute_url(), Status.DUE_SOON,
                                    f"occurrence:{upcoming.due_at:%Y-%m-%dT%H:%M}"))
        if control.designated and duty.assignee_id is None:
            findings.append(Finding(section, f"no {control.designated} is designated",
                                    duty.get_absolute_url(), Status.VIOLATED,
                                    "designation"))
        done = last_done.get(duty.pk)
        summary = f"{schedules.describe(duty.schedule)}; " + (
            f"last done {done:%Y-%m-%d %H:%M} UTC" if done else "never done yet")
        if upcoming:
            summary += f"; next due {upcoming.due_at:%Y-%m-%d %H:%M} UTC"
        state[duty.control_id] = (findings, summary)
    return state


def _latest_attestations(controls: list[Control]) -> dict[str, Attestation]:
    latest: dict[str, Attestation] = {}
    for attestation in Attestation.objects.filter(
            control_id__in=[c.id for c in controls]).select_related("person"):
        latest.setdefault(attestation.control_id, attestation)  # ordered newest first
    return latest


def _attestation_findings(control: Control, attestation: Attestation | None,
                          now: dt.datetime) -> tuple[list[Finding], str]:
    section = control.sections[0]
    assert control.role is not None
    if attestation is None:
        return [Finding(section, "never attested (by a person holding the role "
                        f"{control.role.label})", status=Status.NOT_EVIDENCED)], ""
    summary = (f"attested by {attestation.person} on {attestation.attested_at:%Y-%m-%d}, "
               f"valid until {attestation.expires_at:%Y-%m-%d}")
    if attestation.expires_at <= now:
        return [Finding(section, f"the attestation expired on {attestation.expires_at:%Y-%m-%d}",
                        status=Status.OVERDUE)], summary
    if attestation.expires_at - ATTESTATION_WARNING <= now:
        return [Finding(section, f"the attestation expires on {attestation.expires_at:%Y-%m-%d}",
                        status=Status.DUE_SOON)], summary
    return [], summary


# --- roll-up ------------------------------------------------------------------------------


@dataclass
class SectionStatus:
    number: str
    status: Status
    results: list[Result]
    findings: list[Finding]

    @property
    def tone(self) -> str:
        return TONE[self.status]


def by_section(results: Iterable[Result]) -> dict[str, SectionStatus]:
    """Each section number with the controls naming it and the findings that name it."""
    sections: dict[str, SectionStatus] = {}

    def slot(number: str) -> SectionStatus:
        return sections.setdefault(number, SectionStatus(number, Status.OK, [], []))

    for result in results:
        for number in result.control.numbers:
            entry = slot(number)
            entry.results.append(result)
            entry.status = max(entry.status, result.status, key=RANK.__getitem__)
        for finding in result.findings:
            number = finding.section.split(" ", 1)[-1]
            entry = slot(number)
            entry.findings.append(finding)
            if number not in result.control.numbers:
                entry.status = max(entry.status, finding.status, key=RANK.__getitem__)
    for entry in sections.values():
        if entry.results and all(r.status == Status.NOT_APPLICABLE for r in entry.results):
            entry.status = Status.NOT_APPLICABLE
    return sections


def chapter_of(number: str) -> str:
    return number.split(".", 1)[0]


def counts(results: Iterable[Result]) -> dict[Status, int]:
    tally: dict[Status, int] = {status: 0 for status in Status}
    for result in results:
        tally[result.status] += 1
    return tally
