"""The register of privileged secrets (SM 4.1.1, 9.1.7 steps 2-3): what each secret is,
where it is used, who knows it and when it was changed. NEVER a value: the model has no
field for one, and input that carries one (a `value`, `password`, ... field, or a name
that reads like "password=...") is refused without being stored or echoed.

SM 4.1.1: privileged passwords "should be changed on authorized user turnover or
suspected compromise. Changes should be logged to the Event Log." A secret is due when
someone who knew it stopped (their holding ended, they left the Systems Administrators
or the Console Access List) or a system it is used on is suspected compromised, and it
was not rotated since."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.controls import Finding
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import check_text
from secman.eventlog.models import Event, RetentionClass
from secman.eventlog.services import record
from secman.people.choices import ListKind
from secman.people.models import AccessList, ListEntry, Membership, Person
from secman.people.selectors import list_members
from secman.privileged.choices import RotationReason, SecretKind, SecretWeight
from secman.privileged.models import Secret, SecretHolder, SecretRotation
from secman.privileged.selectors import may_keep_register
from secman.systems.models import System

SECTION = "SM 4.1.1"
CLI = "secman command line"
COMPROMISED = "privileged.system.compromised"
SYSTEM_LABEL = System._meta.label_lower
# Input names that would carry a secret's value: refused wherever they come from.
VALUE_FIELDS = frozenset({"value", "password", "passwd", "passphrase", "secret",
                          "plaintext", "private_key", "key_material", "pin", "new_value"})
# Text that reads like a value given by mistake: "password=hunter2", a PEM block.
VALUE_RE = re.compile(r"-----BEGIN|\b(pass(word|wd|phrase)?|pwd|secret|pin)\s*[:=]\s*\S",
                      re.IGNORECASE)
NAME_MAX = 120


def secret_url(secret: Secret) -> str:
    return reverse("privileged:secret", args=[secret.pk])


def refuse_values(data: Mapping[str, Any]) -> None:
    """Refuse input that carries a value field; the value is not echoed."""
    found = sorted(k for k in data if str(k).lower() in VALUE_FIELDS)
    if found:
        raise RuleViolation(f"secman never keeps a secret's value: leave out {found[0]!r}",
                            field=str(found[0]), section=SECTION)


def _no_value_in(field: str, text: str) -> None:
    if VALUE_RE.search(text):
        raise RuleViolation("this reads like a secret's value: secman keeps what a secret "
                            "is and where it is used, never the value", field=field,
                            section=SECTION)


def _require_keeper(actor: Person | None, what: str) -> None:
    if actor is not None and not may_keep_register(actor):
        raise NotAllowed(f"{what} is for Systems Administrators (SM 4.1.1: they generate "
                         "privileged passwords)", section=SECTION)


def _one_line(text: str, field: str, limit: int = 300, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise RuleViolation(f"give the {field.replace('_', ' ')}", field=field,
                            section=SECTION)
    if len(text) > limit or "\n" in text or "\r" in text:
        raise RuleViolation(f"the {field.replace('_', ' ')} is one line of at most {limit} "
                            "characters", field=field, section=SECTION)
    return text


def console_list() -> AccessList:
    return AccessList.objects.get(kind=ListKind.CONSOLE_ACCESS)


def on_console_list() -> set[int]:
    """The ids of everyone on the Console Access List now."""
    return {person.pk for person, _ in list_members(console_list())}


# --- services --------------------------------------------------------------------------------


def register_secret(*, actor: Person | None, name: str, kind: str, authority: AuthorityLike,
                    weight: str = SecretWeight.MAJOR, systems: Iterable[System] = (),
                    where_used: str = "") -> Secret:
    """Register a secret: its name, kind, weight and where it is used. Not its value."""
    _require_keeper(actor, "registering a secret")
    name = _one_line(name, "name", NAME_MAX)
    _no_value_in("name", name)
    if kind not in SecretKind.values:
        raise RuleViolation(f"the kind is one of {', '.join(SecretKind.values)}",
                            field="kind", section=SECTION)
    if weight not in SecretWeight.values:
        raise RuleViolation("the weight is major (root passwords, server SSH keys) or minor "
                            "(database passwords)", field="weight", section="SM 9.1.7")
    where_used = _one_line(where_used, "where_used", 300, required=False)
    _no_value_in("where_used", where_used)
    check_text(Secret, {"name": name, "where_used": where_used})
    used_on = list(systems)
    if Secret.objects.filter(name__iexact=name).exists():
        raise RuleViolation(f"a secret is called {name!r} already", field="name",
                            section=SECTION)
    try:
        with transaction.atomic():
            authority_row = resolve_authority(authority)
            secret = Secret.objects.create(name=name, kind=kind, weight=weight,
                                           where_used=where_used, created_by=actor,
                                           authority=authority_row)
            secret.systems.set(used_on)
            record("privileged.secret.add", actor=actor, authority=authority_row,
                   subject=secret, retention_class=RetentionClass.CONFIGURATION,
                   actor_label="" if actor else CLI,
                   details={"name": name, "kind": kind, "weight": weight,
                            "systems": sorted(s.name for s in used_on),
                            "where_used": where_used})
    except IntegrityError:
        raise RuleViolation(f"a secret called {name!r} was registered meanwhile",
                            field="name", section=SECTION) from None
    return secret


def add_holder(*, actor: Person | None, secret: Secret, person: Person,
               authority: AuthorityLike) -> SecretHolder:
    """Record that `person` knows `secret` from now. A root password is known only to
    those on the Console Access List (SM 4.1.1)."""
    _require_keeper(actor, "recording who knows a secret")
    if secret.kind == SecretKind.ROOT_PASSWORD and person.pk not in on_console_list():
        raise RuleViolation(f"{person} is not on the Console Access List: root passwords are "
                            "known only to those on it", field="person", section=SECTION)
    if SecretHolder.objects.filter(secret=secret, person=person, until__isnull=True).exists():
        raise RuleViolation(f"{person} knows {secret} already", field="person",
                            section=SECTION)
    try:
        with transaction.atomic():
            authority_row = resolve_authority(authority)
            holding = SecretHolder.objects.create(secret=secret, person=person,
                                                  added_by=actor, authority=authority_row)
            record("privileged.secret.holder_add", actor=actor, authority=authority_row,
                   subject=secret, retention_class=RetentionClass.CONFIGURATION,
                   actor_label="" if actor else CLI,
                   details={"name": secret.name, "person": person.name})
    except IntegrityError:
        raise RuleViolation(f"{person} was recorded as knowing {secret} meanwhile",
                            field="person", section=SECTION) from None
    return holding


def end_holding(*, actor: Person | None, holding: SecretHolder, reason: str,
                authority: AuthorityLike) -> SecretHolder:
    """The person no longer should know the secret (left, moved team): from now the
    secret is due for rotation until it is rotated (SM 4.1.1 "authorized user
    turnover")."""
    _require_keeper(actor, "ending a holding")
    reason = _one_line(reason, "reason")
    _no_value_in("reason", reason)
    with transaction.atomic():
        locked = SecretHolder.objects.select_for_update().select_related(
            "secret", "person").get(pk=holding.pk)
        if locked.until is not None:
            raise RuleViolation(f"this holding ended on {locked.until:%Y-%m-%d}",
                                field="holding", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.until = timezone.now()
        locked.save(update_fields=["until"])
        record("privileged.secret.holder_end", actor=actor, authority=authority_row,
               subject=locked.secret, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else CLI,
               details={"name": locked.secret.name, "person": locked.person.name,
                        "reason": reason})
    return locked


def rotate_secret(*, actor: Person | None, secret: Secret, reason: str,
                  authority: AuthorityLike, note: str = "") -> SecretRotation:
    """Record that the secret was changed now (SM 4.1.1: "Changes should be logged to the
    Event Log"). The new value is nowhere in secman."""
    _require_keeper(actor, "recording a rotation")
    if reason not in RotationReason.values:
        raise RuleViolation(f"the reason is one of {', '.join(RotationReason.values)}",
                            field="reason", section=SECTION)
    note = _one_line(note, "note", required=False)
    _no_value_in("note", note)
    with transaction.atomic():
        locked = Secret.objects.select_for_update().get(pk=secret.pk)
        if locked.retired_at is not None:
            raise RuleViolation(f"{locked} is retired", field="secret", section=SECTION)
        authority_row = resolve_authority(authority)
        now = timezone.now()
        rotation = SecretRotation.objects.create(secret=locked, rotated_at=now,
                                                 rotated_by=actor, reason=reason, note=note,
                                                 authority=authority_row)
        locked.last_rotated_at = now
        locked.save(update_fields=["last_rotated_at"])
        record("privileged.secret.rotate", actor=actor, authority=authority_row,
               subject=locked, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else CLI,
               details={"name": locked.name, "reason": reason, "note": note})
    secret.last_rotated_at = now
    return rotation


def retire_secret(*, actor: Person | None, secret: Secret, reason: str,
                  authority: AuthorityLike) -> Secret:
    """The secret is no longer used anywhere (its system retired, the service replaced):
    from now it is never due. Its rotations and holders are kept; it is not deleted."""
    _require_keeper(actor, "retiring a secret")
    reason = _one_line(reason, "reason")
    _no_value_in("reason", reason)
    with transaction.atomic():
        locked = Secret.objects.select_for_update().get(pk=secret.pk)
        if locked.retired_at is not None:
            raise RuleViolation(f"{locked} was retired on {locked.retired_at:%Y-%m-%d}",
                                field="secret", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.retired_at, locked.retired_by, locked.retire_reason = (
            timezone.now(), actor, reason)
        locked.save(update_fields=["retired_at", "retired_by", "retire_reason"])
        record("privileged.secret.retire", actor=actor, authority=authority_row,
               subject=locked, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else CLI,
               details={"name": locked.name, "reason": reason})
    return locked


def mark_compromised(*, actor: Person | None, system: System, reason: str,
                     authority: AuthorityLike) -> Event:
    """A suspected compromise of `system`: every secret used there is due until it is
    rotated. The mark is this Event Log entry; a rotation after it clears it."""
    _require_keeper(actor, "marking a system as suspected compromised")
    reason = _one_line(reason, "reason")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        return record(COMPROMISED, actor=actor, authority=authority_row, subject=system,
                      retention_class=RetentionClass.CONFIGURATION,
                      actor_label="" if actor else CLI,
                      details={"system": system.name, "reason": reason,
                               "now_due": sorted(system.secrets.filter(
                                   retired_at__isnull=True).values_list("name", flat=True))})


# --- what is due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Why a secret is due for rotation: since when, and who or what made it due."""

    since: dt.datetime
    why: str
    who: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _left_sysadmins(people: set[int]) -> dict[int, dt.datetime]:
    """Of these people, those who held a Systems Administrator role and hold none now:
    when their last one ended."""
    active = set(Membership.objects.active().filter(
        person_id__in=people, role=Role.SYSTEMS_ADMINISTRATOR).values_list("person_id",
                                                                            flat=True))
    left: dict[int, dt.datetime] = {}
    for person_id, end in Membership.objects.filter(
            person_id__in=people - active, role=Role.SYSTEMS_ADMINISTRATOR,
            end__isnull=False).values_list("person_id", "end"):
        if end is None:
            continue
        moment = _day_start(end)
        if moment <= timezone.now() and (person_id not in left or moment > left[person_id]):
            left[person_id] = moment
    return left


def _left_console_list(people: set[int], on_list: set[int]) -> dict[int, dt.datetime]:
    left: dict[int, dt.datetime] = {}
    for person_id, removed in ListEntry.objects.filter(
            access_list__kind=ListKind.CONSOLE_ACCESS, person_id__in=people - on_list,
            removed_at__isnull=False).values_list("person_id", "removed_at"):
        if removed is not None and (person_id not in left or removed > left[person_id]):
            left[person_id] = removed
    return left


def due_secrets(secrets: Iterable[Secret] | None = None) -> dict[int, list[Due]]:
    """For each secret not retired (of `secrets`, or all): why it is due, empty when not.
    A retired secret is never due."""
    chosen = Secret.objects.filter(retired_at__isnull=True)
    if secrets is not None:
        chosen = chosen.filter(pk__in=[s.pk for s in secrets])
    rows = {s.pk: s for s in chosen.prefetch_related("systems")}
    holdings = list(SecretHolder.objects.filter(secret_id__in=rows).select_related("person"))
    live_people = {h.person_id for h in holdings if h.until is None}
    left_role = _left_sysadmins(live_people)
    on_list = on_console_list()
    left_list = _left_console_list(live_people, on_list)
    compromises: dict[str, list[tuple[dt.datetime, str]]] = {}
    system_ids = {str(sys.pk) for s in rows.values() for sys in s.systems.all()}
    for subject_id, recorded, details in Event.objects.filter(
            action=COMPROMISED, subject_type=SYSTEM_LABEL,
            subject_id__in=system_ids).values_list("subject_id", "recorded_at", "details"):
        compromises.setdefault(subject_id, []).append((recorded, str(details.get("reason",
                                                                                 ""))))
    due: dict[int, list[Due]] = {pk: [] for pk in rows}

    def stale(secret: Secret, moment: dt.datetime) -> bool:
        return secret.last_rotated_at is None or secret.last_rotated_at < moment

    for holding in holdings:
        secret = rows[holding.secret_id]
        name = holding.person.name
        if holding.until is not None:
            if stale(secret, holding.until):
                due[secret.pk].append(Due(holding.until, f"{name} stopped knowing it on "
                                          f"{holding.until:%Y-%m-%d}", name))
            continue
        if holding.person_id in left_role and stale(secret, left_role[holding.person_id]):
            moment = left_role[holding.person_id]
            due[secret.pk].append(Due(moment, f"{name} left the Systems Administrators on "
                                      f"{moment:%Y-%m-%d}", name))
        if holding.person_id in left_list and stale(secret, left_list[holding.person_id]):
            moment = left_list[holding.person_id]
            due[secret.pk].append(Due(moment, f"{name} left the Console Access List on "
                                      f"{moment:%Y-%m-%d}", name))
    for secret in rows.values():
        for system in secret.systems.all():
            for recorded, reason in compromises.get(str(system.pk), []):
                if stale(secret, recorded):
                    due[secret.pk].append(Due(recorded, f"{system} suspected compromised on "
                                              f"{recorded:%Y-%m-%d}: {reason}", str(system)))
    for reasons in due.values():
        reasons.sort(key=lambda d: d.since)
    return due


def live_holders(secret: Secret) -> QuerySet[SecretHolder]:
    return secret.holders.filter(until__isnull=True).select_related("person")


# --- controls (SM 4.1.1) ---------------------------------------------------------------------


def secrets_rotated() -> list[Finding]:
    """A secret is rotated after every turnover of those who know it and every suspected
    compromise of a system it is used on."""
    names = {s.pk: s for s in Secret.objects.filter(retired_at__isnull=True)}
    return [Finding(SECTION, f"{names[pk]} is due for rotation: {d.why}, and it was not "
                    "changed since", secret_url(names[pk]),
                    subject=f"secret:{pk}:{d.who}")
            for pk, reasons in due_secrets().items() for d in reasons]


def root_password_holders() -> list[Finding]:
    """Those who know a root password are on the Console Access List."""
    on_list = on_console_list()
    return [Finding(SECTION, f"{h.person} knows {h.secret} but is not on the Console Access "
                    "List", secret_url(h.secret), subject=f"holding:{h.pk}")
            for h in SecretHolder.objects.filter(
                until__isnull=True, secret__kind=SecretKind.ROOT_PASSWORD,
                secret__retired_at__isnull=True).select_related("person", "secret")
            if h.person_id not in on_list]


def secret_row(secret: Secret, due: list[Due] | None = None) -> dict[str, Any]:
    return {"id": secret.pk, "name": secret.name, "kind": secret.kind,
            "weight": secret.weight, "systems": sorted(s.name for s in secret.systems.all()),
            "where_used": secret.where_used,
            "last_rotated_at": secret.last_rotated_at.isoformat()
            if secret.last_rotated_at else None,
            "holders": [h.person.name for h in secret.holders.all() if h.until is None],
            "due": [d.why for d in (due or [])]}
