"""SM 9.1.7's termination and transfer checklist, opened from people's signals.

A checklist opens by itself when a membership of a critical team ends (a transfer, when
the person stays in, or moves to, another critical team: then only steps 1 and 2, as SM
9.1.7 says), when a person leaves an access list (the Board approved the removal), and
when their access is removed (SM 3.4.4, secman.privileged.removals). Each step is done
with evidence: a text, or for step 1 the agent reports received since the checklist
opened that show none of the person's keys. The team's leader or a Systems Administrator
completes steps; the team leader closes the checklist once every step is done. Every
action is an Event Log entry."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import CRITICAL_TEAMS, Role
from secman.core.validation import check_text
from secman.eventlog.services import record
from secman.people import signals
from secman.people.models import ListEntry, Membership, Person, Team
from secman.people.selectors import holds_any, leads
from secman.privileged.choices import (
    CHECKLIST_STEPS,
    TRANSFER_STEPS,
    ChecklistStatus,
    ChecklistTrigger,
)
from secman.privileged.models import (
    AccessRemoval,
    ChecklistStep,
    SshKey,
    TerminationChecklist,
)
from secman.privileged.selectors import newest_facts

SECTION = "SM 9.1.7"
KEYS_STEP = 1


def _label(actor: Person | None) -> str:
    return "" if actor else "secman command line"


# --- who may ----------------------------------------------------------------------------


def may_complete_steps(person: Person | None, checklist: TerminationChecklist) -> bool:
    """The leader of the checklist's team (SM 9.1.7: "Team leaders should also ensure"),
    or a Systems Administrator (who blocks the keys and changes the secrets); never the
    leaver (who may still be a Systems Administrator after leaving a list)."""
    if person is None or person.pk == checklist.person_id:
        return False
    return checklist.status == ChecklistStatus.OPEN and (
        leads(person, checklist.team.kind) or holds_any(person, Role.SYSTEMS_ADMINISTRATOR))


def may_close(person: Person | None, checklist: TerminationChecklist) -> bool:
    """The leader of the checklist's team, who answers for the leaver's departure; never
    the leaver."""
    if person is None or person.pk == checklist.person_id:
        return False
    return checklist.status == ChecklistStatus.OPEN and leads(person, checklist.team.kind)


def _require(allowed: bool, what: str) -> None:
    if not allowed:
        raise NotAllowed(what, section=SECTION)


# --- opening -------------------------------------------------------------------------------


def open_checklist(*, actor: Person | None, person: Person, team: Team, trigger: str,
                   membership: Membership | None = None, list_entry: ListEntry | None = None,
                   removal: AccessRemoval | None = None) -> TerminationChecklist:
    """Open the checklist for a person leaving a team (or the list it manages), with one
    step per SM 9.1.7 step (steps 1-2 on a transfer). A checklist already open for the
    same person and team is reused: the steps it lacks are added (a transfer followed by
    leaving altogether asks all five). Runs inside the caller's transaction (a signal's,
    a removal's): it is opened with the change that caused it, or not at all."""
    numbers = TRANSFER_STEPS if trigger == ChecklistTrigger.TRANSFER else tuple(CHECKLIST_STEPS)
    with transaction.atomic():
        authority = resolve_authority(SECTION)
        checklist = (TerminationChecklist.objects.select_for_update()
                     .filter(person=person, team=team, status=ChecklistStatus.OPEN).first())
        if checklist is None:
            checklist = TerminationChecklist.objects.create(
                person=person, team=team, trigger=trigger, membership=membership,
                list_entry=list_entry, removal=removal)
            ChecklistStep.objects.bulk_create(
                ChecklistStep(checklist=checklist, number=n) for n in numbers)
            record("privileged.checklist.open", actor=actor, authority=authority,
                   subject=checklist, actor_label=_label(actor),
                   details={"person": person.name, "team": team.name, "trigger": trigger,
                            "steps": list(numbers)})
            return checklist
        have = set(checklist.steps.values_list("number", flat=True))
        added = [n for n in numbers if n not in have]
        ChecklistStep.objects.bulk_create(
            ChecklistStep(checklist=checklist, number=n) for n in added)
        if removal is not None and checklist.removal_id is None:
            checklist.removal = removal
            checklist.save(update_fields=["removal"])
        record("privileged.checklist.reopen", actor=actor, authority=authority,
               subject=checklist, actor_label=_label(actor),
               details={"person": person.name, "team": team.name, "trigger": trigger,
                        "steps_added": added})
    return checklist


