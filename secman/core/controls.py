"""What a control is, and where secman finds them.

Each app declares its controls in `<app>/controls.py` as a module-level `CONTROLS` list.
A control names the section(s) it serves, a statement a reader can check against the
text of the SP/SM, the team that owns it, and how it is evidenced:

- computed: a function reads records and Event Log entries and returns findings;
- duty: occurrences on a schedule, each completed with evidence (compliance.models.Duty);
- attestation: a person holding a role attests, with authority, for a set period.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models

from secman.core.roles import Role, TeamKind


class Kind(models.TextChoices):
    COMPUTED = "computed", "Computed from records"
    DUTY = "duty", "Recurring duty"
    ATTESTATION = "attestation", "Attestation"


class Status(models.TextChoices):
    """Ordered from best to worst: a section shows the worst of its controls."""

    NOT_APPLICABLE = "not_applicable", "Not applicable"
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    DUE_SOON = "due_soon", "Due soon"
    NOT_EVIDENCED = "not_evidenced", "Not evidenced"
    OVERDUE = "overdue", "Overdue"
    VIOLATED = "violated", "Violated"


RANK = {status: rank for rank, status in enumerate(Status)}
# Colour class of each status in the stylesheet (ok/info/warn/bad).
TONE = {
    Status.NOT_APPLICABLE: "info", Status.OK: "ok", Status.WARNING: "warn",
    Status.DUE_SOON: "warn", Status.NOT_EVIDENCED: "bad", Status.OVERDUE: "bad",
    Status.VIOLATED: "bad",
}


def worst(statuses: Iterable[str]) -> Status:
    """The worst of some statuses; OK when there are none."""
    found = [Status(s) for s in statuses]
    return max(found, key=RANK.__getitem__) if found else Status.OK


SECTION_RE = re.compile(r"^(SP|SM) (\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class Finding:
    """One thing a control found. `subject` is a stable key ("team:access",
    "section:SP 5.1") that an accepted exception can name; `url` leads to the evidence."""

    section: str
    message: str
    url: str = ""
    status: Status = Status.VIOLATED
    subject: str = ""


@dataclass(frozen=True)
class Control:
    id: str
    sections: tuple[str, ...]
    statement: str
    owner: str
    kind: Kind = Kind.COMPUTED
    check: Callable[[], list[Finding]] | None = field(default=None, compare=False)
    # Duties: the default schedule (a keyword or a cron expression), the SM section whose
    # text each occurrence keeps, whether a second person signs off, what evidence is
    # expected. The schedule lives on the Duty row from then on and can be changed there.
    schedule: str = ""
    procedure: str = ""
    four_eyes: bool = False
    evidence: str = ""
    # A duty one designated person performs (SM 5.2 "the primary log monitor"): the
    # team leader designates them on the Duty row; nobody else completes it.
    designated: str = ""
    # Attestations: who attests and for how long an attestation stands.
    role: Role | None = None
    valid_days: int = 0

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", self.id):
            raise ValueError(f"control id {self.id!r} must be dotted lower-case words")
        if not self.sections:
            raise ValueError(f"control {self.id} names no section")
        for section in self.sections:
            if not SECTION_RE.match(section):
                raise ValueError(f"control {self.id}: {section!r} is not like 'SP 9.1.2'")
        TeamKind(self.owner)
        if self.kind == Kind.COMPUTED and self.check is None:
            raise ValueError(f"computed control {self.id} has no check")
        if self.kind == Kind.DUTY and not self.schedule:
            raise ValueError(f"duty {self.id} has no schedule")
        if self.kind == Kind.ATTESTATION and (self.role is None or self.valid_days <= 0):
            raise ValueError(f"attestation {self.id} needs a role and a validity period")

    @property
    def numbers(self) -> tuple[str, ...]:
        """The section numbers without the document: SP and SM share their numbering."""
        return tuple(s.split(" ", 1)[1] for s in self.sections)

    @property
    def owner_label(self) -> str:
        return TeamKind(self.owner).label


@cache
def declared_controls() -> tuple[Control, ...]:
    """Every control declared in an installed secman app's controls.py, in app order."""
    found: list[Control] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("secman."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.controls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.controls":
                raise
            continue
        found.extend(getattr(module, "CONTROLS", ()))
    ids = [c.id for c in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"controls declared twice: {', '.join(duplicates)}")
    return tuple(found)


def control(control_id: str) -> Control | None:
    return next((c for c in declared_controls() if c.id == control_id), None)


# --- what a chapter adds to a duty's occurrence -----------------------------------------------


@dataclass(frozen=True)
class DutyReview:
    """What a chapter shows on the page of a duty's occurrence (`template`, rendered with
    `context(period_start, period_end)`), and what stops its completion
    (`blocker(period_start, period_end)`: a sentence, or None). The compliance engine sits
    below the chapters and cannot ask them: they register here (the logging chapter's
    daily review and weekly anomaly examination, SM 4.2.3, 5.2)."""

    template: str
    context: Callable[[Any, Any], dict[str, Any]] = field(compare=False)
    blocker: Callable[[Any, Any], str | None] = field(compare=False)


_DUTY_REVIEWS: dict[str, DutyReview] = {}


def register_duty_review(control_id: str, review: DutyReview) -> None:
    _DUTY_REVIEWS[control_id] = review


def duty_review(control_id: str) -> DutyReview | None:
    return _DUTY_REVIEWS.get(control_id)
