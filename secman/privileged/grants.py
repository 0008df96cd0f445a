"""Temporary grants (SP 4.1.1.1): the Systems Administration team leader "may temporarily
permit Software Assessors access to the application via SSH in order to do advanced
debugging, or as specifically directed by the Arbitrator".

A grant always has an end. Expiry needs no job: a grant past its end is simply not active
(`active_grants` asks the time). What the machines still hold is the control's business:
the grantee's key found on the system after the grant ended is a violation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.controls import Finding, Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any
from secman.privileged.models import AccessRemoval, SshKey, TemporaryGrant
from secman.privileged.selectors import may_grant_temporary_access, newest_facts
from secman.systems.choices import SystemStatus
from secman.systems.models import System

SECTION = "SP 4.1.1.1"
# SP 4.1.1.1 permits access "temporarily" for advanced debugging. A month is the longest
# such task secman accepts: access needed for longer is standing access, which belongs on
# the SSH Access List by the Board's approval (SP 3.4.2), not on a team leader's grant.
MAX_GRANT = dt.timedelta(days=30)


def grants_url() -> str:
    return reverse("privileged:grants")


def active_grants(at: dt.datetime | None = None) -> QuerySet[TemporaryGrant]:
    """The grants in effect at `at` (now): started, not ended, not revoked."""
    moment = at or timezone.now()
    return TemporaryGrant.objects.filter(revoked_at__isnull=True, starts_at__lte=moment,
                                         ends_at__gt=moment)


def is_active(grant: TemporaryGrant, at: dt.datetime | None = None) -> bool:
    moment = at or timezone.now()
    return grant.revoked_at is None and grant.starts_at <= moment < grant.ends_at


def ended_at(grant: TemporaryGrant) -> dt.datetime:
    """When the grant stopped: revoked, or its end."""
    return min(grant.revoked_at, grant.ends_at) if grant.revoked_at else grant.ends_at


def state(grant: TemporaryGrant, at: dt.datetime | None = None) -> str:
    moment = at or timezone.now()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.ends_at <= moment:
        return "expired"
    return "active" if grant.starts_at <= moment else "future"


def _check(actor: Person, person: Person, system: System, reason: str,
           starts_at: dt.datetime, ends_at: dt.datetime | None, *,
           running: bool = True) -> str:
    if not may_grant_temporary_access(actor):
        raise NotAllowed("temporary access is granted by the Systems Administration team "
                         "leader, or as the Arbitrator directs", section=SECTION)
    if not holds_any(person, Role.SOFTWARE_ASSESSOR):
        raise RuleViolation(f"{person} is not a Software Assessor: temporary SSH access is "
                            "granted to Software Assessors only", field="person",
                            section=SECTION)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("say why access is needed (advanced debugging, the Arbitrator's "
                            "direction, ...)", field="reason", section=SECTION)
    check_text(TemporaryGrant, {"reason": reason})
    if system.status == SystemStatus.RETIRED:
        raise RuleViolation(f"{system} is retired", field="system", section=SECTION)
    if ends_at is None:
        raise RuleViolation("a temporary grant has an end: give it", field="ends_at",
                            section=SECTION)
    if running and ends_at <= timezone.now():
        raise RuleViolation("the end is in the past: a grant that already ended is recorded "
                            "as a past grant", field="ends_at", section=SECTION)
    if ends_at <= starts_at:
        raise RuleViolation("the end is after the start", field="ends_at", section=SECTION)
    if ends_at - starts_at > MAX_GRANT:
        raise RuleViolation(f"a temporary grant lasts at most {MAX_GRANT.days} days: longer "
                            "access is standing access, for the SSH Access List (SP 3.4.2)",
                            field="ends_at", section=SECTION)
    return reason


def grant_access(*, actor: Person, person: Person, system: System, reason: str,
                 ends_at: dt.datetime | None, authority: AuthorityLike,
                 starts_at: dt.datetime | None = None) -> TemporaryGrant:
    """Grant a Software Assessor SSH access to `system` until `ends_at` (now, or from a
    later `starts_at`). The granter is a person: the team leader or the Arbitrator."""
    now = timezone.now()
    starts = starts_at or now
    reason = _check(actor, person, system, reason, starts, ends_at)
    assert ends_at is not None
    if starts < now - dt.timedelta(minutes=5):
        raise RuleViolation("a grant starts now or later; one already given is recorded "
                            "as a past grant", field="starts_at", section=SECTION)
    return _create(actor, person, system, reason, starts, ends_at, authority,
                   "privileged.grant.add")


def record_past_grant(*, actor: Person, person: Person, system: System, reason: str,
                      starts_at: dt.datetime, ends_at: dt.datetime,
                      authority: AuthorityLike) -> TemporaryGrant:
    """Record a grant given outside secman that has already ended (the team leader's mail
    of last month), so its end is checked against what the systems hold. Same rules as a
    grant, the same granter, an end in the past."""
    reason = _check(actor, person, system, reason, starts_at, ends_at, running=False)
    if ends_at > timezone.now():
        raise RuleViolation("a past grant has ended: a grant still running is granted, not "
                            "recorded", field="ends_at", section=SECTION)
    return _create(actor, person, system, reason, starts_at, ends_at, authority,
                   "privileged.grant.record_past")


def _create(actor: Person, person: Person, system: System, reason: str,
            starts_at: dt.datetime, ends_at: dt.datetime, authority: AuthorityLike,
            action: str) -> TemporaryGrant:
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        grant = TemporaryGrant.objects.create(
            person=person, system=system, reason=reason, granted_by=actor,
            authority=authority_row, starts_at=starts_at, ends_at=ends_at)
        record(action, actor=actor, authority=authority_row, subject=grant,
               retention_class=RetentionClass.CONFIGURATION,
               details={"person": person.name, "system": system.name, "reason": reason,
                        "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return grant


def revoke_grant(*, actor: Person, grant: TemporaryGrant, reason: str,
                 authority: AuthorityLike,
                 removal: AccessRemoval | None = None) -> TemporaryGrant:
    """End a grant before its end. The grantee's key must then leave the system. The SA
    team leader or the Arbitrator revoke grants; so does whoever removes the grantee's
    access (removals.remove_access, SM 3.4.4), under that `removal`."""
    if removal is None:
        if not may_grant_temporary_access(actor):
            raise NotAllowed("a temporary grant is revoked by the Systems Administration "
                             "team leader or the Arbitrator", section=SECTION)
    elif (actor is None or removal.removed_by_id != actor.pk
          or removal.person_id != grant.person_id):
        raise NotAllowed("a grant is revoked under a removal of access by whoever removed "
                         "the grantee's access", section="SM 3.4.4")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("say why the grant is revoked", field="reason", section=SECTION)
    if len(reason) > 300 or "\n" in reason or "\r" in reason:
        raise RuleViolation("the reason is one line of at most 300 characters",
                            field="reason", section=SECTION)
    with transaction.atomic():
        locked = TemporaryGrant.objects.select_for_update().get(pk=grant.pk)
        current = state(locked)
        if current in ("revoked", "expired"):
            raise RuleViolation(f"this grant is {current} already", field="grant",
                                section=SECTION)
        authority_row = resolve_authority(authority)
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        details: dict[str, object] = {"person": locked.person.name,
                                      "system": locked.system.name, "reason": reason}
        if removal is not None:
            details["removal"] = removal.pk
        record("privileged.grant.revoke", actor=actor, authority=authority_row,
               subject=locked, retention_class=RetentionClass.CONFIGURATION,
               details=details)
    return locked


# --- control (SP 4.1.1.1) --------------------------------------------------------------------


def ended_grant_keys_removed() -> list[Finding]:
    """The key of a grantee whose grant ended (expired or revoked) is no longer on the
    system, per its newest agent report. A report received before the end proves
    nothing yet: a warning until the next one."""
    now = timezone.now()
    ended = (TemporaryGrant.objects.filter(Q(revoked_at__isnull=False) | Q(ends_at__lte=now))
             .select_related("person", "system").order_by("starts_at", "id"))
    # The newest ended grant of each person on each system; none while a grant is active.
    latest: dict[tuple[int, int], TemporaryGrant] = {}
    for grant in ended:
        latest[(grant.person_id, grant.system_id)] = grant
    if not latest:
        return []
    running = set(active_grants(now).values_list("person_id", "system_id"))
    pairs = {pair: g for pair, g in latest.items() if pair not in running}
    keys: dict[int, dict[str, SshKey]] = {}
    for key in SshKey.objects.filter(person_id__in={p for p, _ in pairs}):
        keys.setdefault(key.person_id, {})[key.fingerprint] = key
    facts = newest_facts(System.objects.filter(pk__in={s for _, s in pairs}))
    findings = []
    for (person_id, system_id), grant in pairs.items():
        report = facts.get(system_id)
        if report is None or not report.authorized_keys:
            continue
        present = {str(k.get("fingerprint", "")) for k in report.authorized_keys}
        for fingerprint in sorted(present & set(keys.get(person_id, {}))):
            stop = ended_at(grant)
            how = "revoked" if grant.revoked_at else "expired"
            after = report.received_at >= stop
            findings.append(Finding(
                SECTION, f"{grant.person}'s key {fingerprint} is still on {grant.system}: "
                f"their temporary grant {how} {stop:%Y-%m-%d %H:%M}"
                + ("" if after else " and no agent report came since"),
                f"{grants_url()}#grant-{grant.pk}",
                status=Status.VIOLATED if after else Status.WARNING,
                subject=f"grant:{grant.pk}"))
    return findings


def grant_row(grant: TemporaryGrant) -> dict[str, Any]:
    return {"id": grant.pk, "person": grant.person.name, "system": grant.system.name,
            "reason": grant.reason, "granted_by": grant.granted_by.name,
            "authority": str(grant.authority), "starts_at": grant.starts_at.isoformat(),
            "ends_at": grant.ends_at.isoformat(),
            "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
            "state": state(grant)}