@receiver(signals.membership_ended, dispatch_uid="privileged.checklist.membership_ended")
def _on_membership_ended(sender: Any, membership: Membership, actor: Person | None,
                         **kwargs: Any) -> None:
    """A membership of a critical team ended: the person left that team. Another
    membership in the same team from that day on is a change of role, not a departure.
    One in a different critical team (running or starting later) is a transfer."""
    team = membership.team
    if team.kind not in CRITICAL_TEAMS:
        return
    end = membership.end or timezone.localdate()
    later = (Membership.objects.active_from(end).filter(person=membership.person_id)
             .exclude(pk=membership.pk))
    if later.filter(team=team).exists():
        return
    moving = later.filter(team__kind__in=CRITICAL_TEAMS).exists()
    open_checklist(actor=actor, person=membership.person, team=team,
                   trigger=ChecklistTrigger.TRANSFER if moving
                   else ChecklistTrigger.MEMBERSHIP_ENDED, membership=membership)


@receiver(post_save, sender=Membership, dispatch_uid="privileged.checklist.transfer")
def _on_membership_started(sender: Any, instance: Membership, created: bool,
                           raw: bool = False, **kwargs: Any) -> None:
    """A person who left a critical team starts in another (SP 9.1.2 lets them join only
    once the old membership has ended, so this comes after the checklist opened): the
    leaving becomes a transfer, and only steps 1-2 are asked (SM 9.1.7). Steps 3-5
    already done keep their evidence; the others are no longer asked. Runs inside
    people.services.add_member's transaction."""
    if raw or not created or instance.team.kind not in CRITICAL_TEAMS:
        return
    for checklist in (TerminationChecklist.objects.select_for_update()
                      .filter(person=instance.person_id, status=ChecklistStatus.OPEN,
                              trigger=ChecklistTrigger.MEMBERSHIP_ENDED,
                              team__kind__in=CRITICAL_TEAMS)
                      .exclude(team=instance.team_id).select_related("person", "team")):
        dropped = list(checklist.steps.filter(done_at__isnull=True)
                       .exclude(number__in=TRANSFER_STEPS).values_list("number", flat=True))
        checklist.steps.filter(number__in=dropped).delete()
        checklist.trigger = ChecklistTrigger.TRANSFER
        checklist.save(update_fields=["trigger"])
        record("privileged.checklist.transfer", actor=None, authority=resolve_authority(SECTION),
               subject=checklist, actor_label="secman (the person joined another team)",
               details={"person": checklist.person.name, "from_team": checklist.team.name,
                        "to_team": instance.team.name, "steps_no_longer_asked": dropped})


@receiver(signals.list_entry_removed, dispatch_uid="privileged.checklist.left_list")
def _on_list_entry_removed(sender: Any, entry: ListEntry, proposal: Any,
                           actor: Person | None, **kwargs: Any) -> None:
    """The Board approved a removal from a list: the list's manager team follows up."""
    open_checklist(actor=actor, person=entry.person, team=entry.access_list.manager,
                   trigger=ChecklistTrigger.LEFT_LIST, list_entry=entry)


# --- steps and closing ------------------------------------------------------------------------


def _open_step(step: ChecklistStep) -> ChecklistStep:
    """The step locked for update, refused when it or its checklist is done."""
    locked = ChecklistStep.objects.select_for_update().select_related(
        "checklist__person", "checklist__team").get(pk=step.pk)
    if locked.checklist.status != ChecklistStatus.OPEN:
        raise RuleViolation("this checklist is closed", field="step", section=SECTION)
    if locked.done_at is not None:
        raise RuleViolation(f"step {locked.number} was done on {locked.done_at:%Y-%m-%d}",
                            field="step", section=SECTION)
    return locked


def _keys_blocked(person: Person) -> None:
    unblocked = list(SshKey.objects.filter(person=person, blocked_at__isnull=True)
                     .values_list("fingerprint", flat=True))
    if unblocked:
        raise RuleViolation(f"{person} still has unblocked SSH keys ({', '.join(unblocked)}): "
                            "a Systems Administrator blocks them first", field="step",
                            section=SECTION)


def complete_step(*, actor: Person | None, step: ChecklistStep, evidence: str) -> ChecklistStep:
    """Record a step as done, with its evidence (what was done, where it is recorded).
    Step 1 also needs every key of the person blocked in the register."""
    _require(actor is None or may_complete_steps(actor, step.checklist),
             "a checklist's steps are completed by the team's leader or a Systems "
             "Administrator")
    evidence = evidence.strip()
    if not evidence:
        raise RuleViolation("give the evidence that the step is done", field="evidence",
                            section=SECTION)
    check_text(ChecklistStep, {"evidence": evidence})
    with transaction.atomic():
        locked = _open_step(step)
        if locked.number == KEYS_STEP:
            _keys_blocked(locked.checklist.person)
        locked.done_at, locked.done_by, locked.evidence = timezone.now(), actor, evidence
        locked.save(update_fields=["done_at", "done_by", "evidence"])
        record("privileged.checklist.step", actor=actor, authority=resolve_authority(SECTION),
               subject=locked.checklist, actor_label=_label(actor),
               details={"person": locked.checklist.person.name, "step": locked.number,
                        "what": CHECKLIST_STEPS[locked.number], "evidence": evidence})
    return locked


