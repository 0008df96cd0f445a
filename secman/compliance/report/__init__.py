"""The audit report (issue 6, item 7): per SP/SM section, what the SP requires, what the
SM says is done, the evidence of the period, the findings and the accepted exceptions,
pinned to the Event Log checkpoint it was produced against.

One builder (`build`) reads; three renderers write: HTML (self-contained, with a print
stylesheet), PDF (WeasyPrint, from the same HTML) and OSCAL assessment-results JSON.
Evidence counts only entries the checkpoint covers (seq <= its tree size), so a reader
who checks the checkpoint checks exactly the entries that were counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secman.compliance.report.oscal import oscal, render_oscal
from secman.core.controls import TONE, Finding, Kind, Status, worst

if TYPE_CHECKING:
    from secman.compliance.evaluation import Result
    from secman.compliance.models import Acceptance

# Models, settings and templates are imported where they are used: the command line
# checks the period and the output path before Django is set up.

FORMATS = ("html", "pdf", "oscal")
SAMPLES = 3
STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "report.css"
# Everything the report names gets a UUID derived from this and the report's own UUID,
# so the same report always carries the same identifiers.
NAMESPACE = uuid.UUID("6f1c3a52-8a8e-4d0e-9a51-6c0b1b2d7e11")


class ReportError(ValueError):
    """Input the report cannot be made from; the message says what to change."""


# --- the period ---------------------------------------------------------------------------


LAST_DAY = dt.date.max - dt.timedelta(days=1)  # 9999-12-30


@dataclass(frozen=True)
class Period:
    """Whole days, both included, in UTC."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ReportError(f"the period ends ({self.last}) before it starts ({self.first})")
        if self.last > LAST_DAY:
            # The period runs up to the first instant of the day after its last, and no
            # date comes after 9999-12-31.
            raise ReportError(f"the period ends on {self.last}: give a last day up to "
                              f"{LAST_DAY}")

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def parse_day(value: str | dt.date | None, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip()
    if not text:
        raise ReportError(f"give the {what} day as YYYY-MM-DD")
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{what} {text[:40]!r} is not a day like 2026-01-31") from None


def parse_period(first: str | dt.date | None, last: str | dt.date | None) -> Period:
    return Period(parse_day(first, "--from"), parse_day(last, "--to"))


# --- what the report holds ----------------------------------------------------------------


@dataclass
class EventSample:
    seq: int
    recorded_at: dt.datetime
    action: str
    authority: str
    subject: str
    actor: str
    url: str
    restricted: bool


@dataclass
class OccurrenceSample:
    control_id: str
    due_at: dt.datetime
    status: str
    completed_at: dt.datetime | None
    completed_by: str
    note: str
    evidence_sha256: str
    event_seq: int | None
    url: str


@dataclass
class AttestationSample:
    control_id: str
    person: str
    attested_at: dt.datetime
    expires_at: dt.datetime
    authority: str
    statement: str


@dataclass
class ExceptionRow:
    control_id: str
    subject: str
    kind: str
    reason: str
    authority: str
    accepted_by: str
    accepted_at: dt.datetime
    expires_at: dt.datetime | None
    state: str
    url: str


@dataclass
class SectionReport:
    number: str
    title: str
    sp_text: str
    sm_text: str
    status: Status | None
    results: list[Result] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Acceptance]] = field(default_factory=list)
    events: int = 0
    event_samples: list[EventSample] = field(default_factory=list)
    done: int = 0
    overdue: int = 0
    skipped: int = 0
    open: int = 0
    occurrence_samples: list[OccurrenceSample] = field(default_factory=list)
    attestations: int = 0
    attestation_samples: list[AttestationSample] = field(default_factory=list)
    exceptions: list[ExceptionRow] = field(default_factory=list)

    @property
    def tone(self) -> str:
        return TONE[self.status] if self.status else "none"

    @property
    def status_label(self) -> str:
        return self.status.label if self.status else "No control"

    @property
    def chapter(self) -> str:
        return self.number.split(".", 1)[0]

    @property
    def level(self) -> int:
        return self.number.count(".") + 1

    @property
    def has_duties(self) -> bool:
        return any(r.control.kind == Kind.DUTY for r in self.results)

    @property
    def has_attestations(self) -> bool:
        return any(r.control.kind == Kind.ATTESTATION for r in self.results)

    @property
    def has_evidence(self) -> bool:
        return bool(self.events or self.done or self.overdue or self.skipped or self.open
                    or self.attestations)


