"""People, teams and access lists: the only place that changes them.

Each function checks who is asking, checks the policy's rules, writes, and records one
Event Log entry in the same transaction; a refusal raises before anything is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from secman.core.authorities import AuthorityKind, AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import CRITICAL_TEAMS, TEAM_ROLES, Role, TeamKind
from secman.core.validation import Refusal, check_text, check_unique, with_changes
from secman.eventlog.services import record
from secman.people import openpgp, signals
from secman.people.choices import ChangeKind, ListKind, ProposalStatus
from secman.people.lifecycles import PROPOSAL
from secman.people.models import (
    AccessList,
    ListChangeProposal,
    ListEntry,
    Membership,
    Person,
    Team,
    today,
)
from secman.people.rules import LIST_RULES, SECTION, excludes
from secman.people.selectors import (
    holds_any,
    is_administrator,
    is_board_member,
    leads,
    lists_of,
    manages_list,
    roles_of,
)

# SP 9.1.5 "Only the Board may approve new individuals or any access to the systems";
# SP 1.2 lets the Arbitrator authorise as well.
BOARD_OR_ARBITRATION = (AuthorityKind.BOARD_DECISION, AuthorityKind.ARBITRATION)


# Who may do what, asked by the services before they act and by the pages, the API and
# the templates to show or hide an action: one rule each. A `_why_not_*` returns the
# refusal the service raises (or None); its `may_*` is the yes or no a page asks.


def may_record_person(person: Person | None) -> bool:
    """Record a person: the Board, team leaders and the administrator."""
    return is_administrator(person) or holds_any(person, Role.BOARD_MEMBER, Role.TEAM_LEADER)


def may_change_identity(person: Person | None) -> bool:
    """Change anyone's name, email and member number: the Board or the administrator."""
    return is_administrator(person) or is_board_member(person)


def _why_not_edit_person(actor: Person | None, person: Person,
                         fields: set[str] | None = None) -> NotAllowed | None:
    """What stops `actor` changing `fields` of `person` (None: any field they may), or
    None. Contact details: the person, the Board or the administrator; the rest: the
    Board or the administrator."""
    if may_change_identity(actor):
        return None
    if actor is None or actor.pk != person.pk:
        return NotAllowed("only the person, the Board or the administrator edit a person")
    if fields is not None and fields - set(Person.CONTACT_FIELDS):
        return NotAllowed("your name, email and member number are changed by the Board")
    return None


def may_edit_person(actor: Person | None, person: Person) -> bool:
    return _why_not_edit_person(actor, person) is None


def may_staff_teams(person: Person | None) -> bool:
    """Add members and designate leaders (SP 9.1.5): the Board or the administrator."""
    return is_administrator(person) or is_board_member(person)


def may_end_membership(person: Person | None, membership: Membership) -> bool:
    """SP 9.1.7: the person, their team leader, the Board or the Arbitrator; only while
    it runs."""
    return membership.end is None and _why_not_end_membership(person, membership) is None


def _why_not_end_membership(person: Person | None,
                            membership: Membership) -> NotAllowed | None:
    if person is not None and (
        may_staff_teams(person)
        or holds_any(person, Role.ARBITRATOR)
        or leads(person, membership.team.kind)
        or person.pk == membership.person_id
    ):
        return None
    return NotAllowed("a membership is ended by the person, their team leader, the Board "
                      "or the Arbitrator", section="SP 9.1.7")


def may_propose_list_change(person: Person | None, access_list: AccessList) -> bool:
    """SP 3.4.2: the list's manager (its team's leader) or the Board."""
    return manages_list(person, access_list) or is_board_member(person)


def may_decide_proposals(person: Person | None) -> bool:
    """Record the Board's approval or rejection of list changes: a Board member."""
    return is_board_member(person)


def may_decide_proposal(person: Person | None, proposal: ListChangeProposal) -> bool:
    return proposal.status == ProposalStatus.PENDING and may_decide_proposals(person)


