"""The only place that changes compliance state: duties and their occurrences,
attestations, accepted exceptions, the daily status record, calendar feeds. Each
function checks who asks, validates, writes and records one Event Log entry in the same
transaction; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secman.authority.choices import SignOffStatus
from secman.authority.models import SignOffRequest
from secman.authority.services import (
    AuthorityLike,
    request_signoff,
    resolve_authority,
    sign,
    signoff_summary,
)
from secman.authority.signoff import four_eyes, register
from secman.compliance import schedules
from secman.compliance.lifecycles import OCCURRENCE
from secman.compliance.models import (
    Acceptance,
    AcceptanceKind,
    Attestation,
    CalendarFeed,
    Duty,
    Occurrence,
    OccurrenceStatus,
    StatusRecord,
)
from secman.core.authorities import AuthorityKind
from secman.core.controls import Control, Kind, control, declared_controls, duty_review
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import TEAM_ROLES, Role, TeamKind
from secman.core.validation import check_text, max_length, one_line
from secman.documents.choices import DocumentKind
from secman.documents.models import Section
from secman.eventlog.models import Event
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator, is_member, leads, roles_of

# Occurrences are generated this far ahead, so calendars show what is coming.
HORIZON = dt.timedelta(days=settings.COMPLIANCE_HORIZON_DAYS)
# A duty that fell behind (the server was off) is caught up at most this far back: the
# missed occurrences are generated and show as overdue.
MAX_OCCURRENCES_PER_RUN = 1000
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
DUTY_SIGNOFF = "compliance.duty.complete"
# Who may accept a deviation from the policy: those who decide (SP 1.2: authorised by a
# policy or by the Arbitrator; SP 9.1.5: the Board decides).
ACCEPTING_ROLES = (Role.BOARD_MEMBER, Role.ARBITRATOR)


def _require_control(control_id: str, kind: Kind | None = None) -> Control:
    found = control(control_id)
    if found is None:
        raise RuleViolation(f"there is no control {control_id!r}", field="control")
    if kind is not None and found.kind != kind:
        raise RuleViolation(f"{control_id} is a {found.kind.label.lower()} control, not a "
                            f"{kind.label.lower()}", field="control")
    return found


# Who may do what, asked by the services before they act and by the pages to show or hide
# a form: one rule each.


def may_perform(person: Person | None, owner: str) -> bool:
    """Complete the team's duties: its members (and the administrator)."""
    return person is not None and (is_member(person, owner) or is_administrator(person))


def may_plan(person: Person | None, owner: str) -> bool:
    """Change a duty's schedule or designate its performer: the owning team's leader."""
    return person is not None and (leads(person, owner) or is_administrator(person))


def may_skip(person: Person | None, owner: str) -> bool:
    return person is not None and (leads(person, owner) or holds_any(person, Role.BOARD_MEMBER)
                                   or is_administrator(person))


def may_accept(person: Person | None) -> bool:
    """Accept an exception, mark a control not applicable, or withdraw either: a Board
    member or an Arbitrator. Never the administrator, who records on the Board's behalf
    and approves nothing (docs/security.md): an acceptance is a decision."""
    return person is not None and holds_any(person, *ACCEPTING_ROLES)


def why_not_complete(person: Person | None, occurrence: Occurrence) -> NotAllowed | None:
    """What stops this person completing the occurrence, or None: a member of the owning
    team, and for a duty that names one person, that person."""
    duty = occurrence.duty
    if person is None or not may_perform(person, duty.owner):
        return NotAllowed(f"only members of the {TeamKind(duty.owner).label} team complete "
                          "its duties")
    declared = control(duty.control_id)
    if declared is not None and declared.designated and duty.assignee_id != person.pk:
        who = duty.assignee or "nobody yet: the team leader designates them"
        return NotAllowed(f"this duty is performed by the designated {declared.designated} "
                          f"({who})", section=declared.sections[-1])
    return None


def may_complete(person: Person | None, occurrence: Occurrence) -> bool:
    """Complete an open occurrence (see why_not_complete)."""
    return (occurrence.status == OccurrenceStatus.OPEN
            and why_not_complete(person, occurrence) is None)