@dataclass
class CheckpointInfo:
    """The newest signed checkpoint when the report was made."""

    tree_size: int
    root_hash: str
    time: dt.datetime
    note: str
    key: str
    url: str
    fresh: bool


@dataclass
class AuditReport:
    uuid: uuid.UUID
    period: Period
    generated_at: dt.datetime
    site_url: str
    sp_label: str
    sm_label: str
    # The log's head when the report was made: every entry up to it is counted, and
    # head_root is the Merkle root of those entries (what a checkpoint at that size signs).
    head: int
    head_root: str
    checkpoint: CheckpointInfo | None
    sections: list[SectionReport]
    results: list[Result]
    # Entries of the period that cite an SP/SM section or concern a control, each once
    # (two sections' counts may share an entry).
    events: int = 0

    @property
    def title(self) -> str:
        return f"Audit report {self.period}"

    @property
    def covered(self) -> bool:
        """Whether a signed checkpoint covers every entry the report counted."""
        return self.checkpoint is not None and self.checkpoint.tree_size >= self.head

    @property
    def checkpoint_due(self) -> dt.datetime | None:
        """When the scheduler signs the checkpoint that will cover the uncovered entries,
        at the latest (it signs when entries have waited SECMAN_EVENTLOG_CHECKPOINT_SECONDS)."""
        from django.conf import settings

        if self.covered or not self.head:
            return None
        since = self.checkpoint.time if self.checkpoint else self.generated_at
        return max(since, self.generated_at - dt.timedelta(
            seconds=settings.EVENTLOG_CHECKPOINT_SECONDS)) + dt.timedelta(
            seconds=settings.EVENTLOG_CHECKPOINT_SECONDS)

    @property
    def counts(self) -> list[tuple[str, int, str]]:
        tally = {status: 0 for status in Status}
        for result in self.results:
            tally[result.status] += 1
        return [(status.label, tally[status], TONE[status]) for status in reversed(Status)
                if tally[status] or status != Status.NOT_APPLICABLE]

    @property
    def status(self) -> Status:
        return worst(r.status for r in self.results)

    @property
    def exceptions(self) -> list[ExceptionRow]:
        seen: dict[tuple[str, str, dt.datetime], ExceptionRow] = {}
        for section in self.sections:
            for row in section.exceptions:
                seen.setdefault((row.control_id, row.subject, row.accepted_at), row)
        return list(seen.values())

    def link(self, path: str) -> str:
        return f"{self.site_url}{path}" if path.startswith("/") else path


# --- building it --------------------------------------------------------------------------


def _sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def _head(sign: bool) -> tuple[int, str, CheckpointInfo | None]:
    """(head, root of the first `head` entries, newest checkpoint). With `sign`, the
    server signs a checkpoint of the log as it is now first (the command line's operator
    holds the database and the key already); one that covers the head is reused."""
    from secman.eventlog.checkpoints import write_checkpoint
    from secman.eventlog.models import Checkpoint
    from secman.eventlog.proofs import root_at, tree_size

    newest = Checkpoint.objects.order_by("-tree_size", "-id").first()
    fresh = False
    if sign and tree_size():
        signed = write_checkpoint(actor=None)
        fresh = newest is None or signed.pk != newest.pk
        newest = signed
    # Read after signing: the head is never below the checkpoint, so "covered" means the
    # checkpoint's size is the head's.
    head = tree_size()
    info = None
    if newest is not None:
        info = CheckpointInfo(newest.tree_size, newest.root_hash, newest.time, newest.note,
                              f"{newest.key.name}+{newest.key.key_id}",
                              newest.get_absolute_url(), fresh)
    return head, root_at(head).hex(), info


