"""Retention (SM 4.2.1): the periods of each class, legal holds (SM 4.4.2) and the purge,
which empties the entries past their period and keeps their leaf hashes, so the chain and
the tree still verify.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from secman.core.authorities import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, holds_any
from secman.core.validation import check_text
from secman.eventlog.models import Event, LegalHold, RetentionClass, RetentionPolicy
from secman.eventlog.services import _locked_head, record


def may_set_retention(person: Any) -> bool:
    """SM 4.2.1: retention periods are set by the Board or Systems Administrators."""
    return holds_any(person, Role.BOARD_MEMBER, Role.SYSTEMS_ADMINISTRATOR)


def may_place_hold(person: Any) -> bool:
    """SM 4.4.2: legal holds are placed by the Arbitrator or a Case Manager."""
    return holds_any(person, Role.ARBITRATOR, Role.CASE_MANAGER)


def may_release_hold(person: Any) -> bool:
    """SM 4.4.2: a legal hold is released by the Arbitrator."""
    return holds_any(person, Role.ARBITRATOR)


def update_retention(*, actor: Any, retention_class: str, minimum_days: int | None,
                     maximum_days: int | None, rule: str, restricted: bool,
                     authority: Any) -> RetentionPolicy:
    if not may_set_retention(actor):
        raise NotAllowed("retention periods are set by the Board or Systems Administrators",
                         section="SM 4.2.1")
    if retention_class not in RetentionClass.values:
        raise RuleViolation(f"{retention_class!r} is not a retention class",
                            field="retention_class")
    if minimum_days is not None and maximum_days is not None and minimum_days > maximum_days:
        raise RuleViolation("the minimum period is longer than the maximum",
                            field="maximum_days")
    if not rule.strip():
        raise RuleViolation("say the period as the manual says it", field="rule")
    check_text(RetentionPolicy, {"rule": rule.strip()})
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        policy = RetentionPolicy.objects.select_for_update().get(retention_class=retention_class)
        before = {"minimum_days": policy.minimum_days, "maximum_days": policy.maximum_days,
                  "rule": policy.rule, "restricted": policy.restricted}
        policy.minimum_days, policy.maximum_days = minimum_days, maximum_days
        policy.rule, policy.restricted = rule.strip(), restricted
        policy.save()
        record("eventlog.retention.update", actor=actor, authority=authority_row,
               subject=policy, retention_class=RetentionClass.CONFIGURATION,
               details={"class": retention_class, "before": before,
                        "after": {"minimum_days": minimum_days, "maximum_days": maximum_days,
                                  "rule": policy.rule, "restricted": restricted}})
    return policy


def place_hold(*, actor: Any, case: Any, retention_class: str = "", action_prefix: str = "",
               subject_type: str = "", subject_id: str = "", since: dt.date | None = None,
               until: dt.date | None = None, preserving_evidence: bool = False) -> LegalHold:
    """SM 4.4.2: the Arbitrator (or Case Manager) keeps matching entries past their
    maximum for the case. `preserving_evidence`: an incident's responder archives the
    related logs under the incident's case (SM 5.4 "any related log data archived"), a
    Systems Administrator's duty that cannot wait for the Arbitrator; releasing the hold
    stays the Arbitrator's."""
    if not may_place_hold(actor) and not (
            preserving_evidence and holds_any(actor, Role.SYSTEMS_ADMINISTRATOR)):
        raise NotAllowed("legal holds are placed by the Arbitrator or Case Manager",
                         section="SM 4.4.2")
    if not any([retention_class, action_prefix, subject_type, since, until]):
        raise RuleViolation("say which entries the hold keeps (class, action, subject or "
                            "dates); a hold on everything is not a hold", field="action_prefix")
    if retention_class and retention_class not in RetentionClass.values:
        raise RuleViolation(f"{retention_class!r} is not a retention class",
                            field="retention_class")
    if subject_id and not subject_type:
        raise RuleViolation("a subject id needs its subject type", field="subject_type")
    if since and until and since > until:
        raise RuleViolation("the hold's period ends before it starts", field="until")
    check_text(LegalHold, {"action_prefix": action_prefix, "subject_type": subject_type,
                           "subject_id": subject_id})
    with transaction.atomic():
        authority_row = resolve_authority(case)
        hold = LegalHold.objects.create(
            case=case, retention_class=retention_class, action_prefix=action_prefix,
            subject_type=subject_type, subject_id=subject_id, since=since, until=until,
            placed_by=actor)
        record("eventlog.hold.place", actor=actor, authority=authority_row, subject=hold,
               retention_class=RetentionClass.INCIDENT,  # kept as long as the case file
               details={"case": case.number, "class": retention_class,
                        "preserving_evidence": preserving_evidence,
                        "action_prefix": action_prefix, "subject_type": subject_type,
                        "subject_id": subject_id, "since": since, "until": until})
    return hold


