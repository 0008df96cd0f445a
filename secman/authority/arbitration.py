"""Arbitration cases (SP 9.1.4): filed, assigned to an Arbitrator and a distinct Case
Manager, ruled by their own Arbitrator only, closed. Split from authority.services, which
resolves authorities, records the Board's decisions and runs sign-offs."""


from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from secman.authority.choices import CaseStatus
from secman.authority.lifecycles import CASE
from secman.authority.models import (
    ArbitrationCase,
)
from secman.authority.services import _acts_in_a_team
from secman.core.authorities import (
    CASE_RE,
    identifier_date,
)
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator, roles_of


def _check_case_people(arbitrator: Person | None, case_manager: Person | None) -> None:
    if arbitrator and Role.ARBITRATOR not in roles_of(arbitrator):
        raise RuleViolation(f"{arbitrator} is not an Arbitrator", field="arbitrator")
    if case_manager and Role.CASE_MANAGER not in roles_of(case_manager):
        raise RuleViolation(f"{case_manager} is not a Case Manager", field="case_manager")
    if arbitrator and case_manager and arbitrator.pk == case_manager.pk:
        raise RuleViolation(
            "the Case Manager must be a different person from the Arbitrator (four eyes)",
            section="SP 9.1.4", field="case_manager",
        )


def may_handle_cases(person: Person | None) -> bool:
    """Record and update Arbitration cases: Arbitrators, Case Managers (and the
    administrator, who enters data)."""
    return holds_any(person, Role.ARBITRATOR, Role.CASE_MANAGER) or is_administrator(person)


def may_file_dispute(person: Person | None) -> bool:
    """File a dispute (SM 2.3.4): anyone who holds a role in a team."""
    return _acts_in_a_team(person)


def file_case(
    *,
    actor: Person,
    number: str,
    title: str,
    filed_on: dt.date,
    arbitrator: Person | None = None,
    case_manager: Person | None = None,
) -> ArbitrationCase:
    if not may_handle_cases(actor):
        raise NotAllowed("only Arbitrators and Case Managers (or the secman administrator) "
                         "record Arbitration cases")
    number = (number or "").strip().lower()
    if not CASE_RE.match(number):
        raise RuleViolation(
            f"{number!r} is not a case number: use a, the date as YYYYMMDD, a dot and a "
            "number, e.g. a20090525.1", field="number",
        )
    try:
        identifier_date(number)
    except ValueError:
        raise RuleViolation(f"case number {number!r} does not start with a real date",
                            field="number") from None
    if not title.strip():
        raise RuleViolation("a case needs a title", field="title")
    check_text(ArbitrationCase, {"title": title.strip()})
    if filed_on > timezone.localdate():
        raise RuleViolation("a case cannot be filed in the future", field="filed_on")
    _check_case_people(arbitrator, case_manager)
    with transaction.atomic():
        if ArbitrationCase.objects.filter(number=number).exists():
            raise RuleViolation(f"case {number} is already recorded", field="number")
        case = ArbitrationCase.objects.create(
            number=number, title=title.strip(), filed_on=filed_on,
            arbitrator=arbitrator, case_manager=case_manager,
            status=CaseStatus.RUNNING if arbitrator else CaseStatus.FILED,
        )
        record(
            "authority.case.file", actor=actor, authority=number, subject=case,
            details={"title": case.title, "filed_on": filed_on,
                     "arbitrator": str(arbitrator or ""), "case_manager": str(case_manager or "")},
        )
    return case