def _documents() -> tuple[str, str, dict[str, tuple[str, str, str]]]:
    """(SP label, SM label, {number: (title, SP text, SM text)})."""
    from secman.documents.selectors import default_pair

    sp, sm = default_pair()
    texts: dict[str, list[str]] = {}
    for index, version in enumerate((sp, sm)):
        if version is None:
            continue
        for number, title, text in version.sections.values_list("number", "title", "text"):
            entry = texts.setdefault(number, ["", "", ""])
            entry[0] = entry[0] or title
            entry[1 + index] = text

    def label(version: Any) -> str:
        return f"{version.document.name}, version {version.label}" if version else "none stored"

    return label(sp), label(sm), {n: (t[0], t[1], t[2]) for n, t in texts.items()}


def _events_query(period: Period, head: int) -> Any:
    from secman.eventlog.models import Event

    return Event.objects.filter(recorded_at__gte=period.start, recorded_at__lt=period.end,
                                seq__lte=head)


def build(period: Period, *, fresh_checkpoint: bool = False,
          progress: Callable[[str, int, int], None] | None = None,
          now: dt.datetime | None = None) -> AuditReport:
    """Read everything the report says, counting every Event Log entry up to the log's
    head when it starts. `progress(what, done, total)` is called per section. With
    `fresh_checkpoint`, the server signs a checkpoint of the log as it is now first (the
    command line); the web names the newest one there is and says what it does not cover
    yet (signing on demand is for Systems Administrators, SM 4.2.2)."""
    from django.conf import settings
    from django.db.models import Count, Q
    from django.utils import timezone

    from secman.compliance.evaluation import by_section, evaluate
    from secman.compliance.models import Acceptance
    from secman.eventlog.selectors import restricted_classes

    now = now or timezone.now()
    head, head_root, checkpoint = _head(fresh_checkpoint)
    results = evaluate(now=now)
    statuses = by_section(results)
    sp_label, sm_label, texts = _documents()
    numbers = sorted(set(texts) | set(statuses), key=_sort_key)
    controls_of: dict[str, list[str]] = {}
    for result in results:
        for number in result.control.numbers:
            controls_of.setdefault(number, []).append(result.control.id)

    events = _events_query(period, head)
    by_authority = dict(events.filter(authority__regex=r"^S[PM] ").values_list("authority")
                        .annotate(n=Count("id")).order_by())
    hidden = restricted_classes()
    acceptances = list(Acceptance.objects.filter(accepted_at__lt=period.end)
                       .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=period.start))
                       .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=period.start))
                       .select_related("authority", "accepted_by"))
    sections = []
    for index, number in enumerate(numbers):
        if progress:
            progress(number, index, len(numbers))
        title, sp_text, sm_text = texts.get(number, ("", "", ""))
        entry = statuses.get(number)
        section = SectionReport(number, title, sp_text, sm_text,
                                entry.status if entry else None)
        if entry:
            section.results = entry.results
            section.findings = entry.findings
            section.accepted = [pair for r in entry.results for pair in r.accepted]
        control_ids = controls_of.get(number, [])
        cites = [f"SP {number}", f"SM {number}"]
        if control_ids:
            # Entries about the section's controls (duties done, attestations, exceptions)
            # count as well as those citing it; each entry once.
            mine = events.filter(Q(authority__in=cites) | Q(details__control__in=control_ids))
            section.events = mine.count()
        else:
            mine = events.filter(authority__in=cites)
            section.events = sum(by_authority.get(c, 0) for c in cites)
        if section.events:
            section.event_samples = [
                EventSample(e.seq, e.recorded_at, e.action, e.authority, e.subject_label,
                            e.actor_label, e.get_absolute_url(),
                            e.retention_class in hidden or e.purged_at is not None)
                for e in mine.order_by("-seq")[:SAMPLES]]
        if control_ids:
            _occurrences(section, control_ids, period, now)
            _attestations(section, control_ids, period)
            section.exceptions = [_exception_row(a, now) for a in acceptances
                                  if a.control_id in control_ids]
        sections.append(section)
    if progress:
        progress("", len(numbers), len(numbers))
    report_uuid = uuid.uuid5(NAMESPACE, f"{settings.SITE_URL}|{period}|{now.isoformat()}|"
                             f"{head}|{head_root}")
    total = events.filter(Q(authority__regex=r"^S[PM] ") | Q(details__has_key="control")).count()
    return AuditReport(report_uuid, period, now, settings.SITE_URL, sp_label, sm_label,
                       head, head_root, checkpoint, sections, results, total)


