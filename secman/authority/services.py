"""Authorities, Board decisions, Arbitration cases and sign-offs: the only place that
changes them. Each function checks who is asking, validates, writes, and records one
Event Log entry in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from secman.authority.choices import SignOffStatus, Vote
from secman.authority.lifecycles import SIGNOFF
from secman.authority.models import (
    ArbitrationCase,
    Authority,
    BoardDecision,
    BoardVote,
    SignOff,
    SignOffRequest,
)
from secman.authority.signoff import Requirement, handler_for
from secman.core import channel
from secman.core.authorities import (
    DECISION_RE,
    AuthorityKind,
    identifier_date,
    parse_reference,
)
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.services import record
from secman.people.models import Membership, Person
from secman.people.selectors import holds_any, is_administrator, leads, roles_of, teams_of

MAX_SIGNOFF_DAYS = 90


# --- authority ----------------------------------------------------------------------------


AuthorityLike = str | Authority | BoardDecision | ArbitrationCase


def resolve_authority(
    raw: AuthorityLike, *, kinds: Iterable[AuthorityKind] | None = None, why: str = "",
    carried: bool = True,
) -> Authority:
    """The Authority row for a reference, made on first use for sections. Cases and
    decisions must already be recorded; a decision's minutes must have been confirmed by
    a second Board member, and the decision must have been carried (unless
    `carried=False`: a Board's refusal may rest on a motion that failed)."""
    if isinstance(raw, BoardDecision):
        raw = raw.minute_id
    elif isinstance(raw, ArbitrationCase):
        raw = raw.number
    if isinstance(raw, Authority):
        reference_text, kind = raw.reference, AuthorityKind(raw.kind)
    else:
        parsed = parse_reference(raw)
        reference_text, kind = parsed.text, parsed.kind
    allowed = set(kinds) if kinds is not None else set(AuthorityKind)
    if kind not in allowed:
        wanted = " or ".join(sorted(k.label.lower() for k in allowed))
        raise RuleViolation(
            f"{reference_text} is a {kind.label.lower()}; this action needs "
            f"{'an' if wanted[0] in 'aeiou' else 'a'} {wanted}"
            + (f" ({why})" if why else ""),
            section="SP 1.2",
            field="authority",
        )
    if kind == AuthorityKind.SECTION:
        parsed = parse_reference(reference_text)
        authority, _ = Authority.objects.get_or_create(
            reference=parsed.text,
            defaults={"kind": kind, "document": parsed.document, "section": parsed.section},
        )
        return authority
    if kind == AuthorityKind.ARBITRATION:
        case = ArbitrationCase.objects.filter(number=reference_text).first()
        if case is None:
            raise RuleViolation(
                f"Arbitration case {reference_text} is not recorded in secman: record the "
                "case first", section="SP 1.2", field="authority",
            )
        authority, _ = Authority.objects.get_or_create(
            reference=reference_text, defaults={"kind": kind, "case": case}
        )
        return authority
    decision = BoardDecision.objects.filter(minute_id=reference_text).first()
    if decision is None:
        raise RuleViolation(
            f"Board decision {reference_text} is not recorded in secman: record the "
            "decision first", section="SP 9.1.5", field="authority",
        )
    refusal = _why_not_citable(decision, carried=carried)
    if refusal is not None:
        raise refusal
    authority, _ = Authority.objects.get_or_create(
        reference=reference_text, defaults={"kind": kind, "decision": decision}
    )
    return authority


def _why_not_citable(decision: BoardDecision, *, carried: bool) -> RuleViolation | None:
    """What stops a recorded decision being cited as an authority, or None."""
    if not decision.confirmed:
        return RuleViolation(
            f"Board decision {decision.minute_id} is not confirmed yet: a second Board "
            "member must confirm the minutes", section="SP 1.2", field="authority",
        )
    if carried and not decision.carried:
        tally = decision.tally()
        return RuleViolation(
            f"Board decision {decision.minute_id} was not carried ({tally['aye']} aye, "
            f"{tally['naye']} naye, {tally['abstain']} abstaining) and authorises nothing",
            section="SP 9.1.5", field="authority",
        )
    return None


def citable_decisions(*, carried: bool = True) -> list[BoardDecision]:
    """The decisions resolve_authority accepts (with the same `carried`), newest first:
    what a page offers to choose from instead of a typed minute id."""
    rows = BoardDecision.objects.filter(confirmed_at__isnull=False).prefetch_related("votes")
    return [decision for decision in rows
            if _why_not_citable(decision, carried=carried) is None]


# --- Board decisions ----------------------------------------------------------------------


def may_record_decision(person: Person | None) -> bool:
    """Minute a Board decision: Board members, or the administrator on their behalf."""
    return holds_any(person, Role.BOARD_MEMBER) or is_administrator(person)


def record_board_decision(
    *,
    actor: Person,
    minute_id: str,
    decided_on: dt.date,
    title: str,
    text: str,
    votes: dict[Person, str],
) -> BoardDecision:
    """Minute a decision with every Board member's vote (SP 9.1.5: decisions documented,
    members active in the area abstain)."""
    if not may_record_decision(actor):
        raise NotAllowed("only Board members (or the secman administrator) minute decisions")
    minute_id = (minute_id or "").strip().lower()
    if not DECISION_RE.match(minute_id):
        raise RuleViolation(
            f"{minute_id!r} is not a minute id: use m, the date as YYYYMMDD, a dot and a "
            "number, e.g. m20100222.1", field="minute_id",
        )
    try:
        identifier_date(minute_id)
    except ValueError:
        raise RuleViolation(
            f"minute id {minute_id!r} does not start with a real date", field="minute_id"
        ) from None
    if decided_on > timezone.localdate():
        raise RuleViolation("a decision cannot be dated in the future", field="decided_on")
    if not title.strip() or not text.strip():
        raise RuleViolation("a decision needs a title and its text", field="text")
    check_text(BoardDecision, {"title": title.strip(), "text": text.strip()})
    if not votes:
        raise RuleViolation("record the votes of the Board members", field="votes")
    for person, vote in votes.items():
        if vote not in Vote.values:
            raise RuleViolation(f"{vote!r} is not a vote: use aye, naye or abstain",
                                field="votes")
        if Role.BOARD_MEMBER not in roles_of(person, decided_on):
            raise RuleViolation(
                f"{person} was not a Board member on {decided_on:%Y-%m-%d} and cannot vote",
                section="SP 9.1.5", field="votes",
            )
    with transaction.atomic():
        if BoardDecision.objects.filter(minute_id=minute_id).exists():
            raise RuleViolation(f"decision {minute_id} is already recorded", field="minute_id")
        decision = BoardDecision.objects.create(
            minute_id=minute_id, decided_on=decided_on, title=title.strip(),
            text=text.strip(), recorded_by=actor,
        )
        BoardVote.objects.bulk_create(
            BoardVote(decision=decision, person=person, vote=vote)
            for person, vote in votes.items()
        )
        tally = decision.tally()
        record(
            "authority.decision.record",
            actor=actor,
            authority=minute_id,
            subject=decision,
            details={
                "decided_on": decided_on,
                "title": decision.title,
                "votes": {person.name: vote for person, vote in votes.items()},
                "tally": tally,
                "carried": decision.carried,
            },
        )
    return decision


def _why_not_confirm(person: Person | None, decision: BoardDecision) -> NotAllowed | None:
    """What stops this person confirming these minutes, or None."""
    if is_administrator(person):
        return NotAllowed("the secman administrator records minutes on the Board's behalf "
                          "but never confirms them", section="SP 1.2")
    if person is None or not holds_any(person, Role.BOARD_MEMBER):
        return NotAllowed("only an active Board member confirms the minutes of a decision",
                          section="SP 9.1.5")
    if person.pk == decision.recorded_by_id:
        return NotAllowed("you recorded these minutes: a second Board member must confirm "
                          "them", section="SP 1.2")
    return None


def may_confirm_decision(person: Person | None, decision: BoardDecision) -> bool:
    """SP 1.2, two people: an active Board member other than the one who recorded the
    minutes, and not the secman administrator; only while they are unconfirmed."""
    return not decision.confirmed and _why_not_confirm(person, decision) is None


def confirm_board_decision(*, actor: Person, decision: BoardDecision) -> BoardDecision:
    """A second Board member confirms the minutes as recorded (votes and text); from now on
    the decision can be cited as an authority."""
    refusal = _why_not_confirm(actor, decision)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        # Locked, so two members confirming at once make one confirmation, not two.
        decision = BoardDecision.objects.select_for_update().get(pk=decision.pk)
        if decision.confirmed:
            raise RuleViolation(
                f"Board decision {decision.minute_id} was confirmed already by "
                f"{decision.confirmed_by} on {decision.confirmed_at:%Y-%m-%d %H:%M} UTC")
        decision.confirmed_by = actor
        decision.confirmed_at = timezone.now()
        decision.save(update_fields=["confirmed_by", "confirmed_at"])
        record(
            "authority.decision.confirm",
            actor=actor,
            authority=decision.minute_id,
            subject=decision,
            details={"recorded_by": decision.recorded_by.name,
                     "recorded_at": decision.recorded_at,
                     "tally": decision.tally(), "carried": decision.carried},
        )
    return decision


def decisions_to_confirm(person: Person | None) -> list[BoardDecision]:
    """The unconfirmed minutes `person` may confirm: may_confirm_decision in one query,
    since Today asks it on every visit (tests check the two agree)."""
    if person is None or person.pk is None:
        return []
    on_the_board = Membership.objects.active().filter(person=person, role=Role.BOARD_MEMBER)
    administrator = Person.objects.filter(pk=person.pk, user__is_active=True,
                                          user__is_superuser=True)
    return list(BoardDecision.objects.filter(confirmed_at__isnull=True)
                .filter(Exists(on_the_board)).exclude(Exists(administrator))
                .exclude(recorded_by=person).select_related("recorded_by"))


def _acts_in_a_team(person: Person | None) -> bool:
    """Holds a role in a team other than auditor (an auditor reads, and acts on nothing)."""
    return bool(roles_of(person) - {Role.AUDITOR})


# --- sign-offs ----------------------------------------------------------------------------


def may_request_signoff(person: Person | None) -> bool:
    """Open a sign-off request: anyone who holds a role in a team."""
    return _acts_in_a_team(person)


def request_signoff(
    *,
    actor: Person,
    action: str,
    title: str,
    requirement: Requirement,
    authority: AuthorityLike,
    description: str = "",
    payload: dict | None = None,
    expires_in: dt.timedelta = dt.timedelta(days=7),
) -> SignOffRequest:
    """Open an action that waits for the people its requirement names."""
    handler_for(action)  # refuses actions nobody declared
    if not may_request_signoff(actor):
        raise NotAllowed("only people who hold a role in a team open sign-off requests")
    if not title.strip():
        raise RuleViolation("say what is to be done", field="title")
    check_text(SignOffRequest, {"title": title.strip(), "description": description.strip()})
    if not dt.timedelta(hours=1) <= expires_in <= dt.timedelta(days=MAX_SIGNOFF_DAYS):
        raise RuleViolation(
            f"a sign-off request expires between 1 hour and {MAX_SIGNOFF_DAYS} days after "
            "it is opened", field="expires_in",
        )
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        request = SignOffRequest.objects.create(
            action=action, title=title.strip(), description=description.strip(),
            requirement=requirement.to_json(), payload=payload or {},
            authority=authority_row, requested_by=actor,
            expires_at=timezone.now() + expires_in,
        )
        record(
            "signoff.request", actor=actor, authority=authority_row, subject=request,
            details={"action": action, "title": request.title,
                     "requirement": requirement.describe(),
                     "expires_at": request.expires_at},
        )
    return request


def open_slots(request: SignOffRequest) -> list[str]:
    filled = set(request.signoffs.values_list("slot", flat=True))
    return [slot.name for slot in Requirement.from_json(request.requirement).slots
            if slot.name not in filled]


def slots_for(person: Person, request: SignOffRequest, held: set[Role] | None = None
              ) -> list[str]:
    """The open slots this person could fill now (empty if they have signed already).

    A page asking about many requests passes the person's roles (`held`, from roles_of)
    and prefetches the requests' sign-offs, so asking costs no query per request."""
    signing = any(t.name == "sign" for t in SIGNOFF.moves_from(request.status))
    if not signing or request.is_expired:
        return []
    signed = list(request.signoffs.all())
    if any(signoff.person_id == person.pk for signoff in signed):
        return []
    held = roles_of(person) if held is None else held
    filled = {signoff.slot for signoff in signed}
    return [slot.name for slot in Requirement.from_json(request.requirement).slots
            if slot.name not in filled and slot.roles & held]


def sign(
    *, actor: Person, request: SignOffRequest, slot: str = "", comment: str = ""
) -> SignOff:
    """Sign one slot. The last signature completes the action and runs its handler."""
    check_text(SignOff, {"comment": comment.strip()})
    with transaction.atomic():
        # Lock the request so two last signatures cannot both complete it.
        request = SignOffRequest.objects.select_for_update().get(pk=request.pk)
        open_names = open_slots(request)
        # The last signature completes the request.
        SIGNOFF.check(request.status, SignOffStatus.COMPLETE if len(open_names) == 1
                      else SignOffStatus.PENDING, step="sign")
        if request.is_expired:
            raise RuleViolation(
                f"this request expired at {request.expires_at:%Y-%m-%d %H:%M} UTC; open a "
                "new one", section="SP 1.2",
            )
        if request.signoffs.filter(person=actor).exists():
            raise RuleViolation(
                "you have signed this request already: each slot needs a different person",
                section="SP 1.2",
            )
        requirement = Requirement.from_json(request.requirement)
        by_name = {s.name: s for s in requirement.slots}
        candidates = [slot] if slot else open_names
        held = roles_of(actor)
        chosen = None
        for name in candidates:
            if name not in open_names:
                raise RuleViolation(f"slot {name!r} is not open on this request", field="slot")
            if by_name[name].roles & held:
                chosen = by_name[name]
                break
        if chosen is None:
            needed = "; ".join(by_name[n].describe() for n in open_names)
            raise NotAllowed(
                f"you hold none of the roles the open slots need: {needed}", section="SP 1.2"
            )
        via = channel.current()
        _refuse_one_operator_twice(request, via)
        role = sorted(chosen.roles & held)[0]
        signoff = SignOff.objects.create(
            request=request, slot=chosen.name, person=actor, role=role, comment=comment.strip(),
            channel=via.name if via else "", os_user=via.os_user if via else "",
        )
        record(
            "signoff.sign", actor=actor, authority=request.authority, subject=request,
            details={"slot": chosen.name, "role": role, "comment": signoff.comment},
        )
        if len(open_names) == 1:
            _complete(request)
    return signoff


def _refuse_one_operator_twice(request: SignOffRequest, via: channel.Channel | None) -> None:
    """SP 1.2 names distinct people; on the command line `--as` names anyone, so the
    person is not enough there: one operating-system user signs at most one slot of a
    request through the command line, whoever they sign as. (Signatures through the web
    or the API are each made by a logged-in person, checked above.)"""
    if via is None or via.name != channel.CLI:
        return
    if request.signoffs.filter(channel=channel.CLI, os_user=via.os_user).exists():
        raise NotAllowed(
            f"the operating-system user {via.os_user!r} has signed a slot of this request "
            "through the command line already: the other slots need other people, each "
            "signing as themselves (in the web pages, the API, or the command line as "
            "another operating-system user)", section="SP 1.2",
        )


def _complete(request: SignOffRequest) -> None:
    SIGNOFF.check(request.status, SignOffStatus.COMPLETE)
    request.status = SignOffStatus.COMPLETE
    request.completed_at = timezone.now()
    request.save(update_fields=["status", "completed_at"])
    handler = handler_for(request.action)
    if handler is not None:
        handler(request)
    record(
        "signoff.complete", actor=None, actor_label="secman (last sign-off given)",
        authority=request.authority, subject=request,
        signoffs=signoff_summary(request),
        details={"action": request.action, "title": request.title},
    )


def signoff_summary(request: SignOffRequest) -> list[dict]:
    """The sign-offs as written into Event Log entries."""
    return [
        {"slot": s.slot, "person": s.person.name, "person_id": s.person_id, "role": s.role,
         "at": s.signed_at}
        for s in request.signoffs.select_related("person").order_by("signed_at", "id")
    ]


def may_withdraw_signoff(person: Person, request: SignOffRequest) -> bool:
    """The requester, or the leader of a team the requester is in: another team's
    leader has no say over it."""
    return request.requested_by_id == person.pk or any(
        leads(person, team) for team in teams_of(request.requested_by))


def withdraw_signoff(*, actor: Person, request: SignOffRequest, reason: str) -> SignOffRequest:
    if not may_withdraw_signoff(actor, request):
        raise NotAllowed("only the requester or the leader of the requester's team "
                         "withdraws a sign-off request")
    if not reason.strip():
        raise RuleViolation("say why the request is withdrawn", field="reason")
    check_free_text(reason.strip(), label="reason", limit=TEXT_MAX, multiline=True,
                    field="reason")
    with transaction.atomic():
        request = SignOffRequest.objects.select_for_update().get(pk=request.pk)
        SIGNOFF.check(request.status, SignOffStatus.WITHDRAWN)
        request.status = SignOffStatus.WITHDRAWN
        request.save(update_fields=["status"])
        record("signoff.withdraw", actor=actor, authority=request.authority, subject=request,
               details={"reason": reason.strip()})
    return request


