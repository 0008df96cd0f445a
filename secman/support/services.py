"""Every change support makes, each with its Event Log entry in the same transaction; a
refusal writes nothing (SP/SM 8)."""

from __future__ import annotations

import datetime as dt
import secrets
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.authority.services import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import check_text
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, leads
from secman.support.choices import ActionKind, AuthorityKind, ChannelKind, FilingDecision
from secman.support.models import (
    AdHocQuery,
    Channel,
    Filing,
    Instruction,
    SupportAction,
    TriageMember,
)

ROLES_FILE = Path(__file__).with_name("roles.toml")
ROLE_ACTIONS = (ActionKind.ROLE_GRANT, ActionKind.ROLE_REMOVAL)
# The cases an instruction may come from: assigned to an Arbitrator and not yet closed.
ACTIVE_CASES = (CaseStatus.RUNNING, CaseStatus.RULED)


@dataclass(frozen=True)
class MemberRole:
    name: str
    title: str
    assurers_only: bool = False
    section: str = ""


@cache
def member_roles() -> dict[str, MemberRole]:
    """SM 8.2.2's roles, from roles.toml."""
    data = tomllib.loads(ROLES_FILE.read_text(encoding="utf-8"))
    return {name: MemberRole(name, **values) for name, values in data.items()}


# --- who may -------------------------------------------------------------------------------


def may_read(person: Person | None) -> bool:
    """Support's records name Members' accounts: the Support Engineers, the Systems
    Administrators who run the approved queries, the Arbitrators and Case Managers who
    instruct them, the Board and auditors."""
    return holds_any(person, Role.SUPPORT_ENGINEER, Role.SYSTEMS_ADMINISTRATOR,
                     Role.ARBITRATOR, Role.CASE_MANAGER, Role.BOARD_MEMBER, Role.AUDITOR)


def may_act(person: Person | None) -> bool:
    return holds_any(person, Role.SUPPORT_ENGINEER)


def may_lead(person: Person | None) -> bool:
    """SM 8.2.4: the Support team leader keeps the channels and appoints Triage."""
    return leads(person, TeamKind.SUPPORT)


def may_instruct(person: Person | None) -> bool:
    return holds_any(person, Role.ARBITRATOR)


def _require(predicate: Any, actor: Person | None, what: str, section: str) -> None:
    if not predicate(actor):
        raise NotAllowed(what, section=section)