def _occurrences(section: SectionReport, control_ids: list[str], period: Period,
                 now: dt.datetime) -> None:
    from django.db.models import Q

    from secman.compliance.models import Occurrence, OccurrenceStatus

    mine = Occurrence.objects.filter(duty__control_id__in=control_ids)
    in_period = Q(due_at__gte=period.start, due_at__lt=period.end)
    section.done = mine.filter(status=OccurrenceStatus.DONE, completed_at__gte=period.start,
                               completed_at__lt=period.end).count()
    pending = mine.filter(in_period, status__in=[OccurrenceStatus.OPEN,
                                                 OccurrenceStatus.AWAITING_SIGNOFF])
    section.overdue = pending.filter(due_at__lte=now).count()
    section.open = pending.filter(due_at__gt=now).count()
    section.skipped = mine.filter(in_period, status=OccurrenceStatus.SKIPPED).count()
    # The newest of each kind, so a reader sees what done, skipped and missed look like.
    done = mine.filter(status=OccurrenceStatus.DONE, completed_at__gte=period.start,
                       completed_at__lt=period.end).order_by("-completed_at")
    samples = [*done.select_related("duty", "completed_by")[:2],
               *mine.filter(in_period, status=OccurrenceStatus.SKIPPED)
               .select_related("duty", "completed_by").order_by("-due_at")[:1],
               *pending.filter(due_at__lte=now).select_related("duty", "completed_by")
               .order_by("-due_at")[:1]]
    section.occurrence_samples = [OccurrenceSample(
        o.duty.control_id, o.due_at,
        "overdue" if o.is_overdue(now) else o.get_status_display(), o.completed_at,
        str(o.completed_by) if o.completed_by else "", o.note or o.skip_reason,
        o.evidence_sha256, o.event_seq, o.get_absolute_url()) for o in samples]


def _attestations(section: SectionReport, control_ids: list[str], period: Period) -> None:
    from secman.compliance.models import Attestation

    mine = Attestation.objects.filter(control_id__in=control_ids, attested_at__gte=period.start,
                                      attested_at__lt=period.end)
    section.attestations = mine.count()
    section.attestation_samples = [AttestationSample(
        a.control_id, str(a.person), a.attested_at, a.expires_at, a.authority.reference,
        a.statement) for a in mine.select_related("person", "authority")[:SAMPLES]]


def _exception_row(acceptance: Acceptance, now: dt.datetime) -> ExceptionRow:
    if acceptance.withdrawn_at is not None:
        state = f"withdrawn {acceptance.withdrawn_at:%Y-%m-%d}"
    elif acceptance.expires_at is not None and acceptance.expires_at <= now:
        state = f"expired {acceptance.expires_at:%Y-%m-%d}"
    else:
        state = "in force"
    from django.urls import reverse

    return ExceptionRow(
        acceptance.control_id, acceptance.subject, acceptance.get_kind_display(),
        acceptance.reason, acceptance.authority.reference, str(acceptance.accepted_by),
        acceptance.accepted_at, acceptance.expires_at, state,
        reverse("compliance:control", args=[acceptance.control_id]))