def keys_gone_from_reports(step: ChecklistStep) -> tuple[list[int], list[str]]:
    """Step 1's evidence from the host agents: (the reports that show none of the
    person's keys, the problems). Each reporting system's newest report must have been
    received after the checklist opened and must list no fingerprint of the person's
    keys (blocked or not)."""
    checklist = step.checklist
    fingerprints = set(SshKey.objects.filter(person=checklist.person)
                       .values_list("fingerprint", flat=True))
    facts = newest_facts()
    from secman.systems.models import System

    names = dict(System.objects.filter(pk__in=facts).values_list("pk", "name"))
    reports: list[int] = []
    problems: list[str] = []
    if not facts:
        problems.append("no system has an agent report")
    for system_id, fact in sorted(facts.items(), key=lambda item: names[item[0]]):
        name = names[system_id]
        if fact.received_at <= checklist.opened_at:
            problems.append(f"{name} has not reported since the checklist opened")
        elif fact.authorized_keys is None:
            problems.append(f"{name}'s agent could not read the authorized_keys")
        elif present := sorted({k.get("fingerprint", "") for k in fact.authorized_keys}
                               & fingerprints):
            problems.append(f"{name} still has {', '.join(present)}")
        else:
            reports.append(fact.report_id)
    return reports, problems


def complete_keys_step_from_reports(*, actor: Person | None,
                                    step: ChecklistStep) -> ChecklistStep:
    """Step 1 with the agents' next reports as its evidence (SM 9.1.7: "SSH public keys
    of that person are blocked"; the reports show them gone). Refused, naming the
    systems, while a key is still present or a system has not reported since."""
    _require(actor is None or may_complete_steps(actor, step.checklist),
             "a checklist's steps are completed by the team's leader or a Systems "
             "Administrator")
    if step.number != KEYS_STEP:
        raise RuleViolation("only step 1 (the SSH keys) is evidenced by the agent reports",
                            field="step", section=SECTION)
    with transaction.atomic():
        locked = _open_step(step)
        _keys_blocked(locked.checklist.person)
        reports, problems = keys_gone_from_reports(locked)
        if problems:
            raise RuleViolation("the agent reports do not show the keys gone yet: "
                                + "; ".join(problems), field="step", section=SECTION)
        evidence = (f"The agent reports received after the checklist opened "
                    f"({len(reports)} system{'s' if len(reports) != 1 else ''}) show none "
                    f"of {locked.checklist.person}'s SSH keys.")
        locked.done_at, locked.done_by, locked.evidence = timezone.now(), actor, evidence
        locked.save(update_fields=["done_at", "done_by", "evidence"])
        locked.reports.set(reports)
        record("privileged.checklist.step", actor=actor, authority=resolve_authority(SECTION),
               subject=locked.checklist, actor_label=_label(actor),
               details={"person": locked.checklist.person.name, "step": locked.number,
                        "what": CHECKLIST_STEPS[locked.number], "evidence": evidence,
                        "agent_reports": reports})
    return locked


def close_checklist(*, actor: Person | None, checklist: TerminationChecklist,
                    authority: AuthorityLike = SECTION) -> TerminationChecklist:
    """The team leader closes the checklist once every step is done; it leaves Today."""
    _require(actor is None or may_close(actor, checklist),
             f"the checklist is closed by the {checklist.team} team leader")
    with transaction.atomic():
        locked = TerminationChecklist.objects.select_for_update().select_related(
            "person", "team").get(pk=checklist.pk)
        if locked.status != ChecklistStatus.OPEN:
            raise RuleViolation("this checklist is already closed", field="checklist",
                                section=SECTION)
        undone = list(locked.steps.filter(done_at__isnull=True)
                      .values_list("number", flat=True))
        if undone:
            raise RuleViolation("steps not done yet: " + ", ".join(map(str, undone)),
                                field="checklist", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.status, locked.closed_at, locked.closed_by = (
            ChecklistStatus.CLOSED, timezone.now(), actor)
        locked.save(update_fields=["status", "closed_at", "closed_by"])
        record("privileged.checklist.close", actor=actor, authority=authority_row,
               subject=locked, actor_label=_label(actor),
               details={"person": locked.person.name, "team": locked.team.name})
    return locked


def open_for_leader(person: Person | None) -> list[TerminationChecklist]:
    """The open checklists of the teams this person leads: their Today shows them."""
    if person is None:
        return []
    teams = Membership.objects.active().filter(person=person, is_leader=True).values("team")
    return list(TerminationChecklist.objects.filter(status=ChecklistStatus.OPEN,
                                                    team__in=teams)
                .select_related("person", "team").prefetch_related("steps"))

