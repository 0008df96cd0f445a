"""Accounts on each system and the admin origins (SM 3.4.3, 4.1.1): the services that
register and remove accounts, and add and end the places administrators may come from.

SM 3.4.3: "Access to critical systems is via SSH to the hop machine ... and from there
to the critical server(s)", with "personal named accounts, one per sysadmin". SM 4.1.1:
root and the other privileged accounts "should be configured as to not permit login".
The checks (secman.privileged.checks) compare these rows with the agents' reports."""

from __future__ import annotations

import ipaddress
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.privileged.choices import AccountKind
from secman.privileged.models import Account, AdminOrigin
from secman.privileged.selectors import may_keep_register
from secman.systems.choices import SystemStatus
from secman.systems.models import System

SECTION = "SM 3.4.3"
# What useradd takes (Debian's default NAME_REGEX, with upper case refused).
USERNAME_RE = re.compile(r"[a-z_][a-z0-9_-]{0,30}\$?")


def _require_keeper(actor: Person | None, what: str) -> None:
    # None is the command line, whose operator already controls the server.
    if actor is not None and not may_keep_register(actor):
        raise NotAllowed(f"{what} is for Systems Administrators", section=SECTION)


def _label(actor: Person | None) -> str:
    return "" if actor else "secman command line"


def _live_system(system: System, field: str = "system") -> None:
    if system.status == SystemStatus.RETIRED or system.retired_at is not None:
        raise RuleViolation(f"{system} is retired", field=field, section=SECTION)


def add_account(*, actor: Person | None, system: System, username: str, kind: str,
                authority: AuthorityLike, person: Person | None = None,
                purpose: str = "") -> Account:
    """Register an account on a system: a personal named account belongs to a person
    (one per person and system, SM 3.4.3); a privileged or service account to nobody."""
    _require_keeper(actor, "registering an account")
    username = username.strip()
    if not USERNAME_RE.fullmatch(username):
        raise RuleViolation("a user name is 1-32 characters: lower-case letters, digits, _ "
                            "and -, not starting with a digit or -", field="username",
                            section=SECTION)
    if kind not in AccountKind.values:
        raise RuleViolation(f"the kind is one of {', '.join(AccountKind.values)}",
                            field="kind", section=SECTION)
    if kind == AccountKind.PERSONAL and person is None:
        raise RuleViolation("a personal named account belongs to a person (SM 3.4.3)",
                            field="person", section=SECTION)
    if kind != AccountKind.PERSONAL and person is not None:
        raise RuleViolation(f"a {AccountKind(kind).label.lower()} belongs to nobody; only "
                            "personal accounts name a person", field="person",
                            section="SM 4.1.1")
    _live_system(system)
    purpose = purpose.strip()
    check_text(Account, {"purpose": purpose})
    live = Account.objects.filter(system=system, removed_at__isnull=True)
    if live.filter(username=username).exists():
        raise RuleViolation(f"{system} already has an account {username}", field="username",
                            section=SECTION)
    if kind == AccountKind.PERSONAL:
        own = live.filter(kind=AccountKind.PERSONAL, person=person).first()
        if own is not None:
            raise RuleViolation(f"{person} already has the personal account {own.username} "
                                f"on {system}: one per sysadmin", field="person",
                                section=SECTION)
    try:
        with transaction.atomic():
            authority_row = resolve_authority(authority)
            account = Account.objects.create(
                system=system, username=username, kind=kind, person=person,
                purpose=purpose, created_by=actor, authority=authority_row)
            record("privileged.account.add", actor=actor, authority=authority_row,
                   subject=account, retention_class=RetentionClass.CONFIGURATION,
                   actor_label=_label(actor),
                   details={"system": system.name, "username": username, "kind": kind,
                            "person": person.name if person else "", "purpose": purpose})
    except IntegrityError:  # registered by someone else in the meantime
        raise RuleViolation(f"{username} on {system} was registered meanwhile",
                            field="username", section=SECTION) from None
    return account