# --- HTML and PDF -------------------------------------------------------------------------


def render_html(report: AuditReport, *, request: Any = None, jobs: Iterable[Any] = ()) -> str:
    """The report as one HTML document. For a file (and the PDF) the stylesheet is copied
    in, so the file needs nothing else. With the web `request`, the page links the static
    stylesheet instead (all the Content-Security-Policy allows) and carries the period
    form, the download buttons and the person's recent report `jobs`."""
    from django.template.loader import render_to_string

    return render_to_string("compliance/report.html", {
        "report": report, "web": request is not None, "jobs": list(jobs),
        "stylesheet": "" if request is not None else STYLESHEET.read_text(encoding="utf-8"),
        "chapters": _chapters(report.sections),
    }, request=request)


def _chapters(sections: Iterable[SectionReport]) -> list[tuple[str, list[SectionReport]]]:
    grouped: dict[str, list[SectionReport]] = {}
    for section in sections:
        grouped.setdefault(section.chapter, []).append(section)
    return list(grouped.items())


class _LayoutProgress(logging.Handler):
    """Turns WeasyPrint's progress lines into calls of `pages(stage, page)`; "Step 5 -
    Creating layout - Page 12" is the one that says how far it has got."""

    STAGES = {"Step 3": "Applying the stylesheet", "Step 4": "Building the layout",
              "Step 6": "Writing the PDF"}

    def __init__(self, pages: Callable[[str, int], None]) -> None:
        super().__init__(logging.INFO)
        self.pages = pages
        self.page = 0

    def emit(self, record: logging.LogRecord) -> None:
        step = str(record.msg)[:6]
        if step == "Step 5" and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            self.page = int(str(args[0])) if str(args[0]).isdigit() else self.page
            self.pages("Laying out", self.page)
        elif step in self.STAGES:
            self.pages(self.STAGES[step], self.page)


@contextlib.contextmanager
def _weasyprint_logging(pages: Callable[[str, int], None] | None) -> Iterator[None]:
    """WeasyPrint and fontTools log every parsing, layout and font-subsetting step at
    INFO/DEBUG; neither the command line nor the server log wants them. Only errors pass
    while the PDF renders, and the progress lines feed `pages` instead of the log. Set
    before WeasyPrint is imported: it parses its own stylesheets (and logs) on import."""
    loggers = [logging.getLogger(name) for name in ("weasyprint", "fontTools")]
    progress = logging.getLogger("weasyprint.progress")
    saved = [(lg, lg.level, lg.propagate) for lg in (*loggers, progress)]
    handler = _LayoutProgress(pages) if pages else None
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    progress.propagate = False
    progress.setLevel(logging.INFO if handler else logging.ERROR)
    if handler:
        progress.addHandler(handler)
    try:
        yield
    finally:
        if handler:
            progress.removeHandler(handler)
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


def render_pdf(report: AuditReport, *,
               pages: Callable[[str, int], None] | None = None) -> bytes:
    """The PDF; `pages(stage, page)` is told each page as it is laid out."""
    html = render_html(report)
    with _weasyprint_logging(pages):
        import weasyprint

        # The report is self-contained: nothing is fetched while rendering (data: only).
        fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
        return weasyprint.HTML(string=html, base_url=report.site_url,
                               url_fetcher=fetcher).write_pdf()


# --- writing a file -----------------------------------------------------------------------


def render(report: AuditReport, format: str, *,
           pages: Callable[[str, int], None] | None = None) -> bytes:
    if format == "html":
        return render_html(report).encode("utf-8")
    if format == "pdf":
        return render_pdf(report, pages=pages)
    if format == "oscal":
        return render_oscal(report).encode("utf-8")
    raise ReportError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "AuditReport", "Period", "ReportError", "build",
           "oscal", "parse_period", "render", "render_html", "render_oscal", "render_pdf"]