def _line(value: str, field: str, label: str, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise RuleViolation(f"say {label}", field=field)
    return value


# --- channels (SM 8.3, 8.4) ----------------------------------------------------------------


def record_channel(*, actor: Person, name: str, kind: str, address: str, logged: bool,
                   logging: str = "", in_use: bool = True) -> Channel:
    _require(may_lead, actor, "the support channels are kept by the Support team leader",
             "SM 8.3")
    name = _line(name, "name", "the channel's name")
    address = _line(address, "address", "where it is reached")
    logging = _line(logging, "logging", "", required=False)
    if kind not in ChannelKind.values:
        raise RuleViolation(f"{kind!r} is not a kind of channel", field="kind")
    if logged and not logging:
        raise RuleViolation("say where and how it is logged", field="logging")
    check_text(Channel, {"name": name, "address": address, "logging": logging})
    with transaction.atomic():
        if Channel.objects.filter(name=name).exists():
            raise RuleViolation(f"a channel named {name!r} is recorded already", field="name")
        channel = Channel.objects.create(name=name, kind=kind, address=address, logged=logged,
                                         logging=logging, in_use=in_use, recorded_by=actor)
        record("support.channel.record", actor=actor, authority=resolve_authority("SM 8.3"),
               subject=channel, details={"name": name, "kind": kind, "address": address,
                                         "logged": logged, "logging": logging,
                                         "in_use": in_use})
    return channel


# --- Arbitrator's instructions (SM 8.4) ---------------------------------------------------


def issue_instruction(*, actor: Person, case: ArbitrationCase, member: str,
                      instruction: str) -> Instruction:
    """An instruction to Support under the Arbitrator's case, with a new TOKEN the Support
    Engineer quotes when acting on it (SM 8.4)."""
    _require(may_instruct, actor, "instructions to Support come from the Arbitrator",
             "SM 8.4")
    if case.arbitrator_id != actor.pk:
        raise NotAllowed(f"case {case.number} is {case.arbitrator or 'nobody'}'s: only its "
                         "Arbitrator instructs under it", section="SM 8.4")
    if case.status not in ACTIVE_CASES:
        raise RuleViolation(f"case {case.number} is {case.get_status_display().lower()}",
                            field="case")
    member = _line(member, "member", "the account concerned")
    instruction = _line(instruction, "instruction", "what Support is to do")
    check_text(Instruction, {"member": member, "instruction": instruction})
    with transaction.atomic():
        issued = Instruction.objects.create(
            case=case, member=member, instruction=instruction, issued_by=actor,
            token=f"{case.number}-{secrets.token_hex(4)}")
        record("support.instruction.issue", actor=actor, authority=resolve_authority(case),
               # The token is what the Support Engineer quotes; the log names the
               # instruction instead (secrets, and things that act like them, stay out).
               subject=issued, details={"case": case.number, "instruction_id": issued.pk,
                                        "member": member, "instruction": instruction})
    return issued


# --- support actions (SP 8.1, 8.2; SM 8.2.2) ------------------------------------------------


def _authority_of(kind: str, member: str, channel: Channel | None, message_reference: str,
                  token: str) -> tuple[Instruction | None, str]:
    """The instruction (for an Arbitrator's) and the message reference (for a Member's
    request), or the refusal."""
    if kind == AuthorityKind.MEMBER_REQUEST:
        if channel is None or not message_reference:
            raise RuleViolation("a Member's request is named by its channel and message "
                                "(ticket number, mail Message-ID)", field="message_reference")
        if not channel.in_use:
            raise RuleViolation(f"{channel} is not in use", field="channel")
        return None, message_reference
    if kind == AuthorityKind.ARBITRATOR:
        if not token:
            raise RuleViolation("an Arbitrator's instruction comes with its TOKEN (SM 8.4)",
                                field="token")
        found = Instruction.objects.select_related("case").filter(token=token).first()
        if found is None:
            raise RuleViolation(f"no instruction has the token {token[:60]!r}",
                                field="token")
        if found.case.status not in ACTIVE_CASES:
            raise RuleViolation(f"case {found.case.number} is "
                                f"{found.case.get_status_display().lower()}", field="token")
        if found.member.lower() != member.lower():
            raise RuleViolation(f"the token's instruction is about {found.member}, not "
                                f"{member}", field="member")
        return found, ""
    raise RuleViolation("Support Engineers have no authority of their own: a Member's "
                        "request or an Arbitrator's instruction (SP 8.1)",
                        field="authority_kind")


def perform_action(*, actor: Person, member: str, kind: str, authority_kind: str,
                   interface: str, role: str = "", member_is_assurer: bool = False,
                   channel: Channel | None = None, message_reference: str = "",
                   token: str = "", note: str = "") -> SupportAction:
    """Record an action on a Member's account with its authority and the restricted
    interface it used (SP 8: "use of restricted interfaces must be logged")."""
    _require(may_act, actor, "actions on Members' accounts are Support Engineers'", "SP 8.2")
    member = _line(member, "member", "the account (email or member number)")
    interface = _line(interface, "interface", "which restricted interface you used (SP 8)")
    message_reference = _line(message_reference, "message_reference", "", required=False)
    note, token = _line(note, "note", "", required=False), token.strip()
    if kind not in ActionKind.values:
        raise RuleViolation(f"{kind!r} is not a support action", field="kind")
    if kind in ROLE_ACTIONS:
        declared = member_roles().get(role)
        if declared is None:
            raise RuleViolation(f"{role!r} is not a role of SM 8.2.2", field="role")
        if kind == ActionKind.ROLE_GRANT and declared.assurers_only and not member_is_assurer:
            raise RuleViolation(f"{declared.title}: available to Assurers only "
                                f"({declared.section})", field="role")
    elif role:
        raise RuleViolation("a role is named only when one is enabled or removed",
                            field="role")
    check_text(SupportAction, {"member": member, "interface": interface, "note": note,
                               "message_reference": message_reference})
    with transaction.atomic():
        instruction, reference = _authority_of(authority_kind, member, channel,
                                               message_reference, token)
        action = SupportAction.objects.create(
            member=member, kind=kind, role=role, member_is_assurer=member_is_assurer,
            authority_kind=authority_kind, channel=channel if instruction is None else None,
            message_reference=reference, instruction=instruction, interface=interface,
            note=note, performed_by=actor)
        record("support.action", actor=actor,
               authority=resolve_authority(instruction.case if instruction else "SP 8.2"),
               subject=action,
               details={"member": member, "kind": kind, "role": role,
                        "member_is_assurer": member_is_assurer,
                        "authority": authority_kind,
                        "channel": str(channel) if instruction is None and channel else "",
                        "message": reference,
                        "case": instruction.case.number if instruction else "",
                        "instruction_id": instruction.pk if instruction else None,
                        "interface": interface, "note": note})
    return action


# --- Triage (SM 8.2.3) --------------------------------------------------------------------


def appoint_triage(*, actor: Person, name: str, email: str, assurer: bool,
                   agreed_at: dt.date) -> TriageMember:
    _require(may_lead, actor, "Triage is appointed by the Support team leader", "SM 8.2.3")
    name, email = _line(name, "name", "their name"), email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise RuleViolation(f"{email[:80]!r} is not an email address", field="email") from None
    if not assurer:
        raise RuleViolation("members of Triage must be Assurers (SM 8.2.3)", field="assurer")
    if agreed_at > timezone.localdate():
        raise RuleViolation("the agreement to the SP and SM is recorded once made",
                            field="agreed_at")
    check_text(TriageMember, {"name": name})
    with transaction.atomic():
        if TriageMember.objects.filter(email=email, ended_at__isnull=True).exists():
            raise RuleViolation(f"{email} is in Triage already", field="email")
        member = TriageMember.objects.create(name=name, email=email, assurer=assurer,
                                             agreed_at=agreed_at, appointed_by=actor)
        record("support.triage.appoint", actor=actor, authority=resolve_authority("SM 8.2.3"),
               subject=member, details={"name": name, "email": email,
                                        "agreed_to_sp_and_sm": agreed_at})
    return member


def end_triage(*, actor: Person, member: TriageMember) -> TriageMember:
    _require(may_lead, actor, "Triage is appointed by the Support team leader", "SM 8.2.3")
    with transaction.atomic():
        member = TriageMember.objects.select_for_update().get(pk=member.pk)
        if member.ended_at:
            raise RuleViolation(f"{member} left Triage already")
        member.ended_at = timezone.now()
        member.save(update_fields=["ended_at"])
        record("support.triage.end", actor=actor, authority=resolve_authority("SM 8.2.3"),
               subject=member, details={"name": member.name})
    return member


# --- decisions to file (SM 8.5) -----------------------------------------------------------


def record_filing(*, actor: Person, request_reference: str, decision: str, reason: str,
                  case: ArbitrationCase | None = None) -> Filing:
    """A decision to file a dispute on a support request, or not to: the Support team
    leader reviews them weekly (SM 8.5)."""
    _require(may_act, actor, "filing decisions are the Support Engineers'", "SM 8.5")
    request_reference = _line(request_reference, "request_reference", "the support request")
    reason = _line(reason, "reason", "why")
    if decision not in FilingDecision.values:
        raise RuleViolation("file, or not file", field="decision")
    if case is not None and decision != FilingDecision.FILE:
        raise RuleViolation("a case is named only when a dispute is filed", field="case")
    check_text(Filing, {"request_reference": request_reference, "reason": reason})
    with transaction.atomic():
        filing = Filing.objects.create(request_reference=request_reference, decision=decision,
                                       reason=reason, case=case, decided_by=actor)
        record("support.filing", actor=actor, authority=resolve_authority("SM 8.5"),
               subject=filing, details={"request": request_reference, "decision": decision,
                                        "reason": reason,
                                        "case": case.number if case else ""})
    return filing


# --- ad hoc queries (SP 3.3) --------------------------------------------------------------


def may_request_query(person: Person | None) -> bool:
    return holds_any(person, Role.SUPPORT_ENGINEER, Role.SYSTEMS_ADMINISTRATOR)


def request_query(*, actor: Person, purpose: str, query: str,
                  case: ArbitrationCase) -> AdHocQuery:
    """An ad hoc query over the application database, for the case's Arbitrator to
    approve before it runs (SP 3.3)."""
    _require(may_request_query, actor, "ad hoc queries are requested by Support Engineers "
             "and Systems Administrators", "SP 3.3")
    purpose, query = _line(purpose, "purpose", "what the query is for"), query.strip()
    if not query:
        raise RuleViolation("write the exact query", field="query")
    if len(query) > 20_000:
        raise RuleViolation("a query takes at most 20,000 characters", field="query")
    if case.status not in ACTIVE_CASES:
        raise RuleViolation(f"case {case.number} is {case.get_status_display().lower()}: "
                            "the Arbitrator approves under a case assigned and not closed",
                            field="case")
    check_text(AdHocQuery, {"purpose": purpose})
    with transaction.atomic():
        asked = AdHocQuery.objects.create(purpose=purpose, query=query, case=case,
                                          requested_by=actor)
        record("support.query.request", actor=actor, authority=resolve_authority(case),
               subject=asked, details={"case": case.number, "purpose": purpose,
                                       "query": query})
    return asked


def decide_query(*, actor: Person, query: AdHocQuery, approve: bool) -> AdHocQuery:
    """SP 3.3: the case's Arbitrator approves (or refuses) the exact query."""
    with transaction.atomic():
        query = AdHocQuery.objects.select_for_update().select_related("case").get(pk=query.pk)
        if query.case.arbitrator_id != actor.pk:
            raise NotAllowed(f"the query is approved by case {query.case.number}'s "
                             "Arbitrator", section="SP 3.3")
        if query.approved_at or query.refused:
            raise RuleViolation("this query is decided already")
        if approve:
            query.approved_by, query.approved_at = actor, timezone.now()
        else:
            query.refused = True
        query.save(update_fields=["approved_by", "approved_at", "refused"])
        record("support.query.approve" if approve else "support.query.refuse", actor=actor,
               authority=resolve_authority(query.case), subject=query,
               details={"case": query.case.number})
    return query


def may_run_query(person: Person | None) -> bool:
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def record_query_run(*, actor: Person, query: AdHocQuery, rows: int,
                     result_handling: str) -> AdHocQuery:
    """The approved query was run, how many rows it returned, and what was done with the
    result (to whom it went, when it is deleted)."""
    _require(may_run_query, actor, "the application database is queried by Systems "
             "Administrators", "SP 3.3")
    result_handling = _line(result_handling, "result_handling",
                            "what was done with the result")
    if rows < 0:
        raise RuleViolation("rows are counted from 0", field="rows")
    check_text(AdHocQuery, {"result_handling": result_handling})
    with transaction.atomic():
        query = AdHocQuery.objects.select_for_update().select_related("case").get(pk=query.pk)
        if query.approved_at is None:
            raise RuleViolation("the Arbitrator has not approved this query (SP 3.3)",
                                field="rows")
        if query.run_at is not None:
            raise RuleViolation("its run is recorded already", field="rows")
        query.run_by, query.run_at, query.rows = actor, timezone.now(), rows
        query.result_handling = result_handling
        query.save(update_fields=["run_by", "run_at", "rows", "result_handling"])
        record("support.query.run", actor=actor, authority=resolve_authority(query.case),
               subject=query, details={"case": query.case.number, "rows": rows,
                                       "result_handling": result_handling})
    return query