def file_dispute(*, actor: Person, title: str, circumstances: str,
                 filed_on: dt.date | None = None) -> ArbitrationCase:
    """File a dispute: anyone in a team may (SM 2.3.4, emergency access). The case gets
    the next number of the day and waits for the Case Managers to assign it."""
    if not may_file_dispute(actor):
        raise NotAllowed("disputes are filed by people who hold a role in a team")
    if not title.strip() or not circumstances.strip():
        raise RuleViolation("a dispute needs a title and the circumstances", field="title")
    check_text(ArbitrationCase, {"title": title.strip()})
    check_free_text(circumstances.strip(), label="circumstances", limit=TEXT_MAX,
                    multiline=True, field="circumstances")
    filed_on = filed_on or timezone.localdate()
    prefix = f"a{filed_on:%Y%m%d}."
    with transaction.atomic():
        taken = set(ArbitrationCase.objects.filter(number__startswith=prefix)
                    .values_list("number", flat=True))
        number = next(f"{prefix}{n}" for n in range(1, len(taken) + 2)
                      if f"{prefix}{n}" not in taken)
        case = ArbitrationCase.objects.create(number=number, title=title.strip(),
                                              filed_on=filed_on, status=CaseStatus.FILED)
        record("authority.case.file", actor=actor, authority=number, subject=case,
               details={"title": case.title, "filed_on": filed_on, "dispute": True,
                        "circumstances": circumstances.strip()})
    return case


def _why_not_rule(person: Person | None, case: ArbitrationCase,
                  arbitrator: Person | None) -> NotAllowed | None:
    """Only the case's own Arbitrator records its ruling: the one the case was assigned to
    before this update, staying on it. Another Arbitrator cannot take the case over and
    rule in one step; reassignment is its own update."""
    if (person is None or case.arbitrator_id is None or person.pk != case.arbitrator_id
            or arbitrator is None or arbitrator.pk != case.arbitrator_id):
        return NotAllowed("only the case's Arbitrator records its ruling (assign the case "
                          "first)", section="SP 9.1.4")
    return None


def may_rule_case(person: Person | None, case: ArbitrationCase) -> bool:
    """Record the ruling of a case that can still take one: its own Arbitrator."""
    return (CASE.allowed(case.status, CaseStatus.RULED) and may_handle_cases(person)
            and _why_not_rule(person, case, case.arbitrator) is None)


def update_case(
    *,
    actor: Person,
    case: ArbitrationCase,
    status: str,
    arbitrator: Person | None,
    case_manager: Person | None,
    ruled_on: dt.date | None = None,
    ruling_summary: str = "",
) -> ArbitrationCase:
    """Assign the case, move it on, or record the ruling. Only the case's own Arbitrator
    records a ruling: the Arbitrator rules, nobody else."""
    if not may_handle_cases(actor):
        raise NotAllowed("only Arbitrators and Case Managers update Arbitration cases")
    if status not in CaseStatus.values:
        raise RuleViolation(f"{status!r} is not a case status", field="status")
    CASE.check(case.status, status, field="status")  # staying put is a reassignment
    _check_case_people(arbitrator, case_manager)
    if status == CaseStatus.RULED:
        if not ruled_on or not ruling_summary.strip():
            raise RuleViolation("a ruling needs its date and a summary", field="ruling_summary")
        refusal = _why_not_rule(actor, case, arbitrator)
        if refusal is not None:
            raise refusal
        if ruled_on < case.filed_on or ruled_on > timezone.localdate():
            raise RuleViolation("the ruling date must lie between filing and today",
                                field="ruled_on")
    elif ruled_on or ruling_summary.strip():
        raise RuleViolation("a ruling date and summary go with the status 'ruled'",
                            field="status")
    check_text(ArbitrationCase, {"ruling_summary": ruling_summary.strip()})
    with transaction.atomic():
        before = {"status": case.status, "arbitrator": str(case.arbitrator or ""),
                  "case_manager": str(case.case_manager or "")}
        case.status = status
        case.arbitrator = arbitrator
        case.case_manager = case_manager
        if status == CaseStatus.RULED:
            case.ruled_on = ruled_on
            case.ruling_summary = ruling_summary.strip()
        case.save()
        after = {"status": case.status, "arbitrator": str(case.arbitrator or ""),
                 "case_manager": str(case.case_manager or "")}
        record(
            "authority.case.rule" if status == CaseStatus.RULED else "authority.case.update",
            actor=actor, authority=case.number, subject=case,
            details={"before": before, "after": after,
                     **({"ruled_on": ruled_on, "ruling": case.ruling_summary}
                        if status == CaseStatus.RULED else {})},
        )
    return case