def may_see_evidence(person: Person | None, occurrence: Occurrence) -> bool:
    """Evidence files: the owning team, the Board, auditors and the administrator."""
    return (is_member(person, occurrence.duty.owner) or is_administrator(person)
            or holds_any(person, Role.BOARD_MEMBER, Role.AUDITOR))


def may_attest(person: Person | None, declared: Control) -> bool:
    """Attest an attestation control: a holder of the role it names."""
    return declared.role is not None and declared.role in roles_of(person)


def may_subscribe(person: Person | None, team: str = "") -> bool:
    """A calendar feed of my own duties: anyone; of a team's: its members (and the
    administrator)."""
    return person is not None and (not team or is_member(person, team)
                                   or is_administrator(person))


def may_revoke_feed(person: Person | None, feed: CalendarFeed) -> bool:
    """The person who made the feed, or the administrator."""
    return person is not None and (feed.person_id == person.pk or is_administrator(person))


# --- duties -------------------------------------------------------------------------------


def sync_duties(now: dt.datetime | None = None) -> list[Duty]:
    """A Duty row for every declared duty control that has none yet. Existing rows keep
    their schedule: a change of schedule is made with authority (set_schedule)."""
    now = now or timezone.now()
    existing = set(Duty.objects.values_list("control_id", flat=True))
    new = [Duty(control_id=c.id, schedule=schedules.normalised(c.schedule), owner=c.owner,
                four_eyes=c.four_eyes, starts_at=now, changed_at=now)
           for c in declared_controls() if c.kind == Kind.DUTY and c.id not in existing]
    Duty.objects.bulk_create(new, ignore_conflicts=True)
    return new


def _procedure(control: Control) -> tuple[str, str]:
    """The current text of the section a duty's procedure is in, from the published
    version of the Security Manual (or procedure document) that has it."""
    if not control.procedure:
        return "", ""
    document, _, number = control.procedure.partition(" ")
    kinds = [DocumentKind.POLICY] if document == "SP" else [DocumentKind.MANUAL,
                                                           DocumentKind.PROCEDURE]
    section = (Section.objects.filter(version__document__kind__in=kinds, number=number)
               .select_related("version__document").order_by("-version__created_at").first())
    if section is None:
        return control.procedure, ""
    text = f"{section.number} {section.title}\n\n{section.text}".strip()
    return f"{control.procedure} ({section.version.reference})", text


def generate_occurrences(now: dt.datetime | None = None) -> int:
    """Occurrences up to the horizon for every duty; missed ones since the last run are
    made too and are overdue at once. Safe to run concurrently: a duplicate is dropped by
    the (duty, due time) constraint."""
    now = now or timezone.now()
    made = 0
    for duty in Duty.objects.all():
        declared = control(duty.control_id)
        if declared is None:
            continue  # its app no longer declares it; its history stays
        start = max(duty.generated_until or duty.starts_at, duty.starts_at)
        reference, text = _procedure(declared)
        rows: list[Occurrence] = []
        previous = start
        for due in schedules.ticks(duty.schedule, start):
            if due - HORIZON > now or len(rows) >= MAX_OCCURRENCES_PER_RUN:
                break
            rows.append(Occurrence(duty=duty, period_start=previous, due_at=due,
                                   procedure_reference=reference, procedure_text=text))
            previous = due
        if rows:
            with transaction.atomic():
                Occurrence.objects.bulk_create(rows, ignore_conflicts=True)
                Duty.objects.filter(pk=duty.pk).update(generated_until=rows[-1].due_at)
            made += len(rows)
    return made


def refresh_procedures(now: dt.datetime | None = None) -> int:
    """Occurrences not yet due take the procedure's current text, so each keeps the text
    as it was when it fell due."""
    now = now or timezone.now()
    changed = 0
    for duty in Duty.objects.all():
        declared = control(duty.control_id)
        if declared is None or not declared.procedure:
            continue
        reference, text = _procedure(declared)
        changed += (Occurrence.objects.filter(duty=duty, due_at__gt=now)
                    .exclude(procedure_text=text, procedure_reference=reference)
                    .update(procedure_text=text, procedure_reference=reference))
    return changed


