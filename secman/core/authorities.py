"""What an authority is, for every layer: its kinds, how a reference reads (`SP 3.4.2`,
`SM 2.2.3.3`, `a20090525.1`, `m20100222.1`), and the one way to turn a reference into the
recorded Authority row.

Every action in secman cites an authority (SP 1.2). The people app and the Event Log sit
below the authority app in the layers (docs/architecture.md), yet their actions cite
Board decisions and Arbitration cases too. They ask through `resolve_authority` and
`citable_decisions` here, which the authority app provides when Django starts
(`AuthorityConfig.ready`); the rules behind them live in authority.services only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from secman.core.errors import RuleViolation


class AuthorityKind(models.TextChoices):
    SECTION = "section", "Section of the Security Policy or Manual"
    ARBITRATION = "arbitration", "Arbitration case"
    BOARD_DECISION = "board_decision", "Board decision"


class Document(models.TextChoices):
    SP = "SP", "Security Policy"
    SM = "SM", "Security Manual"


# [0-9], not \d: \d also matches other scripts' digits, and "SP 3.1" followed by a
# full-width 4 would become an authority distinct from "SP 3.14". White space may be
# any (a pasted &nbsp; is fine).
SECTION_RE = re.compile(
    r"^(?P<doc>SP|SM)\s*(?:§\s*)?(?P<number>[1-9][0-9]?(?:\.[1-9][0-9]?){0,5})\.?$",
    re.IGNORECASE,
)
CASE_RE = re.compile(r"^a(?P<date>[0-9]{8})\.(?P<n>[1-9][0-9]{0,2})$")
DECISION_RE = re.compile(r"^m(?P<date>[0-9]{8})\.(?P<n>[1-9][0-9]{0,2})$")

ACCEPTED = (
    'cite a section of the Security Policy or Manual ("SP 3.4.2", "SM 2.2.3.3"), '
    'an Arbitration case ("a20090525.1") or a Board decision ("m20100222.1")'
)


@dataclass(frozen=True)
class Reference:
    kind: AuthorityKind
    text: str  # canonical spelling
    document: str = ""
    section: str = ""


def _date_of(identifier: str, digits: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        raise RuleViolation(
            f"{what} {identifier!r} does not start with a real date (YYYYMMDD)",
            section="SP 1.2",
        ) from None


def parse_reference(raw: str) -> Reference:
    """Parse and normalise a reference; free text is refused (SP 1.2)."""
    text = (raw or "").strip()
    if not text:
        raise RuleViolation(f"an authority is required: {ACCEPTED}", section="SP 1.2")
    if match := SECTION_RE.match(text):
        doc = match["doc"].upper()
        return Reference(AuthorityKind.SECTION, f"{doc} {match['number']}", doc, match["number"])
    lowered = text.lower()
    if match := CASE_RE.match(lowered):
        _date_of(lowered, match["date"], "Arbitration case")
        return Reference(AuthorityKind.ARBITRATION, lowered)
    if match := DECISION_RE.match(lowered):
        _date_of(lowered, match["date"], "Board decision")
        return Reference(AuthorityKind.BOARD_DECISION, lowered)
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise RuleViolation(
        f"{shown!r} is not an authority: {ACCEPTED}; free text is not an authority",
        section="SP 1.2",
    )


def identifier_date(identifier: str) -> dt.date:
    """The date an `aYYYYMMDD.n` or `mYYYYMMDD.n` identifier starts with."""
    return dt.datetime.strptime(identifier[1:9], "%Y%m%d").date()


# --- the seam to the authority app ---------------------------------------------------------

# AuthorityLike: a reference text, or a recorded Authority, BoardDecision or
# ArbitrationCase row (typed loosely here because those models live above core).
AuthorityLike = Any
_resolver: Callable[..., Any] | None = None
_citable: Callable[..., list[Any]] | None = None


def provide(*, resolver: Callable[..., Any], citable: Callable[..., list[Any]]) -> None:
    """Called once by the authority app when Django starts."""
    global _resolver, _citable
    _resolver, _citable = resolver, citable


def resolve_authority(raw: AuthorityLike, *, kinds: Iterable[AuthorityKind] | None = None,
                      why: str = "", carried: bool = True) -> Any:
    """The Authority row for a reference (authority.services.resolve_authority)."""
    if _resolver is None:
        raise ImproperlyConfigured("secman.authority is not installed: no authority can be "
                                   "resolved")
    return _resolver(raw, kinds=kinds, why=why, carried=carried)


def citable_decisions(*, carried: bool = True) -> list[Any]:
    """Recorded, confirmed Board decisions an action may cite
    (authority.services.citable_decisions)."""
    if _citable is None:
        raise ImproperlyConfigured("secman.authority is not installed")
    return _citable(carried=carried)
