"""Removing a person's access (SP 3.4.4, SM 3.4.4): at once, temporarily, and made
permanent when the Board approves the change to the access lists.

On one of the listed events (choices.RemovalEvent) the Systems Administration team
leader, the leader of a team the person is in, a Board member or the Arbitrator removes
the person's access. In one transaction: the removal is recorded with its reason and
authority, the person's unblocked SSH keys are blocked, their running temporary grants
revoked, a removal is proposed to the Board for each list they are on by an entry of
their own, and the termination checklist (SM 9.1.7) opens. The removal becomes
PERMANENT when the Board has approved every one of those proposals, RESTORED when it
rejects one: access may then be given back, but the blocked keys stay blocked (a block
is not undone): the person registers a new key."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import CRITICAL_TEAMS, Role, TeamKind
from secman.core.validation import check_text
from secman.eventlog.services import record
from secman.people import signals
from secman.people.choices import ProposalStatus
from secman.people.models import ListChangeProposal, ListEntry, Membership, Person, Team
from secman.people.selectors import holds_any, leads, teams_of
from secman.privileged import checklists, grants, keys
from secman.privileged.choices import ChecklistTrigger, RemovalEvent, RemovalStatus
from secman.privileged.models import (
    AccessRemoval,
    SshKey,
    TemporaryGrant,
    TerminationChecklist,
)

SECTION = "SM 3.4.4"


def may_remove_access(actor: Person | None, person: Person) -> bool:
    """The Systems Administration team leader (who manages SM 3.4.4), the leader of a
    team the person is in, a Board member, or the Arbitrator (SP 9.1.7: termination by
    "Arbitration ruling, or decision of Board or team leader")."""
    if actor is None:
        return False
    return (leads(actor, TeamKind.SYSTEMS_ADMINISTRATION)
            or holds_any(actor, Role.BOARD_MEMBER, Role.ARBITRATOR)
            or any(leads(actor, kind) for kind in teams_of(person)))


def may_remove_any(actor: Person | None) -> bool:
    """Whether to show the remove-access form at all: someone who may remove someone."""
    if actor is None:
        return False
    return (leads(actor, TeamKind.SYSTEMS_ADMINISTRATION)
            or holds_any(actor, Role.BOARD_MEMBER, Role.ARBITRATOR)
            or Membership.objects.active().filter(person=actor, is_leader=True).exists())


def _checklist_team(person: Person) -> Team:
    """Whose leader follows the removal up: the team of a checklist already open for the
    person (they left it: the removal joins that checklist), else their critical team,
    else the Systems Administration team (who keeps the keys and the secrets)."""
    open_one = (TerminationChecklist.objects.filter(person=person, status="open")
                .select_related("team").order_by("opened_at").first())
    if open_one is not None:
        return open_one.team
    membership = (Membership.objects.active().filter(person=person,
                                                     team__kind__in=CRITICAL_TEAMS)
                  .select_related("team").order_by("start", "pk").first())
    if membership is not None:
        return membership.team
    return Team.objects.get(kind=TeamKind.SYSTEMS_ADMINISTRATION)


def _block_keys(actor: Person, person: Person, removal: AccessRemoval,
                authority: Any) -> list[str]:
    reason = f"access removed (SM 3.4.4, removal #{removal.pk}): {removal.reason}"[:300]
    return [keys.block_key(actor=actor, key=key, reason=reason, authority=authority,
                           removal=removal).fingerprint
            for key in SshKey.objects.filter(person=person, blocked_at__isnull=True)]


def _revoke_grants(actor: Person, person: Person, removal: AccessRemoval,
                   authority: Any) -> list[int]:
    return [grants.revoke_grant(actor=actor, grant=grant, authority=authority,
                                reason=f"access removed (removal #{removal.pk})",
                                removal=removal).pk
            for grant in TemporaryGrant.objects.filter(person=person, revoked_at__isnull=True,
                                                       ends_at__gt=timezone.now())]


def _propose_removals(actor: Person, person: Person, removal: AccessRemoval,
                      authority: Any) -> tuple[list[int], list[str]]:
    """A removal proposal per list the person is on by an entry of their own (one already
    waiting for the Board is reused). A list whose changes this actor may not propose
    (SP 3.4.2: its manager or the Board) is named in the entry: its manager proposes it,
    and the proposal joins the removal when the Board approves it."""
    # Imported here: this module loads in PrivilegedConfig.ready(), and people.services
    # loading then would register people's lifecycles out of the apps' order
    # (docs/lifecycles.md follows that order).
    from secman.people import services as people_services

    reason = (f"Access removed ({RemovalEvent(removal.event).label}, SM 3.4.4): "
              f"{removal.reason}")
    filed, left = [], []
    for entry in (ListEntry.objects.active().filter(person=person)
                  .select_related("access_list__manager")):
        access_list = entry.access_list
        waiting = ListChangeProposal.objects.filter(
            access_list=access_list, person=person, change="remove",
            status=ProposalStatus.PENDING).first()
        if waiting is None and people_services.may_propose_list_change(actor, access_list):
            waiting = people_services.propose_list_change(
                actor=actor, access_list=access_list, person=person, change="remove",
                reason=reason, authority=authority)
        if waiting is None:
            left.append(access_list.name)
            continue
        removal.proposals.add(waiting)
        filed.append(waiting.pk)
    return filed, left


def remove_access(*, actor: Person, person: Person, event: str, reason: str,
                  authority: AuthorityLike) -> AccessRemoval:
    """Remove a person's access at once (SM 3.4.4), temporarily until the Board approves
    the list changes. Refused, with nothing written, without a listed event, a reason and
    an authority, or by someone not allowed."""
    if not may_remove_access(actor, person):
        raise NotAllowed("access is removed by the Systems Administration team leader, the "
                         "person's team leader, a Board member or the Arbitrator",
                         section=SECTION)
    if event not in RemovalEvent.values:
        raise RuleViolation("choose the event: " + ", ".join(RemovalEvent.values),
                            field="event", section=SECTION)
    reason = reason.strip()
    if not reason:
        raise RuleViolation("say why the access is removed", field="reason",
                            section=SECTION)
    check_text(AccessRemoval, {"reason": reason})
    if not str(authority or "").strip():
        raise RuleViolation("cite the authority (a ruling, a Board decision or a section)",
                            field="authority", section=SECTION)
    if AccessRemoval.objects.filter(person=person, status=RemovalStatus.TEMPORARY).exists():
        raise RuleViolation(f"{person}'s access is already removed, waiting for the Board",
                            field="person", section=SECTION)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        removal = AccessRemoval.objects.create(person=person, event=event, reason=reason,
                                               removed_by=actor, authority=authority_row)
        blocked = _block_keys(actor, person, removal, authority_row)
        revoked = _revoke_grants(actor, person, removal, authority_row)
        filed, left = _propose_removals(actor, person, removal, authority_row)
        checklist = checklists.open_checklist(
            actor=actor, person=person, team=_checklist_team(person),
            trigger=ChecklistTrigger.REMOVAL, removal=removal)
        record("privileged.access.remove", actor=actor, authority=authority_row,
               subject=removal,
               details={"person": person.name, "event": event, "reason": reason,
                        "keys_blocked": blocked, "grants_revoked": revoked,
                        "proposals": filed, "lists_for_their_manager": left,
                        "checklist": checklist.pk})
        if not filed and not left:
            # On no list by an entry of their own: there is no list change for the Board
            # to approve, and nothing to give back by refusing one.
            removal.status, removal.decided_at = RemovalStatus.PERMANENT, timezone.now()
            removal.save(update_fields=["status", "decided_at"])
            record("privileged.access.permanent", actor=actor, authority=authority_row,
                   subject=removal, details={"person": person.name, "proposal": None,
                                             "board_decision": "",
                                             "why": "on no access list"})
    return removal


# --- the Board decides --------------------------------------------------------------------


def _decide(removal: AccessRemoval, status: str, proposal: ListChangeProposal,
            actor: Person | None) -> None:
    authority = resolve_authority(proposal.decision, carried=False) if proposal.decision \
        else removal.authority
    removal.status, removal.decided_at = status, timezone.now()
    removal.save(update_fields=["status", "decided_at"])
    action = ("privileged.access.permanent" if status == RemovalStatus.PERMANENT
              else "privileged.access.restore")
    record(action, actor=actor, authority=authority, subject=removal,
           details={"person": removal.person.name, "proposal": proposal.pk,
                    "board_decision": proposal.decision.minute_id if proposal.decision
                    else ""})


@receiver(signals.list_entry_removed, dispatch_uid="privileged.removal.entry_removed")
def _on_list_entry_removed(sender: Any, entry: ListEntry, proposal: ListChangeProposal,
                           actor: Person | None, **kwargs: Any) -> None:
    """A removal the list's manager proposed (the remover could not) joins the person's
    waiting removal when the Board approves it."""
    for removal in AccessRemoval.objects.filter(person=entry.person_id,
                                                status=RemovalStatus.TEMPORARY):
        removal.proposals.add(proposal)


@receiver(signals.proposal_closed, dispatch_uid="privileged.removal.proposal_closed")
def _on_proposal_closed(sender: Any, proposal: ListChangeProposal, actor: Person | None,
                        **kwargs: Any) -> None:
    """Permanent when every proposal is approved and the person is on no list by an
    entry of their own; restored when the Board rejects one. A withdrawn proposal decides
    nothing: the removal keeps waiting (and shows as due)."""
    for removal in (AccessRemoval.objects.select_for_update()
                    .filter(proposals=proposal, status=RemovalStatus.TEMPORARY)
                    .select_related("person", "authority")):
        if proposal.status == ProposalStatus.REJECTED:
            _decide(removal, RemovalStatus.RESTORED, proposal, actor)
        elif proposal.status == ProposalStatus.APPROVED:
            waiting = removal.proposals.exclude(status=ProposalStatus.APPROVED).exists()
            still_on = ListEntry.objects.active().filter(person=removal.person).exists()
            if not waiting and not still_on:
                _decide(removal, RemovalStatus.PERMANENT, proposal, actor)