def set_schedule(*, actor: Person, duty: Duty, schedule: str,
                 authority: AuthorityLike) -> Duty:
    """Change a duty's schedule: open occurrences not yet due are dropped and generated
    again from the new schedule; overdue ones stay overdue."""
    if not may_plan(actor, duty.owner):
        raise NotAllowed(f"only the {TeamKind(duty.owner).label} team leader changes the "
                         "schedule of its duties")
    new = schedules.normalised(schedule)
    now = timezone.now()
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        duty = Duty.objects.select_for_update().get(pk=duty.pk)
        old = duty.schedule
        Occurrence.objects.filter(duty=duty, status=OccurrenceStatus.OPEN,
                                  due_at__gt=now).delete()
        last = Occurrence.objects.filter(duty=duty).order_by("-due_at").first()
        duty.schedule = new
        duty.generated_until = last.due_at if last else None
        duty.starts_at = max(now, last.due_at) if last else now
        duty.changed_at = now
        duty.save()
        record("compliance.duty.schedule", actor=actor, authority=authority_row, subject=duty,
               details={"from": old, "to": new})
    generate_occurrences(now)
    return duty


def designate(*, actor: Person, duty: Duty, person: Person,
              authority: AuthorityLike) -> Duty:
    """The team leader designates who performs a duty that names one person."""
    declared = _require_control(duty.control_id, Kind.DUTY)
    if not declared.designated:
        raise RuleViolation(f"{duty.control_id} is performed by any member of the team; "
                            "nobody is designated for it")
    if not may_plan(actor, duty.owner):
        raise NotAllowed(f"only the {TeamKind(duty.owner).label} team leader designates the "
                         f"{declared.designated}")
    if not is_member(person, duty.owner):
        raise RuleViolation(f"{person} is not an active member of the "
                            f"{TeamKind(duty.owner).label} team", field="person")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        duty = Duty.objects.select_for_update().get(pk=duty.pk)
        previous = duty.assignee
        duty.assignee = person
        duty.save(update_fields=["assignee"])
        record("compliance.duty.designate", actor=actor, authority=authority_row,
               subject=duty, details={"role": declared.designated, "person": person.name,
                                      "person_id": person.pk,
                                      "previous": previous.name if previous else ""})
    return duty


def _store_evidence(content: bytes, name: str) -> tuple[str, str]:
    """Evidence files are stored by their SHA-256 under the data dir, write-once."""
    if len(content) > MAX_EVIDENCE_BYTES:
        raise RuleViolation(f"the evidence file is {len(content):,} bytes; at most "
                            f"{MAX_EVIDENCE_BYTES:,} are accepted", field="evidence_file")
    if not content:
        raise RuleViolation("the evidence file is empty", field="evidence_file")
    digest = hashlib.sha256(content).hexdigest()
    relative = Path("evidence") / digest[:2] / digest
    target = Path(settings.DATA_DIR) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        os.chmod(partial, 0o440)
        partial.replace(target)
    return str(relative), digest


def evidence_path(occurrence: Occurrence) -> Path:
    return Path(settings.DATA_DIR) / occurrence.evidence_file


def evidence_for(*, reader: Person, occurrence: Occurrence) -> Path | None:
    """The evidence file of an occurrence, for the owning team, the Board, auditors and
    the administrator; None when it has none. (A read, but the rule lives here, so a
    second way to the files, an API say, cannot forget it.)"""
    if not may_see_evidence(reader, occurrence):
        raise NotAllowed("Evidence is for the owning team, the Board and auditors.")
    return evidence_path(occurrence) if occurrence.evidence_file else None