def _why_not_withdraw_proposal(person: Person | None,
                               proposal: ListChangeProposal) -> NotAllowed | None:
    if person is not None and (person.pk == proposal.proposed_by_id
                               or manages_list(person, proposal.access_list)):
        return None
    return NotAllowed("only the proposer or the list's manager withdraws a proposal")


def may_withdraw_proposal(person: Person | None, proposal: ListChangeProposal) -> bool:
    """The proposer or the list's manager, while the proposal is pending."""
    return (proposal.status == ProposalStatus.PENDING
            and _why_not_withdraw_proposal(person, proposal) is None)


# --- people -------------------------------------------------------------------------------


def _clean_person_fields(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: (value or "").strip() for key, value in fields.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise RuleViolation("a person needs a name", field="name")
    if "email" in cleaned:
        cleaned["email"] = cleaned["email"].lower()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise RuleViolation(f"{cleaned['email']!r} is not an email address",
                                field="email") from None
    check_text(Person, cleaned)
    return cleaned


# What Person declares unique, in the words of the people pages.
PERSON_CLASHES = {
    "email": Refusal("another person already has the email {email}"),
    "person_member_number_unique": Refusal("another person already has member number "
                                           "{member_number}"),
}


def create_person(
    *,
    actor: Person | None,
    authority: AuthorityLike,
    name: str,
    email: str,
    member_number: str = "",
    phone: str = "",
    chat_handle: str = "",
    emergency_contact: str = "",
    username: str = "",
    password: str = "",
    superuser: bool = False,
) -> Person:
    """Record a person, optionally with a login. `actor=None` is the command line
    (createadmin, demo): whoever runs it already controls the server."""
    if actor is not None and not may_record_person(actor):
        raise NotAllowed("only the Board, team leaders and the administrator record people")
    if superuser and actor is not None:
        raise NotAllowed("administrator logins are made on the server: secman createadmin")
    fields = _clean_person_fields(
        {"name": name, "email": email, "member_number": member_number, "phone": phone,
         "chat_handle": chat_handle, "emergency_contact": emergency_contact}
    )
    check_unique(Person(**fields), PERSON_CLASHES)
    user_model = get_user_model()
    username = (username or "").strip()
    if username:
        if user_model.objects.filter(username__iexact=username).exists():
            raise RuleViolation(f"the login name {username!r} is taken", field="username")
        try:
            # AbstractUser's; the stubs type get_user_model() as AbstractBaseUser.
            user_model.username_validator(username)  # type: ignore[attr-defined]
        except ValidationError as exc:
            raise RuleViolation(" ".join(exc.messages), field="username") from None
        try:
            validate_password(password, user_model(username=username, email=fields["email"]))
        except ValidationError as exc:
            raise RuleViolation(" ".join(exc.messages), field="password") from None
    elif password:
        raise RuleViolation("a password needs a login name", field="username")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        user = None
        if username:
            user = user_model.objects.create_user(
                username=username, email=fields["email"], password=password,
                is_staff=superuser, is_superuser=superuser,
            )
        person = Person.objects.create(user=user, **fields)
        record(
            "people.person.create", actor=actor, authority=authority_row, subject=person,
            actor_label="" if actor else "secman command line",
            # Contact details are restricted data: the log says they were given, not what.
            details={"name": person.name, "email": person.email,
                     "member_number": person.member_number,
                     "contact_details_given": sorted(
                         f for f in Person.CONTACT_FIELDS if getattr(person, f)),
                     "login": username, "administrator": superuser},
        )
    return person


def update_person(
    *, actor: Person, person: Person, authority: AuthorityLike, **changes: str
) -> Person:
    """Change a person's record. Contact details: the person, the Board or the
    administrator; name, email and member number: the Board or the administrator."""
    allowed = {"name", "email", "member_number", *Person.CONTACT_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise RuleViolation(f"cannot change {', '.join(sorted(unknown))}")
    refusal = _why_not_edit_person(actor, person, set(changes))
    if refusal is not None:
        raise refusal
    fields = _clean_person_fields(changes)
    check_unique(with_changes(person, fields), PERSON_CLASHES)
    changed = sorted(k for k, v in fields.items() if getattr(person, k) != v)
    if not changed:
        raise RuleViolation("nothing to change: the values are the ones already recorded")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        public = {k: {"from": getattr(person, k), "to": fields[k]}
                  for k in changed if k not in Person.CONTACT_FIELDS}
        for key in changed:
            setattr(person, key, fields[key])
        person.save(update_fields=changed)
        record(
            "people.person.update", actor=actor, authority=authority_row, subject=person,
            details={"changed": public,
                     "contact_details_changed": [k for k in changed
                                                 if k in Person.CONTACT_FIELDS]},
        )
    return person


def set_openpgp_key(*, actor: Person, person: Person, armoured: str,
                    authority: AuthorityLike = "SM 6.4") -> Person:
    """Record (or, with an empty key, remove) a person's OpenPGP public key: the Key
    Persons List is encrypted to it (SM 6.4). The person, the Board or the administrator
    may; the entry keeps the fingerprint, not the key."""
    # The key is a contact detail of the Key Persons List: asked as one (phone) so the
    # person themself may change it, as they may their phone.
    refusal = _why_not_edit_person(actor, person, {"phone"})
    if refusal is not None:
        raise refusal
    armoured = (armoured or "").strip()
    fingerprint = openpgp.fingerprint_of(armoured) if armoured else ""
    if fingerprint == person.openpgp_fingerprint:
        raise RuleViolation("nothing to change: this is the key already recorded",
                            field="openpgp_key")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        before = person.openpgp_fingerprint
        person.openpgp_key, person.openpgp_fingerprint = armoured, fingerprint
        person.save(update_fields=["openpgp_key", "openpgp_fingerprint"])
        record("people.person.openpgp_key", actor=actor, authority=authority_row,
               subject=person, details={"from": before, "to": fingerprint})
    return person


# --- teams --------------------------------------------------------------------------------


def add_member(
    *,
    actor: Person | None,
    team: Team,
    person: Person,
    authority: AuthorityLike,
    role: str = "",
    start: dt.date | None = None,
    is_leader: bool = False,
) -> Membership:
    """Put a person in a team (SP 9.1.3: authorised by the Board)."""
    if actor is not None and not may_staff_teams(actor):
        raise NotAllowed("new team members are authorised by the Board (SP 9.1.5)")
    role = role or TEAM_ROLES[team.kind][0]
    if role not in TEAM_ROLES[team.kind]:
        allowed = ", ".join(Role(r).label for r in TEAM_ROLES[team.kind])
        raise RuleViolation(f"members of the {team} team hold the role {allowed}", field="role")
    start = start or today()
    if Membership.objects.active_from(start).filter(team=team, person=person).exists():
        raise RuleViolation(f"{person} is already in the {team} team", field="person")
    if team.kind in CRITICAL_TEAMS:
        other = (Membership.objects.active_from(start)
                 .filter(person=person, team__kind__in=CRITICAL_TEAMS)
                 .exclude(team=team).select_related("team").first())
        if other:
            raise RuleViolation(
                f"{person} is active in the {other.team} team; an individual is active in "
                "at most one team", section="SP 9.1.2", field="person",
            )
    # Overlap from `start` on, not only on that day: a back-dated row must not run
    # alongside one that began later.
    if is_leader and (
        Membership.objects.active_from(start).filter(team=team, is_leader=True).exists()
    ):
        raise RuleViolation(f"the {team} team has a leader; appoint a new one instead",
                            section="SP 9.1.2", field="is_leader")
    with transaction.atomic():
        # The Board itself is elected by the members' meeting, outside this policy, so
        # its seats cite whatever authority recorded the election.
        authority_row = resolve_authority(
            authority, kinds=None if team.kind == TeamKind.BOARD else BOARD_OR_ARBITRATION,
            why="SP 9.1.5: the Board authorises new individuals",
        )
        membership = Membership.objects.create(
            team=team, person=person, role=role, is_leader=is_leader, start=start,
            authority=authority_row,
        )
        record(
            "people.team.join", actor=actor, authority=authority_row, subject=membership,
            actor_label="" if actor else "secman command line",
            details={"team": team.name, "person": person.name, "role": role,
                     "leader": is_leader, "start": start},
        )
    return membership


def end_membership(
    *,
    actor: Person,
    membership: Membership,
    authority: AuthorityLike,
    reason: str,
    end: dt.date | None = None,
) -> Membership:
    """SP 9.1.7: termination by resignation, Arbitration ruling, or decision of the Board
    or the team leader. A team left with fewer than two members is flagged, not refused:
    the person may leave regardless (see people.controls)."""
    team = membership.team
    # None is the command line, whose operator already controls the server.
    refusal = None if actor is None else _why_not_end_membership(actor, membership)
    if refusal is not None:
        raise refusal
    if not reason.strip():
        raise RuleViolation("say why the membership ends (resignation, ruling, decision)",
                            field="reason")
    check_text(Membership, {"end_reason": reason.strip()}, {"end_reason": "reason"})
    end = end or today()
    if membership.end is not None:
        raise RuleViolation(f"this membership ended on {membership.end:%Y-%m-%d}",
                            field="membership")
    if end < membership.start:
        raise RuleViolation("a membership cannot end before it started", field="end")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        membership.end = end
        membership.end_authority = authority_row
        membership.end_reason = reason.strip()
        membership.save(update_fields=["end", "end_authority", "end_reason"])
        record(
            "people.team.leave", actor=actor, authority=authority_row, subject=membership,
            details={"team": team.name, "person": membership.person.name,
                     "role": membership.role, "leader": membership.is_leader, "end": end,
                     "reason": membership.end_reason},
        )
        signals.membership_ended.send(sender=Membership, membership=membership, actor=actor)
    return membership


def appoint_leader(
    *, actor: Person | None, team: Team, person: Person, authority: AuthorityLike
) -> Membership:
    """Designate the team leader (SP 9.1.2). The old rows end and new rows start, so the
    history shows who led when."""
    if actor is not None and not may_staff_teams(actor):
        raise NotAllowed("team leaders are designated by the Board")
    current = Membership.objects.active().filter(team=team, person=person).first()
    if current is None:
        raise RuleViolation(f"{person} is not in the {team} team; add them first",
                            field="person")
    if current.is_leader:
        raise RuleViolation(f"{person} already leads the {team} team", field="person")
    on = today()
    with transaction.atomic():
        authority_row = resolve_authority(
            authority, kinds=BOARD_OR_ARBITRATION, why="team leaders report to the Board"
        )
        previous = Membership.objects.active().filter(team=team, is_leader=True).first()
        replaced = [current] + ([previous] if previous else [])
        for row in replaced:
            row.end = on
            row.end_authority = authority_row
            row.end_reason = "change of team leader"
            row.save(update_fields=["end", "end_authority", "end_reason"])
        if previous:
            Membership.objects.create(team=team, person=previous.person, role=previous.role,
                                      start=on, authority=authority_row)
        leader = Membership.objects.create(team=team, person=person, role=current.role,
                                           is_leader=True, start=on, authority=authority_row)
        record(
            "people.team.appoint_leader", actor=actor, authority=authority_row,
            subject=team, actor_label="" if actor else "secman command line",
            details={"team": team.name, "leader": person.name,
                     "previous_leader": previous.person.name if previous else ""},
        )
    return leader


# --- access control lists (SP 3.4.2) ------------------------------------------------------


def on_list(person: Person, kind: ListKind) -> bool:
    """On the list by an entry of their own, or included by default through another."""
    kinds = lists_of(person)
    return kind in kinds or bool(LIST_RULES[kind].includes_lists & kinds)


def check_can_join(access_list: AccessList, person: Person) -> None:
    """SP 3.4.2 "Who" and "Relationship": raise RuleViolation naming the rule broken."""
    rule = LIST_RULES[ListKind(access_list.kind)]
    held = roles_of(person)
    if rule.who not in held:
        raise RuleViolation(
            f"the {access_list} is for {rule.who.label}s and {person} is not one",
            section=SECTION, field="person",
        )
    clash = sorted(role.label for role in rule.excludes_roles & held)
    if clash:
        raise RuleViolation(
            f"the {access_list} is {rule.relationship}; {person} is also "
            f"{' and '.join(clash)}", section=SECTION, field="person",
        )
    for other_kind in sorted(lists_of(person)):
        other = ListKind(other_kind)
        if other != rule.kind and excludes(rule.kind, other):
            other_rule = LIST_RULES[other]
            why = (rule.relationship if other in rule.excludes_lists
                   else f"the {other.label} is {other_rule.relationship}")
            raise RuleViolation(
                f"{person} is on the {other.label}, and the {access_list} excludes it "
                f"({why})", section=SECTION, field="person",
            )
    for including in sorted(rule.includes_lists):
        if including in lists_of(person):
            raise RuleViolation(
                f"{person} is on the {ListKind(including).label} and so on the "
                f"{access_list} by default ({rule.relationship})",
                section=SECTION, field="person",
            )


def propose_list_change(
    *,
    actor: Person,
    access_list: AccessList,
    person: Person,
    change: str,
    reason: str,
    authority: AuthorityLike = SECTION,
) -> ListChangeProposal:
    """Propose adding or removing a person; nothing changes until the Board approves."""
    if not may_propose_list_change(actor, access_list):
        raise NotAllowed(
            f"changes to the {access_list} are proposed by its manager (the "
            f"{access_list.manager} team leader) or by the Board", section=SECTION,
        )
    if change not in ChangeKind.values:
        raise RuleViolation(f"{change!r} is not a change: use add or remove", field="change")
    if not reason.strip():
        raise RuleViolation("give the reason the Board will read", field="reason")
    check_text(ListChangeProposal, {"reason": reason.strip()})
    active = ListEntry.objects.active().filter(access_list=access_list, person=person).exists()
    if change == ChangeKind.ADD:
        if active:
            raise RuleViolation(f"{person} is already on the {access_list}", field="person")
        check_can_join(access_list, person)
    elif not active:
        raise RuleViolation(f"{person} is not on the {access_list} by an entry of their own",
                            field="person")
    if ListChangeProposal.objects.filter(access_list=access_list, person=person,
                                         change=change, status=ProposalStatus.PENDING).exists():
        raise RuleViolation("the same change is already waiting for the Board",
                            field="person")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        proposal = ListChangeProposal.objects.create(
            access_list=access_list, person=person, change=change, reason=reason.strip(),
            proposed_by=actor, authority=authority_row,
        )
        record(
            "people.list.propose", actor=actor, authority=authority_row, subject=proposal,
            details={"list": access_list.name, "person": person.name, "change": change,
                     "reason": proposal.reason},
        )
    return proposal


def _locked_for(proposal: ListChangeProposal, to: ProposalStatus) -> ListChangeProposal:
    locked = ListChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    PROPOSAL.check(locked.status, to)
    return locked


def _board_decision(decision: AuthorityLike, *, carried: bool = True) -> tuple[Any, Any]:
    """(the BoardDecision row, its Authority row) for a decision or its minute id."""
    authority = resolve_authority(
        decision, kinds=[AuthorityKind.BOARD_DECISION], carried=carried,
        why="SP 3.4.2: changes of personnel to the lists are subject to Board approval",
    )
    assert authority.decision is not None
    return authority.decision, authority


def approve_proposal(
    *, actor: Person, proposal: ListChangeProposal, decision: AuthorityLike
) -> ListChangeProposal:
    """The Board's approval: the change takes effect now, under the decision's authority.
    The list rules are checked again, since things may have changed since the proposal."""
    if not may_decide_proposals(actor):
        raise NotAllowed("only a Board member records the Board's approval", section=SECTION)
    with transaction.atomic():
        proposal = _locked_for(proposal, ProposalStatus.APPROVED)
        decision_row, authority = _board_decision(decision)
        access_list, person = proposal.access_list, proposal.person
        now = timezone.now()
        removed: ListEntry | None = None
        if proposal.change == ChangeKind.ADD:
            check_can_join(access_list, person)
            ListEntry.objects.create(access_list=access_list, person=person, added_at=now,
                                     added_by=proposal)
        else:
            entry = ListEntry.objects.active().filter(access_list=access_list,
                                                      person=person).first()
            if entry is None:
                raise RuleViolation(f"{person} is no longer on the {access_list}")
            entry.removed_at = now
            entry.removed_by = proposal
            entry.save(update_fields=["removed_at", "removed_by"])
            removed = entry
        proposal.status = ProposalStatus.APPROVED
        proposal.decision = decision_row
        proposal.decided_by = actor
        proposal.decided_at = now
        proposal.save(update_fields=["status", "decision", "decided_by", "decided_at"])
        record(
            "people.list.approve", actor=actor, authority=authority, subject=proposal,
            details={"list": access_list.name, "person": person.name,
                     "change": proposal.change, "proposal": proposal.pk,
                     "proposed_by": proposal.proposed_by.name},
        )
        if removed is not None:
            signals.list_entry_removed.send(sender=ListEntry, entry=removed,
                                            proposal=proposal, actor=actor)
        signals.proposal_closed.send(sender=ListChangeProposal, proposal=proposal,
                                     actor=actor)
    return proposal


def reject_proposal(
    *, actor: Person, proposal: ListChangeProposal, decision: AuthorityLike
) -> ListChangeProposal:
    """The Board's refusal: a carried decision to reject, or a motion to approve that was
    not carried (a failed vote is how a Board says no). Either must be recorded."""
    if not may_decide_proposals(actor):
        raise NotAllowed("only a Board member records the Board's rejection", section=SECTION)
    with transaction.atomic():
        proposal = _locked_for(proposal, ProposalStatus.REJECTED)
        decision_row, authority = _board_decision(decision, carried=False)
        proposal.status = ProposalStatus.REJECTED
        proposal.decision = decision_row
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decision", "decided_by", "decided_at"])
        record(
            "people.list.reject", actor=actor, authority=authority, subject=proposal,
            details={"list": proposal.access_list.name, "person": proposal.person.name,
                     "change": proposal.change, "proposal": proposal.pk,
                     "decision_carried": decision_row.carried},
        )
        signals.proposal_closed.send(sender=ListChangeProposal, proposal=proposal,
                                     actor=actor)
    return proposal


def withdraw_proposal(
    *, actor: Person, proposal: ListChangeProposal, reason: str
) -> ListChangeProposal:
    refusal = _why_not_withdraw_proposal(actor, proposal)
    if refusal is not None:
        raise refusal
    if not reason.strip():
        raise RuleViolation("say why the proposal is withdrawn", field="reason")
    check_text(ListChangeProposal, {"reason": reason.strip()})
    with transaction.atomic():
        proposal = _locked_for(proposal, ProposalStatus.WITHDRAWN)
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_at"])
        record(
            "people.list.withdraw", actor=actor, authority=proposal.authority,
            subject=proposal, details={"reason": reason.strip(), "proposal": proposal.pk},
        )
        signals.proposal_closed.send(sender=ListChangeProposal, proposal=proposal,
                                     actor=actor)
    return proposal