def release_hold(*, actor: Any, hold: LegalHold) -> LegalHold:
    if not may_release_hold(actor):
        raise NotAllowed("a legal hold is released by the Arbitrator", section="SM 4.4.2")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at:
            raise RuleViolation("this hold was released already")
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at"])
        record("eventlog.hold.release", actor=actor, authority=hold.case.number,
               subject=hold, retention_class=RetentionClass.INCIDENT,
               details={"case": hold.case.number})
    return hold


def _held(queryset: models.QuerySet[Event]) -> models.QuerySet[Event]:
    """Narrow `queryset` to entries some active legal hold keeps."""
    condition = models.Q(pk__in=[])
    for hold in LegalHold.objects.filter(released_at__isnull=True):
        match = models.Q()
        if hold.retention_class:
            match &= models.Q(retention_class=hold.retention_class)
        if hold.action_prefix:
            match &= models.Q(action__startswith=hold.action_prefix)
        if hold.subject_type:
            match &= models.Q(subject_type=hold.subject_type)
        if hold.subject_id:
            match &= models.Q(subject_id=hold.subject_id)
        if hold.since:
            match &= models.Q(recorded_at__date__gte=hold.since)
        if hold.until:
            match &= models.Q(recorded_at__date__lte=hold.until)
        condition |= match
    return queryset.filter(condition)


@dataclass
class PurgeResult:
    purged: dict[str, int]
    held: int
    event: Event | None


def purge(*, actor: Any | None = None, before: dt.datetime | None = None,
          now: dt.datetime | None = None) -> PurgeResult:
    """Empty the entries past their class's maximum (or, with `before`, older than that
    date, which must still respect every class's minimum), keeping their leaf hashes.
    Held entries stay. The purge is itself an entry."""
    now = now or timezone.now()
    policies = {p.retention_class: p for p in RetentionPolicy.objects.all()}
    cutoffs: dict[str, dt.datetime] = {}
    for retention_class, policy in policies.items():
        if before is not None:
            if policy.minimum_days is None or before > now - dt.timedelta(
                    days=policy.minimum_days):
                if Event.objects.filter(retention_class=retention_class,
                                        recorded_at__lt=before,
                                        purged_at__isnull=True).exists():
                    kept = ("indefinitely" if policy.minimum_days is None
                            else f"at least {policy.minimum_days} days")
                    raise RuleViolation(
                        f"{policy.get_retention_class_display()} entries are kept {kept}: "
                        f"purging before {before:%Y-%m-%d} would remove some too early",
                        section="SM 4.2.1")
                continue
            cutoffs[retention_class] = before
        elif policy.maximum_days is not None:
            cutoffs[retention_class] = now - dt.timedelta(days=policy.maximum_days)
    purged: dict[str, int] = {}
    with transaction.atomic():
        _locked_head()
        held_total = 0
        ranges: dict[str, list[int]] = {}
        for retention_class, cutoff in cutoffs.items():
            due = Event.objects.filter(retention_class=retention_class, recorded_at__lt=cutoff,
                                       purged_at__isnull=True)
            held_ids = set(_held(due).values_list("pk", flat=True))
            held_total += len(held_ids)
            ids = [pk for pk in due.values_list("pk", flat=True) if pk not in held_ids]
            if not ids:
                continue
            seqs = list(Event.objects.filter(pk__in=ids).values_list("seq", flat=True))
            ranges[retention_class] = [min(seqs), max(seqs)]
            purged[retention_class] = _empty(ids, now)
        event = None
        if purged or held_total:
            event = record(
                "eventlog.purge", actor=actor, actor_label="" if actor else "retention duty",
                authority="SM 4.2.1", retention_class=RetentionClass.CONFIGURATION,
                details={"purged": purged, "seq_ranges": ranges, "held": held_total,
                         "before": before})
    return PurgeResult(purged, held_total, event)


def _empty(ids: list[int], now: dt.datetime) -> int:
    """The one UPDATE the database triggers allow on entries: payload out, leaf kept.
    (EventQuerySet.update refuses every update, so the purge calls the plain one.)"""
    count = 0
    for start in range(0, len(ids), 500):
        rows = Event.objects.filter(pk__in=ids[start:start + 500], purged_at__isnull=True)
        count += models.QuerySet.update(
            rows, canonical="", details={}, signoffs=[], actor=None, actor_label="",
            subject_type="", subject_id="", subject_label="", authority="", purged_at=now)
    return count