def complete_occurrence(*, actor: Person, occurrence: Occurrence, note: str,
                        evidence: tuple[str, bytes] | None = None,
                        event_seq: int | None = None,
                        authority: AuthorityLike | None = None) -> Occurrence:
    """Complete an occurrence with evidence: a note of what was done, optionally a file
    and an Event Log entry. A four-eyes duty then waits for a second team member's
    sign-off; the occurrence is done when it arrives."""
    occurrence = Occurrence.objects.select_related("duty__assignee").get(pk=occurrence.pk)
    declared = _require_control(occurrence.duty.control_id, Kind.DUTY)
    refusal = why_not_complete(actor, occurrence)
    if refusal is not None:
        raise refusal
    review = duty_review(occurrence.duty.control_id)
    if review is not None and (blocked := review.blocker(occurrence.period_start,
                                                         occurrence.due_at)):
        raise RuleViolation(blocked, section=declared.sections[-1])
    note = (note or "").strip()
    if not note:
        raise RuleViolation("say what was done and what was found: a duty is completed with "
                            "evidence, never by ticking it", field="note")
    check_text(Occurrence, {"note": note})
    if event_seq is not None and not Event.objects.filter(seq=event_seq).exists():
        raise RuleViolation(f"there is no Event Log entry #{event_seq}", field="event_seq")
    name = one_line(Path(evidence[0]).name, max_length(Occurrence, "evidence_name")) if (
        evidence) else ""
    with transaction.atomic():
        occurrence = Occurrence.objects.select_for_update().select_related("duty").get(
            pk=occurrence.pk)
        OCCURRENCE.check(occurrence.status, OccurrenceStatus.AWAITING_SIGNOFF
                         if occurrence.duty.four_eyes else OccurrenceStatus.DONE,
                         step="complete")
        if occurrence.period_start > timezone.now():
            raise RuleViolation(f"this occurrence covers the period from "
                                f"{occurrence.period_start:%Y-%m-%d %H:%M} UTC; it cannot be "
                                "completed before that period begins")
        authority_row = resolve_authority(authority or declared.sections[-1])
        stored, digest = _store_evidence(evidence[1], name) if evidence else ("", "")
        occurrence.note, occurrence.event_seq = note, event_seq
        occurrence.evidence_file, occurrence.evidence_name = stored, name
        occurrence.evidence_sha256 = digest
        occurrence.completed_by = actor
        occurrence.completed_at = timezone.now()
        details: dict[str, Any] = {"control": declared.id, "due_at": occurrence.due_at,
                                   "note": note, "evidence_sha256": digest,
                                   "evidence_name": name, "event_seq": event_seq}
        if occurrence.duty.four_eyes:
            team_roles = TEAM_ROLES[occurrence.duty.owner]
            request = request_signoff(
                actor=actor, action=DUTY_SIGNOFF, authority=authority_row,
                title=f"{declared.statement} (due {occurrence.due_at:%Y-%m-%d})"[:300],
                description=note, requirement=four_eyes(team_roles, team_roles),
                payload={"occurrence": occurrence.pk}, expires_in=dt.timedelta(days=14))
            occurrence.signoff = request
            occurrence.status = OccurrenceStatus.AWAITING_SIGNOFF
            occurrence.save()
            record("compliance.duty.perform", actor=actor, authority=authority_row,
                   subject=occurrence, details=details)
            sign(actor=actor, request=request, slot="executor")
        else:
            occurrence.status = OccurrenceStatus.DONE
            occurrence.save()
            record("compliance.duty.complete", actor=actor, authority=authority_row,
                   subject=occurrence, details=details)
    return occurrence


def _duty_signed(request: SignOffRequest) -> None:
    occurrence = Occurrence.objects.select_for_update().get(pk=request.payload["occurrence"])
    OCCURRENCE.check(occurrence.status, OccurrenceStatus.DONE, step="second_signoff")
    occurrence.status = OccurrenceStatus.DONE
    occurrence.save(update_fields=["status"])
    record("compliance.duty.complete", actor=None, actor_label="secman (four eyes complete)",
           authority=request.authority, subject=occurrence, signoffs=signoff_summary(request),
           details={"control": occurrence.duty.control_id, "due_at": occurrence.due_at,
                    "signoff_request": request.pk})


register(DUTY_SIGNOFF, "Recurring duty completed under four eyes", _duty_signed)