def remove_account(*, actor: Person | None, account: Account, reason: str,
                   authority: AuthorityLike) -> Account:
    """The account is gone from the system (or is to go): the register says so. The row
    stays, with who removed it and when."""
    _require_keeper(actor, "removing an account")
    reason = reason.strip()
    if not reason:
        raise RuleViolation("say why the account is removed", field="reason",
                            section=SECTION)
    check_text(Account, {"purpose": reason}, {"purpose": "reason"})
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if locked.removed_at is not None:
            raise RuleViolation(f"{locked} was removed on {locked.removed_at:%Y-%m-%d}",
                                field="account", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.removed_at, locked.removed_by = timezone.now(), actor
        locked.save(update_fields=["removed_at", "removed_by"])
        record("privileged.account.remove", actor=actor, authority=authority_row,
               subject=locked, retention_class=RetentionClass.CONFIGURATION,
               actor_label=_label(actor),
               details={"system": locked.system.name, "username": locked.username,
                        "kind": locked.kind, "reason": reason})
    return locked


def parse_network(text: str) -> str:
    """A CIDR network as ipaddress writes it, or a RuleViolation."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        raise RuleViolation("a network is written in CIDR form with its host bits zero "
                            "(192.0.2.0/28, 2001:db8::/64)", field="network",
                            section=SECTION) from None
    if network.prefixlen == 0:
        raise RuleViolation("the whole Internet is not an admin origin", field="network",
                            section=SECTION)
    return str(network)


def add_origin(*, actor: Person | None, description: str, authority: AuthorityLike,
               system: System | None = None, network: str = "") -> AdminOrigin:
    """Document a place administrators may come from over SSH (SM 3.4.3): a system (the
    hop machine) or a network, not both."""
    _require_keeper(actor, "documenting an admin origin")
    if (system is None) == (not network.strip()):
        raise RuleViolation("an admin origin is a system (the hop machine) or a network, "
                            "one of the two", field="system", section=SECTION)
    description = description.strip()
    if not description:
        raise RuleViolation("describe the origin (what it is, who comes from it)",
                            field="description", section=SECTION)
    check_text(AdminOrigin, {"description": description})
    live = AdminOrigin.objects.filter(ended_at__isnull=True)
    if system is not None:
        _live_system(system)
        if live.filter(system=system).exists():
            raise RuleViolation(f"{system} is already an admin origin", field="system",
                                section=SECTION)
        cidr = ""
    else:
        cidr = parse_network(network)
        if live.filter(network=cidr).exists():
            raise RuleViolation(f"{cidr} is already an admin origin", field="network",
                                section=SECTION)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        origin = AdminOrigin.objects.create(system=system, network=cidr,
                                            description=description, added_by=actor,
                                            authority=authority_row)
        record("privileged.origin.add", actor=actor, authority=authority_row, subject=origin,
               retention_class=RetentionClass.CONFIGURATION, actor_label=_label(actor),
               details={"system": system.name if system else "", "network": cidr,
                        "description": description})
    return origin


def end_origin(*, actor: Person | None, origin: AdminOrigin, reason: str,
               authority: AuthorityLike) -> AdminOrigin:
    """Administrators no longer come from there: an SSH flow from it becomes a finding."""
    _require_keeper(actor, "ending an admin origin")
    reason = reason.strip()
    if not reason:
        raise RuleViolation("say why the origin ends", field="reason", section=SECTION)
    check_text(AdminOrigin, {"description": reason}, {"description": "reason"})
    with transaction.atomic():
        locked = AdminOrigin.objects.select_for_update().get(pk=origin.pk)
        if locked.ended_at is not None:
            raise RuleViolation(f"this origin ended on {locked.ended_at:%Y-%m-%d}",
                                field="origin", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at"])
        record("privileged.origin.end", actor=actor, authority=authority_row, subject=locked,
               retention_class=RetentionClass.CONFIGURATION, actor_label=_label(actor),
               details={"origin": str(locked), "reason": reason})
    return locked
