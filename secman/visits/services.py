"""Physical visits and the codes & devices register: the only place that changes them.

Each function checks who is asking and the rules of SP/SM 2.3 and 4.2.4, writes, and
records one Event Log entry in the same transaction; a refusal raises before anything is
committed, so a refused action leaves neither rows nor an entry behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from secman.authority.arbitration import file_dispute
from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import check_text, max_length, one_line
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_board_member
from secman.visits.choices import OnSiteRole, ReportKind, VisitStatus
from secman.visits.lifecycles import VISIT
from secman.visits.models import Participant, Visit, VisitReport
from secman.visits.notifications import close_mail
from secman.visits.selectors import is_access_engineer, profile_of, why_not_authorised

# Clocks drift: a check-in typed on a phone may be a little ahead of the server.
CLOCK_SKEW = dt.timedelta(minutes=5)
MINIMUM_ON_SITE = 2


def _now() -> dt.datetime:
    return timezone.now()


def _text(value: str | None, field: str, what: str, model: type[Model],
          column: str = "") -> str:
    """The input `field`, stripped, required, and what `model`'s column (by default of the
    same name) takes: its length and characters (core.validation.check_text)."""
    text = (value or "").strip()
    if not text:
        raise RuleViolation(f"give {what}", field=field)
    column = column or field
    check_text(model, {column: text}, {column: field})
    return text


def _aware(moment: dt.datetime, field: str) -> dt.datetime:
    if timezone.is_naive(moment):
        raise RuleViolation("give the time with its time zone", field=field)
    return moment


def _locked(visit: Visit) -> Visit:
    return Visit.objects.select_for_update().get(pk=visit.pk)


def _fmt(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M} UTC"


def _people_summary(visit: Visit) -> list[dict[str, Any]]:
    return [
        {"person": p.person.name, "person_id": p.person_id, "role": p.role,
         "accesses_data": p.accesses_data, "in": p.checked_in_at, "out": p.checked_out_at}
        for p in visit.participants.select_related("person")
    ]


# --- the on-site rule (SP 2.3, SM 2.3.2) -------------------------------------------------


def check_on_site(visit: Visit, roles: Sequence[str]) -> None:
    """The people on site together must be at least two, with an Access Engineer, and with
    a Systems Administrator when the visit needs logical access."""
    if len(roles) < MINIMUM_ON_SITE:
        raise RuleViolation(
            f"{len(roles)} person on site: dual control needs at least {MINIMUM_ON_SITE} "
            "authorised persons on site at the same time", section="SP 2.3", field="people",
        )
    if OnSiteRole.ACCESS_ENGINEER not in roles:
        raise RuleViolation("no Access Engineer on site: at least one Access Engineer must "
                            "control access in all cases", section="SM 2.3.2", field="people")
    if visit.logical_access and OnSiteRole.SYSTEMS_ADMINISTRATOR not in roles:
        raise RuleViolation(
            "no Systems Administrator on site: at least one Systems Administrator is present "
            "for logical access to critical servers", section="SM 2.3.2", field="people",
        )


def _authorised_profile(person: Person) -> OnSiteRole:
    profile = profile_of(person)
    if profile is None:
        raise RuleViolation(f"{why_not_authorised(person)}: not authorised for physical "
                            "access", section="SM 2.3.1", field="people")
    return profile


def _distinct(people: Iterable[Person]) -> list[Person]:
    chosen: dict[int, Person] = {}
    for person in people:
        chosen.setdefault(person.pk, person)
    if not chosen:
        raise RuleViolation("name the people", field="people")
    return list(chosen.values())


def _moment(at: dt.datetime | None, field: str = "at") -> dt.datetime:
    moment = _aware(at or _now(), field)
    if moment > _now() + CLOCK_SKEW:
        raise RuleViolation("a time on site cannot lie in the future", field=field)
    return moment


# --- who may do what ------------------------------------------------------------------------
# Asked by the services before they act and by the pages, API and templates to offer an
# action: one rule each. A `_why_not_*` is the refusal the service raises (or None); its
# `may_*` adds the visit's state, so a page offers only what the service would accept.


def _possible(visit: Visit, step: str) -> bool:
    """Whether the visit's lifecycle table (visits.lifecycles.VISIT) has `step` from its
    status now: the predicates ask the table rather than list statuses again."""
    return any(move.name == step for move in VISIT.moves_from(visit.status))


def may_request_visit(person: Person | None) -> bool:
    """SM 2.3.1: people on the Physical Access List or the Physical Control List."""
    return profile_of(person) is not None


def may_record_emergency(person: Person | None) -> bool:
    """SP 2.3.4: Systems Administrators and Access Engineers (listed or not)."""
    return profile_of(person) is not None or holds_any(person, Role.SYSTEMS_ADMINISTRATOR,
                                                       Role.ACCESS_ENGINEER)


def _why_not_authorise(person: Person | None, visit: Visit) -> NotAllowed | None:
    if not (is_access_engineer(person) or is_board_member(person)):
        return NotAllowed("visits are authorised by an Access Engineer on the Physical "
                          "Control List or by the Board", section="SM 2.3.1")
    if person is None or person.pk == visit.requested_by_id:
        return NotAllowed("the person who requested a visit does not authorise it (four "
                          "eyes)", section="SP 1.2")
    return None


def may_authorise_visit(person: Person | None, visit: Visit) -> bool:
    return _possible(visit, "authorise") and _why_not_authorise(person, visit) is None


def _why_not_check_in(person: Person | None) -> NotAllowed | None:
    if is_access_engineer(person):
        return None
    return NotAllowed("check-ins are recorded by an Access Engineer on the Physical "
                      "Control List", section="SM 2.3.2")


def may_check_in(person: Person | None, visit: Visit) -> bool:
    """An Access Engineer on the list, to an authorised visit (who must also be, or come,
    on site: that depends on whom they check in, so the service alone says it)."""
    return _possible(visit, "check_in") and _why_not_check_in(person) is None


def _on_visit(person: Person | None, visit: Visit) -> bool:
    return person is not None and visit.participants.filter(person=person).exists()


def _why_not_check_out(person: Person | None, visit: Visit) -> NotAllowed | None:
    if _on_visit(person, visit) or is_access_engineer(person):
        return None
    return NotAllowed("check-outs are recorded by someone on the visit or an Access "
                      "Engineer", section="SM 2.3.2")


def may_check_out(person: Person | None, visit: Visit) -> bool:
    return _possible(visit, "check_out") and _why_not_check_out(person, visit) is None


def _why_not_report(person: Person | None, visit: Visit, kind: str) -> NotAllowed | None:
    mine = visit.participants.filter(person=person).first() if person is not None else None
    if kind == ReportKind.ACCESS_ENGINEER:
        if mine is None or mine.role != OnSiteRole.ACCESS_ENGINEER:
            return NotAllowed("the Access Engineer's report is filed by an Access Engineer "
                              "who was on this visit", section="SP 4.2.4")
    elif mine is None or mine.role == OnSiteRole.ACCESS_ENGINEER:
        return NotAllowed("the accessor's report is filed by someone on this visit who "
                          "accessed the equipment, not by the Access Engineer",
                          section="SP 4.2.4")
    return None


def may_file_report(person: Person | None, visit: Visit) -> bool:
    """SP 4.2.4: a report not yet filed that this person is the one to file."""
    if not _possible(visit, "report"):
        return False
    filed = set(visit.reports.values_list("kind", flat=True))
    return any(kind not in filed and _why_not_report(person, visit, kind) is None
               for kind in ReportKind.values)


def _why_not_close(person: Person | None, visit: Visit) -> NotAllowed | None:
    if _on_visit(person, visit) or is_access_engineer(person):
        return None
    return NotAllowed("a visit is closed by someone who was on it or an Access Engineer",
                      section="SM 2.3.3")


def may_close_visit(person: Person | None, visit: Visit) -> bool:
    """Someone who was on it or an Access Engineer, once everyone has left (the reports
    are checked by the service, which says which is missing)."""
    return _possible(visit, "close") and _why_not_close(person, visit) is None


def _why_not_link_ruling(person: Person | None) -> NotAllowed | None:
    if (profile_of(person) or holds_any(person, Role.ARBITRATOR, Role.CASE_MANAGER)
            or is_board_member(person)):
        return None
    return NotAllowed("a ruling is linked by the Arbitration team, the Board or someone "
                      "on the physical access lists", section="SP 2.3.4")


def may_link_ruling(person: Person | None, visit: Visit) -> bool:
    return _possible(visit, "ruling") and _why_not_link_ruling(person) is None


# --- visits -------------------------------------------------------------------------------


def request_visit(
    *,
    actor: Person,
    purpose: str,
    systems: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    logical_access: bool = True,
) -> Visit:
    """Ask for a visit (SM 2.3.1). Only people on the Physical Access List or the
    Physical Control List ask."""
    if not may_request_visit(actor):
        raise NotAllowed(f"{why_not_authorised(actor)}: only people on the Physical Access "
                         "List or the Physical Control List request visits",
                         section="SM 2.3.1")
    purpose = _text(purpose, "purpose", "the purpose of the visit", Visit)
    systems = _text(systems, "systems", "the systems concerned", Visit)
    window_start = _aware(window_start, "window_start")
    window_end = _aware(window_end, "window_end")
    if window_end <= window_start:
        raise RuleViolation("the time window must end after it starts", field="window_end")
    if window_end <= _now():
        raise RuleViolation("the time window has passed: a visit is requested before it "
                            "takes place (an emergency access is recorded as one)",
                            section="SM 2.3.1", field="window_end")
    with transaction.atomic():
        visit = Visit.objects.create(
            purpose=purpose, systems=systems, window_start=window_start,
            window_end=window_end, logical_access=logical_access, requested_by=actor,
        )
        record("visits.visit.request", actor=actor, authority="SM 2.3.1", subject=visit,
               details={"purpose": purpose, "systems": systems, "window_start": window_start,
                        "window_end": window_end, "logical_access": logical_access})
    return visit


def authorise_visit(
    *, actor: Person, visit: Visit, reference: str, authority: AuthorityLike = "SM 2.3.1"
) -> Visit:
    """Record the authorisation (SM 2.3.1: per Appendix B of the hosting MoU as kept by the
    Boards) with its reference. Access Engineers control access; the Board may too. The
    requester does not authorise their own visit."""
    refusal = _why_not_authorise(actor, visit)
    if refusal is not None:
        raise refusal
    reference = _text(reference, "reference", "the authorisation reference", Visit,
                      "authorisation_reference")
    with transaction.atomic():
        visit = _locked(visit)
        VISIT.check(visit.status, VisitStatus.AUTHORISED, field="visit")
        authority_row = resolve_authority(authority)
        visit.status = VisitStatus.AUTHORISED
        visit.authorisation_reference = reference
        visit.authority = authority_row
        visit.authorised_by = actor
        visit.authorised_at = _now()
        visit.save()
        record("visits.visit.authorise", actor=actor, authority=authority_row, subject=visit,
               details={"reference": reference})
    return visit


def check_in(
    *, actor: Person, visit: Visit, people: Iterable[Person], at: dt.datetime | None = None
) -> list[Participant]:
    """Check people in. Whoever is on site afterwards must meet the on-site rule, so the
    first check-in of a visit names at least two people. An Access Engineer who is (or
    comes) on site records it (SM 2.3.2: access is only through the Access Engineers)."""
    newcomers = _distinct(people)
    moment = _moment(at)
    refusal = _why_not_check_in(actor)
    if refusal is not None:
        raise refusal
    profiles = {person.pk: _authorised_profile(person) for person in newcomers}
    with transaction.atomic():
        visit = _locked(visit)
        VISIT.check(visit.status, VisitStatus.ON_SITE, step="check_in", field="visit")
        if not visit.window_start <= moment <= visit.window_end:
            raise RuleViolation(
                f"the visit is authorised from {_fmt(visit.window_start)} to "
                f"{_fmt(visit.window_end)}; {_fmt(moment)} is outside it",
                section="SM 2.3.1", field="at")
        earlier = {p.person_id: p for p in visit.participants.all()}
        for person in newcomers:
            if person.pk in earlier:
                raise RuleViolation(f"{person} checked in at "
                                    f"{_fmt(earlier[person.pk].checked_in_at)} already",
                                    field="people")
        on_site = [p.role for p in earlier.values() if p.checked_out_at is None]
        present = {p.person_id for p in earlier.values() if p.checked_out_at is None}
        if actor.pk not in present and actor.pk not in profiles:
            raise NotAllowed("the Access Engineer who records a check-in is on site",
                             section="SM 2.3.2")
        check_on_site(visit, on_site + [profiles[p.pk] for p in newcomers])
        created = [
            Participant.objects.create(
                visit=visit, person=person, role=profiles[person.pk],
                accesses_data=(profiles[person.pk] != OnSiteRole.ACCESS_ENGINEER
                               and visit.logical_access),
                checked_in_at=moment)
            for person in newcomers
        ]
        visit.status = VisitStatus.ON_SITE
        visit.save(update_fields=["status"])
        record("visits.visit.check_in", actor=actor, authority="SP 2.3", subject=visit,
               details={"at": moment, "people": [
                   {"person": p.person.name, "person_id": p.person_id, "role": p.role,
                    "accesses_data": p.accesses_data} for p in created]})
    return created


def check_out(
    *, actor: Person, visit: Visit, people: Iterable[Person], at: dt.datetime | None = None
) -> list[Participant]:
    """Check people out. Those who stay must still meet the on-site rule; when the last
    people leave, the visit waits for its reports."""
    leaving = _distinct(people)
    moment = _moment(at)
    with transaction.atomic():
        visit = _locked(visit)
        rows = {p.person_id: p for p in visit.participants.select_related("person")}
        leaving_ids = {person.pk for person in leaving}
        staying = [p.role for p in rows.values()
                   if p.checked_out_at is None and p.person_id not in leaving_ids]
        # When the last people leave, the visit has left the site.
        VISIT.check(visit.status, VisitStatus.ON_SITE if staying else VisitStatus.LEFT,
                    step="check_out", field="visit")
        refusal = _why_not_check_out(actor, visit)
        if refusal is not None:
            raise refusal
        for person in leaving:
            row = rows.get(person.pk)
            if row is None or row.checked_out_at is not None:
                raise RuleViolation(f"{person} is not on site", field="people")
            if moment < row.checked_in_at:
                raise RuleViolation(f"{person} checked in at {_fmt(row.checked_in_at)}; "
                                    "a check-out cannot be earlier", field="at")
        if staying:
            try:
                check_on_site(visit, staying)
            except RuleViolation as exc:
                raise RuleViolation(f"those who would stay break the rule: {exc.message}; "
                                    "check them out together", section=exc.section,
                                    field="people") from None
        for person in leaving:
            row = rows[person.pk]
            row.checked_out_at = moment
            row.save(update_fields=["checked_out_at"])
        if not staying:
            visit.status = VisitStatus.LEFT
            visit.save(update_fields=["status"])
        record("visits.visit.check_out", actor=actor, authority="SM 2.3.3", subject=visit,
               details={"at": moment, "people": sorted(p.name for p in leaving),
                        "everyone_left": not staying})
    return [rows[person.pk] for person in leaving]


def file_report(*, actor: Person, visit: Visit, kind: str, text: str) -> VisitReport:
    """SP 4.2.4: one report by the person who accessed, one by the Access Engineer; each
    a short description of what was done (SM 4.2.4), kept in the Event Log."""
    if kind not in ReportKind.values:
        raise RuleViolation(f"{kind!r} is not a report: use accessor or access_engineer",
                            field="kind")
    text = _text(text, "text", "the report: a short description of what was done",
                 VisitReport)
    with transaction.atomic():
        visit = _locked(visit)
        VISIT.check(visit.status, visit.status, step="report", field="visit")
        refusal = _why_not_report(actor, visit, kind)
        if refusal is not None:
            raise refusal
        if visit.reports.filter(kind=kind).exists():
            raise RuleViolation(f"the {ReportKind(kind).label.lower()} is filed already",
                                field="kind")
        report = VisitReport.objects.create(visit=visit, kind=kind, author=actor, text=text)
        record("visits.visit.report", actor=actor, authority="SP 4.2.4", subject=visit,
               details={"kind": kind, "text": text})
    return report


def close_visit(*, actor: Person, visit: Visit) -> Visit:
    """Close a visit everyone has left, with both reports (SP 4.2.4). The entry is mailed
    to the systems administration list (SM 2.3.3) when the close commits; it says so, or
    why it is not mailed (the list is not configured)."""
    with transaction.atomic():
        visit = _locked(visit)
        VISIT.check(visit.status, VisitStatus.CLOSED, field="visit")
        refusal = _why_not_close(actor, visit)
        if refusal is not None:
            raise refusal
        reports = {r.kind: r for r in visit.reports.select_related("author")}
        missing = [ReportKind(k).label.lower() for k in ReportKind.values if k not in reports]
        if missing:
            raise RuleViolation(f"missing: the {' and the '.join(missing)}; a visit is "
                                "closed with both reports", section="SP 4.2.4",
                                field="visit")
        visit.status = VisitStatus.CLOSED
        visit.closed_at = _now()
        visit.closed_by = actor
        visit.save(update_fields=["status", "closed_at", "closed_by"])
        record("visits.visit.close", actor=actor, authority="SM 2.3.3", subject=visit,
               details={
                   "purpose": visit.purpose, "systems": visit.systems,
                   "emergency": visit.is_emergency,
                   "authorisation": (visit.ruling.number if visit.ruling is not None
                                     else visit.authorisation_reference),
                   "people": _people_summary(visit),
                   "reports": [{"kind": r.kind, "author": r.author.name, "text": r.text}
                               for r in reports.values()],
                   **close_mail(),
               })
    return visit


# --- emergency access (SP/SM 2.3.4) ------------------------------------------------------


def record_emergency(
    *,
    actor: Person,
    purpose: str,
    systems: str,
    circumstances: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    people: Iterable[Person],
    logical_access: bool = True,
) -> Visit:
    """SP 2.3.4: there is no procedure for emergency access. When one was gained or
    observed, record it: this files a dispute with the circumstances before an
    independent Arbitrator (SM 2.3.4), and the visit awaits after-the-fact authorisation
    until the ruling is linked. Everyone who was there is named, authorised or not."""
    if not may_record_emergency(actor):
        raise NotAllowed("an emergency access is recorded by a Systems Administrator, an "
                         "Access Engineer or someone on the physical lists",
                         section="SP 2.3.4")
    purpose = _text(purpose, "purpose", "the purpose of the access", Visit)
    systems = _text(systems, "systems", "the systems concerned", Visit)
    circumstances = _text(circumstances, "circumstances",
                          "the circumstances: why the access could not wait", Visit)
    present = _distinct(people)
    started_at = _moment(started_at, "started_at")
    ended_at = _moment(ended_at, "ended_at")
    if ended_at <= started_at:
        raise RuleViolation("the access must end after it started", field="ended_at")
    with transaction.atomic():
        # SM 2.3.4 "file a dispute": the case is then the Case Managers' to assign.
        case = file_dispute(
            actor=actor, circumstances=circumstances,
            title=one_line(f"Emergency physical access on {started_at:%Y-%m-%d}: {purpose}",
                           max_length(ArbitrationCase, "title")))
        number = case.number
        authority_row = resolve_authority(case)
        visit = Visit.objects.create(
            purpose=purpose, systems=systems, window_start=started_at, window_end=ended_at,
            logical_access=logical_access, requested_by=actor, is_emergency=True,
            circumstances=circumstances, case=case, authority=authority_row,
            status=VisitStatus.AWAITING_RULING,
        )
        for person in present:
            profile = profile_of(person) or OnSiteRole.UNAUTHORISED
            Participant.objects.create(
                visit=visit, person=person, role=profile,
                accesses_data=profile != OnSiteRole.ACCESS_ENGINEER and logical_access,
                checked_in_at=started_at, checked_out_at=ended_at)
        record("visits.visit.emergency", actor=actor, authority=authority_row, subject=visit,
               details={"case": number, "case_title": case.title, "purpose": purpose,
                        "systems": systems, "circumstances": circumstances,
                        "started_at": started_at, "ended_at": ended_at,
                        "people": _people_summary(visit)})
    return visit


def link_ruling(*, actor: Person, visit: Visit, case: ArbitrationCase | str) -> Visit:
    """Link the Arbitrator's ruling that authorises an emergency access after the fact."""
    refusal = _why_not_link_ruling(actor)
    if refusal is not None:
        raise refusal
    if isinstance(case, str):
        number = case.strip().lower()
        found = ArbitrationCase.objects.filter(number=number).first()
        if found is None:
            raise RuleViolation(f"Arbitration case {number!r} is not recorded in secman",
                                field="case")
        case = found
    if case.status != CaseStatus.RULED:
        raise RuleViolation(f"case {case.number} is {case.get_status_display().lower()}, not "
                            "ruled: only a ruling authorises an emergency access",
                            section="SP 2.3.4", field="case")
    with transaction.atomic():
        visit = _locked(visit)
        # Only an emergency access starts awaiting a ruling (record_emergency).
        VISIT.check(visit.status, VisitStatus.LEFT, step="ruling", field="visit")
        authority_row = resolve_authority(case)
        visit.ruling = case
        visit.status = VisitStatus.LEFT
        visit.save(update_fields=["ruling", "status"])
        record("visits.visit.link_ruling", actor=actor, authority=authority_row,
               subject=visit, details={"case": case.number, "ruled_on": case.ruled_on,
                                       "ruling": case.ruling_summary})
    return visit