def reopen_expired_signoffs() -> int:
    """An occurrence whose four-eyes request expired or was withdrawn is open again: one
    Event Log entry each (`compliance.duty.reopen`), naming the request it leaves, so the
    occurrence's history still tells that a first attempt waited for a second person."""
    stale = Q(signoff__status=SignOffStatus.WITHDRAWN) | Q(signoff__expires_at__lte=timezone.now())
    reopened = 0
    with transaction.atomic():
        for occurrence in (Occurrence.objects.select_for_update()
                           .filter(status=OccurrenceStatus.AWAITING_SIGNOFF)
                           .filter(~Q(signoff__status=SignOffStatus.COMPLETE) & stale)
                           .select_related("duty", "signoff", "signoff__authority")):
            request = occurrence.signoff
            OCCURRENCE.check(occurrence.status, OccurrenceStatus.OPEN, step="reopen")
            occurrence.status, occurrence.signoff = OccurrenceStatus.OPEN, None
            occurrence.save(update_fields=["status", "signoff"])
            withdrawn = request is not None and request.status == SignOffStatus.WITHDRAWN
            record("compliance.duty.reopen", actor=None, actor_label="duties round",
                   authority=request.authority if request is not None else "SP 1.2",
                   subject=occurrence,
                   details={"control": occurrence.duty.control_id,
                            "due_at": occurrence.due_at,
                            "signoff_request": request.pk if request is not None else None,
                            "because": "withdrawn" if withdrawn else "expired"})
            reopened += 1
    return reopened


def skip_occurrence(*, actor: Person, occurrence: Occurrence, reason: str,
                    authority: AuthorityLike) -> Occurrence:
    """Skipping needs a reason and an authority other than the duty's own section: a
    Board decision or an Arbitration ruling."""
    declared = _require_control(occurrence.duty.control_id, Kind.DUTY)
    if not may_skip(actor, occurrence.duty.owner):
        raise NotAllowed(f"only the {TeamKind(occurrence.duty.owner).label} team leader or a "
                         "Board member skips this duty's occurrence")
    if not (reason or "").strip():
        raise RuleViolation("say why this occurrence is skipped", field="reason")
    check_text(Occurrence, {"skip_reason": reason.strip()}, {"skip_reason": "reason"})
    with transaction.atomic():
        authority_row = resolve_authority(
            authority, kinds=[AuthorityKind.BOARD_DECISION, AuthorityKind.ARBITRATION],
            why="skipping a duty the manual demands")
        occurrence = Occurrence.objects.select_for_update().get(pk=occurrence.pk)
        OCCURRENCE.check(occurrence.status, OccurrenceStatus.SKIPPED)
        occurrence.status = OccurrenceStatus.SKIPPED
        occurrence.skip_reason = reason.strip()
        occurrence.authority = authority_row
        occurrence.completed_by, occurrence.completed_at = actor, timezone.now()
        occurrence.save()
        record("compliance.duty.skip", actor=actor, authority=authority_row,
               subject=occurrence, details={"control": declared.id,
                                            "due_at": occurrence.due_at,
                                            "reason": occurrence.skip_reason})
    return occurrence


# --- attestations and exceptions ---------------------------------------------------------


def attest(*, actor: Person, control_id: str, statement: str,
           authority: AuthorityLike) -> Attestation:
    declared = _require_control(control_id, Kind.ATTESTATION)
    assert declared.role is not None
    if not may_attest(actor, declared):
        article = "an" if declared.role.label[0] in "AEIOU" else "a"
        raise NotAllowed(f"only {article} {declared.role.label} attests {control_id}",
                         section=declared.sections[0])
    if not (statement or "").strip():
        raise RuleViolation("say what you checked and found", field="statement")
    check_text(Attestation, {"statement": statement.strip()})
    now = timezone.now()
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        attestation = Attestation.objects.create(
            control_id=control_id, person=actor, role=declared.role,
            statement=statement.strip(), authority=authority_row, attested_at=now,
            expires_at=now + dt.timedelta(days=declared.valid_days))
        record("compliance.attest", actor=actor, authority=authority_row, subject=attestation,
               details={"control": control_id, "statement": attestation.statement,
                        "expires_at": attestation.expires_at})
    return attestation


def accept(*, actor: Person, control_id: str, kind: str, reason: str,
           authority: AuthorityLike, subject: str = "",
           expires_on: dt.date | None = None) -> Acceptance:
    """Accept a deviation (an exception, which expires) or record that a control or one of
    its subjects does not apply. Needs a Board decision or an Arbitration ruling."""
    _require_control(control_id)
    if not may_accept(actor):
        raise NotAllowed("only Board members and Arbitrators record accepted exceptions "
                         "(SP 1.2, 9.1.5)")
    try:
        kind = AcceptanceKind(kind)
    except ValueError:
        raise RuleViolation(f"{kind!r} is neither an exception nor 'not applicable'",
                            field="kind") from None
    if not (reason or "").strip():
        raise RuleViolation("say why the deviation is accepted", field="reason")
    check_text(Acceptance, {"reason": reason.strip(), "subject": (subject or "").strip()})
    today = timezone.localdate()
    if kind == AcceptanceKind.EXCEPTION and expires_on is None:
        raise RuleViolation("an exception needs an expiry date: deviations are reviewed, "
                            "never accepted for ever", field="expires_on")
    if expires_on is not None and expires_on <= today:
        raise RuleViolation(f"the expiry date {expires_on} is not in the future",
                            field="expires_on")
    if expires_on is not None and expires_on > today + dt.timedelta(days=3 * 366):
        raise RuleViolation("an acceptance runs for at most three years", field="expires_on")
    expires_at = (dt.datetime.combine(expires_on, dt.time.min, tzinfo=dt.UTC)
                  if expires_on else None)
    with transaction.atomic():
        authority_row = resolve_authority(
            authority, kinds=[AuthorityKind.BOARD_DECISION, AuthorityKind.ARBITRATION],
            why="accepting a deviation from the policy")
        acceptance = Acceptance.objects.create(
            control_id=control_id, subject=(subject or "").strip(), kind=kind,
            reason=reason.strip(), authority=authority_row, accepted_by=actor,
            expires_at=expires_at)
        record("compliance.accept", actor=actor, authority=authority_row, subject=acceptance,
               details={"control": control_id, "subject": acceptance.subject, "kind": kind,
                        "reason": acceptance.reason, "expires_at": expires_at})
    return acceptance


def withdraw_acceptance(*, actor: Person, acceptance: Acceptance,
                        authority: AuthorityLike) -> Acceptance:
    if not may_accept(actor):
        raise NotAllowed("only Board members and Arbitrators withdraw accepted exceptions")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        acceptance = Acceptance.objects.select_for_update().get(pk=acceptance.pk)
        if acceptance.withdrawn_at is not None:
            raise RuleViolation("this acceptance was withdrawn already")
        acceptance.withdrawn_at, acceptance.withdrawn_by = timezone.now(), actor
        acceptance.save(update_fields=["withdrawn_at", "withdrawn_by"])
        record("compliance.accept.withdraw", actor=actor, authority=authority_row,
               subject=acceptance, details={"control": acceptance.control_id,
                                            "subject": acceptance.subject})
    return acceptance


# --- evaluation runs ----------------------------------------------------------------------


def record_statuses(results: list[Any], day: dt.date | None = None) -> int:
    """Keep today's status of every control for the trends (the last run of a day wins).
    Not an Event Log entry: it is derived from the records, which are."""
    day = day or timezone.localdate()
    rows = [StatusRecord(day=day, control_id=r.control.id, status=r.status,
                         findings=len(r.findings)) for r in results]
    StatusRecord.objects.bulk_create(rows, update_conflicts=True,
                                     unique_fields=["day", "control_id"],
                                     update_fields=["status", "findings"])
    return len(rows)


# --- calendar feeds -----------------------------------------------------------------------


def create_calendar_feed(*, actor: Person, team: str = "") -> tuple[CalendarFeed, str]:
    """A private feed; returns the token, which is not stored and is shown only now."""
    if team:
        TeamKind(team)
        if not may_subscribe(actor, team):
            raise NotAllowed(f"only members of the {TeamKind(team).label} team subscribe to "
                             "its calendar")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            person=actor, team=team, token_sha256=hashlib.sha256(token.encode()).hexdigest())
        # The token is a secret: the entry says a feed was made, never its token.
        record("compliance.calendar.create", actor=actor, authority="SM 4.2.3", subject=feed,
               details={"team": team})
    return feed, token


def revoke_calendar_feed(*, actor: Person, feed: CalendarFeed) -> CalendarFeed:
    if not may_revoke_feed(actor, feed):
        raise NotAllowed("only the person who made a calendar feed revokes it")
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if feed.revoked_at is None:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at"])
            record("compliance.calendar.revoke", actor=actor, authority="SM 4.2.3",
                   subject=feed, details={"team": feed.team})
    return feed


def feed_for_token(token: str) -> CalendarFeed | None:
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    return CalendarFeed.objects.filter(token_sha256=digest, revoked_at__isnull=True) \
        .select_related("person").first()
