"""The systems register: the only place that changes it. Every change cites an authority
and is one Event Log entry in the same transaction; the entries are the register's history
(each names the fields it changed, before and after).

Who reads, who writes (docs/systems.md):
- the register is read by Systems Administrators (who run the systems), team leaders
  (SP 3.1.1: the diagrams are kept by the SA team leader; the others plan with it), the
  Board (SP 1.1: it decides which systems are critical), auditors (SP 1.2) and the secman
  administrator (who records on the Board's behalf);
- it is changed by Systems Administrators; a critical system only under a Board decision
  (SP 1.1), which is also what makes a system critical;
- flows (SM 3.1.2) are requested by Systems Administrators and approved or refused only by
  the Systems Administration team leader, never by whoever requested them (SP 3.1.1.2).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from secman.authority.models import Authority
from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.authorities import AuthorityKind
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import check_text, max_length
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, leads
from secman.systems import diagram
from secman.systems.choices import (
    Criticality,
    Direction,
    Encryption,
    FlowStatus,
    Network,
    Protocol,
    SystemKind,
    SystemStatus,
)
from secman.systems.lifecycles import FLOW, SYSTEM
from secman.systems.models import Address, DnsRecord, Flow, System

CONFIGURATION = RetentionClass.CONFIGURATION
CLI = "secman command line"

# --- who may ------------------------------------------------------------------------------


def may_read_register(person: Person | None) -> bool:
    """Systems Administrators, team leaders, the Board, auditors and the administrator:
    the readers of the network diagram, which shows the same addresses and flows."""
    return diagram.may_see_network(person)


def why_not_read_register(person: Person | None) -> NotAllowed | None:
    """The refusal the register's pages and API give a reader who may not see it."""
    if may_read_register(person):
        return None
    return NotAllowed("the systems register is for Systems Administrators, team leaders, "
                      "the Board and auditors", section="SP 3.1.1")


def may_change_register(person: Person | None) -> bool:
    """Add, change, inspect and retire systems; request and end flows (SP 3.2.2: the
    documentation of servers is maintained by the System Administrators)."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def may_decide_flows(person: Person | None) -> bool:
    """SP 3.1.1.2: the Systems Administration team leader approves new connectivity."""
    return leads(person, TeamKind.SYSTEMS_ADMINISTRATION)


def why_not_decide(person: Person | None, flow: Flow) -> NotAllowed | None:
    if not may_decide_flows(person):
        return NotAllowed("flows are approved or refused by the Systems Administration team "
                          "leader", section="SP 3.1.1.2")
    if person is not None and flow.requested_by_id == person.pk:
        return NotAllowed("whoever requested a flow does not decide it: the team leader "
                          "decides the requests of others", section="SP 3.1.1.2")
    return None


def _require_changer(actor: Person | None, what: str) -> None:
    # None is the command line, whose operator already holds the server.
    if actor is not None and not may_change_register(actor):
        raise NotAllowed(f"{what} is done by Systems Administrators", section="SP 3.2.2")


def _label(actor: Person | None) -> str:
    return "" if actor is not None else CLI


def _register_changed(actor: Person | None, reason: str) -> None:
    """Called by every change of a system and every approved flow change, inside its
    transaction: what the register shows has changed, so the network diagram is redrawn
    (SP 3.1.1: "must be updated when any change is made"). After the commit, by secman
    itself: Graphviz takes seconds on a large register and must not hold the change's
    transaction, and a drawing that fails must not undo an approved change (the
    systems.diagram_current control then reports the diagram as stale)."""
    transaction.on_commit(lambda: diagram.redraw_after_change(reason))


# --- authorities ----------------------------------------------------------------------------

def _authority_for(system_is_critical: bool, authority: AuthorityLike, why: str) -> Authority:
    """A critical system is added, changed and retired only by a Board decision (SP 1.1);
    the rest cite any authority."""
    if not system_is_critical:
        return resolve_authority(authority)
    authority_row = resolve_authority(authority)  # refuses what is no authority at all
    if authority_row.kind != AuthorityKind.BOARD_DECISION:
        raise RuleViolation(f"{why} needs a Board decision as its authority, not "
                            f"{authority_row.reference}: a critical system is the Board's",
                            section="SP 1.1", field="authority")
    return authority_row


# --- checking input -------------------------------------------------------------------------

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")
TEXT_FIELDS = ("purpose", "contact", "os_name", "os_release", "build_document",
               "inspection_notes")
LIST_FIELDS = ("monitoring", "running_services", "databases", "applications")
EDITABLE = ("kind", "host", "computer", "criticality", "purpose", "contact", "os_name",
            "os_release", "disk_encryption", "build_document", *LIST_FIELDS)
# Values a form, the API or the command line give as text: the choices they must be.
CHOICES = {"kind": SystemKind, "criticality": Criticality, "disk_encryption": Encryption}


def _check_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise RuleViolation("a system's name is its host name: lower-case letters, digits "
                            "and hyphens, at most 63 characters", field="name")
    return name


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    for key, choices in CHOICES.items():
        if key in cleaned and cleaned[key] not in choices.values:
            raise RuleViolation(f"{key} must be one of {', '.join(choices.values)}", field=key)
    for key in LIST_FIELDS:
        if key in cleaned:
            value = cleaned[key]
            if not isinstance(value, list) or not all(isinstance(v, (str, dict))
                                                      for v in value):
                raise RuleViolation(f"{key} is a list of entries", field=key)
            if len(str(value)) > 20_000:
                raise RuleViolation(f"{key} is too long", field=key)
    check_text(System, {k: v for k, v in cleaned.items() if k in TEXT_FIELDS})
    return cleaned


def _check_placement(kind: str, host: System | None, computer: Any,
                     name: str = "") -> None:
    """A VM or container runs on a host system; a physical machine is a computer of the
    physical register, not a guest."""
    if kind == SystemKind.PHYSICAL and host is not None:
        raise RuleViolation("a physical machine runs on no host", field="host")
    if kind != SystemKind.PHYSICAL and computer is not None:
        raise RuleViolation("only a physical machine is a computer of the physical register",
                            field="computer")
    if kind != SystemKind.PHYSICAL and host is None:
        raise RuleViolation("name the system this VM or container runs on", field="host")
    if host is not None and (host.name == name or host.status == SystemStatus.RETIRED):
        raise RuleViolation(f"{host} cannot host it (itself, or retired)", field="host")


def _check_admins(primary: Person | None, secondary: Person | None) -> None:
    """SP 1.2 redundancy: two distinct Systems Administrators."""
    for slot, person in (("primary_admin", primary), ("secondary_admin", secondary)):
        if person is not None and not holds_any(person, Role.SYSTEMS_ADMINISTRATOR):
            raise RuleViolation(f"{person} is not a Systems Administrator: a system's "
                                "administrators are Systems Administrators",
                                section="SP 1.2", field=slot)
    if primary is not None and secondary is not None and primary.pk == secondary.pk:
        raise RuleViolation("the primary and the secondary administrator are two distinct "
                            "people", section="SP 1.2", field="secondary_admin")


def _shown(value: Any) -> Any:
    """A value as an entry keeps it: records by their name."""
    if value is None or isinstance(value, (str, int, bool, list, dict)):
        return value
    return str(value)


def _live(system: System) -> System:
    """The system as the database holds it now, locked; a retired one no longer changes."""
    current = System.objects.select_for_update().get(pk=system.pk)
    if current.status == SystemStatus.RETIRED:
        raise RuleViolation(f"{current} is retired: its record is kept as it was",
                            section="SP 1.1")
    return current


# --- systems --------------------------------------------------------------------------------


def add_system(*, actor: Person | None, name: str, kind: str, authority: AuthorityLike,
               status: str = SystemStatus.PLANNED, host: System | None = None,
               computer: Any = None, primary_admin: Person | None = None,
               secondary_admin: Person | None = None, source: str = "",
               **fields: Any) -> System:
    """Record a system. A critical one is added by Board decision (SP 1.1): `authority`
    is then that decision, kept as the system's `critical_authority`."""
    _require_changer(actor, "adding a system")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise RuleViolation(f"unknown system fields: {', '.join(sorted(unknown))}")
    name = _check_name(name)
    fields = _check_fields({"kind": kind, **fields})
    kind = fields.pop("kind")
    if status not in SYSTEM.initial:
        raise RuleViolation(f"a system is recorded as {' or '.join(SYSTEM.initial)}",
                            field="status")
    _check_placement(kind, host, computer, name)
    _check_admins(primary_admin, secondary_admin)
    check_text(System, {"source": source})
    if System.objects.filter(name=name).exists():
        raise RuleViolation(f"a system named {name} is already in the register", field="name")
    critical = fields.get("criticality") == Criticality.CRITICAL
    with transaction.atomic():
        authority_row = _authority_for(critical, authority, "adding a critical system")
        system = System.objects.create(
            name=name, kind=kind, status=status, host=host, computer=computer,
            primary_admin=primary_admin, secondary_admin=secondary_admin, source=source,
            critical_authority=authority_row if critical else None, **fields)
        record("systems.system.add", actor=actor, authority=authority_row, subject=system,
               retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": name, "status": status, "kind": kind,
                        "after": {k: _shown(getattr(system, k)) for k in
                                  ("criticality", "host", "computer", "primary_admin",
                                   "secondary_admin", *fields) if getattr(system, k)}})
        _register_changed(actor, f"system {name} added")
    return system


def update_system(*, actor: Person | None, system: System, authority: AuthorityLike,
                  **changes: Any) -> System:
    """Change a system's entry. Making a system critical, or changing a critical one, needs
    a Board decision (SP 1.1)."""
    _require_changer(actor, "changing the register")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise RuleViolation(f"cannot change {', '.join(sorted(unknown))}")
    changes = _check_fields(changes)
    with transaction.atomic():
        current = _live(system)
        changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not changed:
            raise RuleViolation("nothing to change: the values are the ones recorded")
        after_kind = changed.get("kind", current.kind)
        _check_placement(after_kind, changed.get("host", current.host),
                         changed.get("computer", current.computer), current.name)
        critical = (current.criticality == Criticality.CRITICAL
                    or changed.get("criticality") == Criticality.CRITICAL)
        authority_row = _authority_for(critical, authority, "changing a critical system")
        before = {k: _shown(getattr(current, k)) for k in changed}
        for key, value in changed.items():
            setattr(current, key, value)
        if "criticality" in changed:
            current.critical_authority = (authority_row if current.criticality
                                          == Criticality.CRITICAL else None)
        current.save()
        record("systems.system.update", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before,
                        "after": {k: _shown(v) for k, v in changed.items()}})
        _register_changed(actor, f"system {current.name} changed")
    return current


def set_administrators(*, actor: Person | None, system: System, primary: Person | None,
                       secondary: Person | None, authority: AuthorityLike) -> System:
    """Name the primary and secondary administrators: two distinct Systems Administrators
    (SP 1.2); a system with fewer is a finding."""
    _require_changer(actor, "naming a system's administrators")
    _check_admins(primary, secondary)
    with transaction.atomic():
        current = _live(system)
        before = {"primary_admin": _shown(current.primary_admin),
                  "secondary_admin": _shown(current.secondary_admin)}
        after = {"primary_admin": _shown(primary), "secondary_admin": _shown(secondary)}
        if before == after:
            raise RuleViolation("nothing to change: they are its administrators already")
        authority_row = _authority_for(current.criticality == Criticality.CRITICAL,
                                       authority, "changing a critical system")
        current.primary_admin, current.secondary_admin = primary, secondary
        current.save(update_fields=["primary_admin", "secondary_admin"])
        record("systems.system.administrators", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before, "after": after})
        _register_changed(actor, f"administrators of {current.name} changed")
    return current


def _addresses(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for number, row in enumerate(rows, start=1):
        network = str(row.get("network", "")).strip()
        if network not in Network.values:
            raise RuleViolation(f"address {number}: the network is one of "
                                f"{', '.join(Network.values)}", field="addresses")
        try:
            address = str(ipaddress.ip_address(str(row.get("address", "")).strip()))
        except ValueError:
            raise RuleViolation(f"address {number}: {str(row.get('address', ''))[:60]!r} is "
                                "not an IPv4 or IPv6 address", field="addresses") from None
        interface = str(row.get("interface", "")).strip()
        check_text(Address, {"interface": interface})
        cleaned.append({"network": network, "address": address, "interface": interface})
    if len({r["address"] for r in cleaned}) != len(cleaned):
        raise RuleViolation("an address is listed twice", field="addresses")
    return sorted(cleaned, key=lambda r: (r["network"], r["address"]))


def set_addresses(*, actor: Person | None, system: System, addresses: list[dict[str, str]],
                  authority: AuthorityLike) -> System:
    """Replace the system's addresses (network: internet, intranet or internal)."""
    _require_changer(actor, "changing a system's addresses")
    after = _addresses(addresses)
    with transaction.atomic():
        current = _live(system)
        before = [{"network": a.network, "address": a.address, "interface": a.interface}
                  for a in current.addresses.order_by("network", "address")]
        if before == after:
            raise RuleViolation("nothing to change: these are its addresses")
        authority_row = _authority_for(current.criticality == Criticality.CRITICAL,
                                       authority, "changing a critical system")
        current.addresses.all().delete()
        Address.objects.bulk_create([Address(system=current, **row) for row in after])
        record("systems.system.addresses", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before, "after": after})
        _register_changed(actor, f"addresses of {current.name} changed")
    return current


DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SSHFP", "SRV", "PTR", "NS", "CAA", "TLSA")


def _dns(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for number, row in enumerate(rows, start=1):
        name = str(row.get("name", "")).strip().lower()
        rtype = str(row.get("rtype", "")).strip().upper()
        content = str(row.get("content", "")).strip()
        if not HOSTNAME_RE.match(name):
            raise RuleViolation(f"DNS record {number}: {name[:60]!r} is not a DNS name",
                                field="dns_records")
        if rtype not in DNS_TYPES:
            raise RuleViolation(f"DNS record {number}: the type is one of "
                                f"{', '.join(DNS_TYPES)}", field="dns_records")
        if not content:
            raise RuleViolation(f"DNS record {number} has no content", field="dns_records")
        if rtype in ("A", "AAAA"):
            try:
                parsed = ipaddress.ip_address(content)
            except ValueError:
                parsed = None
            if parsed is None or parsed.version != (4 if rtype == "A" else 6):
                raise RuleViolation(f"DNS record {number}: an {rtype} record holds an IPv"
                                    f"{4 if rtype == 'A' else 6} address", field="dns_records")
            content = str(parsed)
        check_text(DnsRecord, {"name": name, "content": content})
        cleaned.append({"name": name, "rtype": rtype, "content": content})
    if len({tuple(r.values()) for r in cleaned}) != len(cleaned):
        raise RuleViolation("a DNS record is listed twice", field="dns_records")
    return sorted(cleaned, key=lambda r: (r["name"], r["rtype"], r["content"]))


def set_dns_records(*, actor: Person | None, system: System, records: list[dict[str, str]],
                    authority: AuthorityLike) -> System:
    """Replace the DNS records that name the system."""
    _require_changer(actor, "changing a system's DNS records")
    after = _dns(records)
    with transaction.atomic():
        current = _live(system)
        before = [{"name": r.name, "rtype": r.rtype, "content": r.content}
                  for r in current.dns_records.order_by("name", "rtype", "content")]
        if before == after:
            raise RuleViolation("nothing to change: these are its DNS records")
        authority_row = _authority_for(current.criticality == Criticality.CRITICAL,
                                       authority, "changing a critical system")
        current.dns_records.all().delete()
        DnsRecord.objects.bulk_create([DnsRecord(system=current, **row) for row in after])
        record("systems.system.dns", actor=actor, authority=authority_row, subject=current,
               retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before, "after": after})
        _register_changed(actor, f"DNS records of {current.name} changed")
    return current


def record_installation(*, actor: Person | None, system: System, build_document: str,
                        disk_encryption: str, authority: AuthorityLike = "SP 3.2.2"
                        ) -> System:
    """A planned system is installed: the options and packages chosen at install are
    documented (SP 3.2.2: `build_document`), and whether disk encryption was enabled when
    the OS was first installed (SP 3.2.1)."""
    _require_changer(actor, "recording an installation")
    build_document = (build_document or "").strip()
    if not build_document:
        raise RuleViolation("name the document of the options and packages chosen at install",
                            section="SP 3.2.2", field="build_document")
    check_text(System, {"build_document": build_document})
    if disk_encryption not in Encryption.values:
        raise RuleViolation(f"disk_encryption must be one of {', '.join(Encryption.values)}",
                            field="disk_encryption")
    with transaction.atomic():
        current = _live(system)
        SYSTEM.check(current.status, SystemStatus.INSTALLED, step="install")
        authority_row = resolve_authority(authority)
        before = {"status": current.status, "build_document": current.build_document,
                  "disk_encryption": current.disk_encryption}
        current.status = SystemStatus.INSTALLED
        current.build_document, current.disk_encryption = build_document, disk_encryption
        current.save()
        record("systems.system.install", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before,
                        "after": {"status": current.status, "build_document": build_document,
                                  "disk_encryption": disk_encryption}})
        _register_changed(actor, f"{current.name} installed")
    return current


def record_inspection(*, actor: Person | None, system: System, notes: str,
                      authority: AuthorityLike = "SP 3.2.2") -> System:
    """SP 3.2.2: a newly installed system is inspected (only the required services active,
    their functions limited by configuration) and enters service only then. A system
    recorded as already running is inspected where it stands. A critical system enters
    service only with its disks encrypted since install (SP 3.2.1)."""
    _require_changer(actor, "inspecting a system")
    notes = (notes or "").strip()
    if not notes:
        raise RuleViolation("say what the inspection checked and found (only the required "
                            "services active, their functions limited)", section="SP 3.2.2",
                            field="notes")
    check_text(System, {"inspection_notes": notes}, {"inspection_notes": "notes"})
    with transaction.atomic():
        current = _live(system)
        step = "inspect_running" if current.status == SystemStatus.IN_SERVICE else "inspect"
        SYSTEM.check(current.status, SystemStatus.IN_SERVICE, step=step)
        if (current.criticality == Criticality.CRITICAL
                and current.disk_encryption != Encryption.ENABLED):
            raise RuleViolation(f"{current} is critical and its disk encryption is "
                                f"{current.get_disk_encryption_display().lower()}: it must "
                                "be enabled when the OS is first installed",
                                section="SP 3.2.1")
        authority_row = resolve_authority(authority)
        before = {"status": current.status, "inspected_at": _shown(current.inspected_at)}
        current.status = SystemStatus.IN_SERVICE
        current.inspected_at = timezone.now()
        current.inspected_by = actor
        current.inspection_notes = notes
        current.save()
        record("systems.system.inspect", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "before": before,
                        "after": {"status": current.status,
                                  "inspected_at": current.inspected_at.isoformat()},
                        "notes": notes})
        _register_changed(actor, f"{current.name} inspected")
    return current


def retire_system(*, actor: Person | None, system: System, reason: str,
                  authority: AuthorityLike) -> System:
    """Retire a system: its flows in effect or waiting end with it; a critical system is
    retired by Board decision (SP 1.1). A host with guests still running is not retired."""
    _require_changer(actor, "retiring a system")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("say why the system is retired", field="reason")
    check_text(Flow, {"reason": reason})
    with transaction.atomic():
        current = System.objects.select_for_update().get(pk=system.pk)
        SYSTEM.check(current.status, SystemStatus.RETIRED)
        guests = [g.name for g in current.guests.exclude(status=SystemStatus.RETIRED)]
        if guests:
            raise RuleViolation(f"{current} still hosts {', '.join(guests)}: retire or move "
                                "them first", field="reason")
        authority_row = _authority_for(current.criticality == Criticality.CRITICAL,
                                       authority, "retiring a critical system")
        now = timezone.now()
        ended = list(current.flows.filter(status__in=[FlowStatus.APPROVED,
                                                      FlowStatus.REQUESTED]))
        for flow in ended:
            flow.status, flow.ended_at = FlowStatus.ENDED, now
            flow.save(update_fields=["status", "ended_at"])
        before = current.status
        current.status, current.retired_at = SystemStatus.RETIRED, now
        current.save(update_fields=["status", "retired_at"])
        # A retired system reports no more: its agent's token stops working with it.
        revoked = [t.prefix for t in current.agent_tokens.filter(revoked_at__isnull=True)]
        current.agent_tokens.filter(revoked_at__isnull=True).update(revoked_at=now,
                                                                    revoked_by=actor)
        record("systems.system.retire", actor=actor, authority=authority_row,
               subject=current, retention_class=CONFIGURATION, actor_label=_label(actor),
               details={"system": current.name, "reason": reason,
                        "before": {"status": before}, "after": {"status": current.status},
                        "flows_ended": [str(f) for f in ended],
                        "agent_revoked_prefixes": revoked})
        _register_changed(actor, f"{current.name} retired")
    return current


# --- flows (SM 3.1.2; SP 3.1.1.1, 3.1.1.2) --------------------------------------------------

SPECIAL_PEERS = ("ANY", "local")


def _peer(peer: str) -> tuple[str, System | None]:
    """Origin (ingress) or destination (egress): ANY, local, an address or network, a
    system of the register (then also its row), or a DNS name."""
    peer = (peer or "").strip()
    if not peer:
        raise RuleViolation("name the origin (ingress) or destination (egress): ANY, an "
                            "address or network, a system or a DNS name", section="SM 3.1.2",
                            field="peer")
    if peer.upper() == "ANY":
        return "ANY", None
    if peer == "local":
        return peer, None
    try:
        if "/" in peer:
            return str(ipaddress.ip_network(peer, strict=False)), None
        return str(ipaddress.ip_address(peer)), None
    except ValueError:
        pass
    # Only a name a system could have is looked up (PostgreSQL cannot compare a NUL).
    system = (System.objects.filter(name=peer.lower()).first()
              if NAME_RE.match(peer.lower()) else None)
    if system is not None:
        if system.status == SystemStatus.RETIRED:
            raise RuleViolation(f"{system} is retired", field="peer")
        return system.name, system
    if not HOSTNAME_RE.match(peer) or len(peer) > max_length(Flow, "peer"):
        raise RuleViolation(f"{peer[:60]!r} is neither ANY, an address or network, a system "
                            "of the register, nor a DNS name", field="peer")
    return peer.lower(), None


def _ports(protocol: str, port: int | None, port_end: int | None
           ) -> tuple[int | None, int | None]:
    if protocol not in Protocol.values:
        raise RuleViolation(f"protocol must be one of {', '.join(Protocol.values)}",
                            field="protocol")
    if protocol == Protocol.ICMP:
        if port is not None or port_end is not None:
            raise RuleViolation("ICMP has no ports", field="port")
        return None, None
    if port is None:
        if port_end is not None:
            raise RuleViolation("a range starts with a port", field="port")
        return None, None
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise RuleViolation("a port is a number from 1 to 65535", field="port")
    if port_end is not None and (not isinstance(port_end, int)
                                 or not port < port_end <= 65535):
        raise RuleViolation("a range ends at a port above its first, at most 65535",
                            field="port_end")
    return port, port_end


def request_flow(*, actor: Person | None, system: System, direction: str, purpose: str,
                 peer: str, protocol: str = Protocol.TCP, port: int | None = None,
                 port_end: int | None = None, service: str = "",
                 temporary_until: dt.datetime | None = None, reason: str = "",
                 authority: AuthorityLike = "SP 3.1.1.2", source: str = "") -> Flow:
    """Request a new connectivity: an ingress flow (port/protocol, service, origin,
    purpose) or an egress flow (destination, port/protocol, purpose), on one port, a
    range, or any port. It takes effect only when the Systems Administration team leader
    approves it (SP 3.1.1.2). A temporary Internet access (SP 3.1.1.1) has an end
    (`temporary_until`): it is mailed to the Systems Administration team."""
    _require_changer(actor, "requesting a flow")
    if direction not in Direction.values:
        raise RuleViolation(f"direction must be one of {', '.join(Direction.values)}",
                            field="direction")
    port, port_end = _ports(protocol, port, port_end)
    purpose, service, reason = ((purpose or "").strip(), (service or "").strip(),
                                (reason or "").strip())
    if not purpose:
        raise RuleViolation("every flow is documented with its purpose", section="SM 3.1.2",
                            field="purpose")
    check_text(Flow, {"purpose": purpose, "service": service, "reason": reason,
                      "source": source})
    if temporary_until is not None and temporary_until <= timezone.now():
        raise RuleViolation("a temporary access ends in the future", section="SP 3.1.1.1",
                            field="temporary_until")
    peer_text, peer_system = _peer(peer)
    if peer_system is not None and peer_system.pk == system.pk:
        raise RuleViolation("a flow connects a system with another", field="peer")
    with transaction.atomic():
        current = _live(system)
        same = current.flows.filter(direction=direction, protocol=protocol, port=port,
                                    port_end=port_end, peer=peer_text,
                                    status__in=[FlowStatus.REQUESTED, FlowStatus.APPROVED]
                                    ).first()
        if same is not None:
            raise RuleViolation(f"this flow is already {FLOW.label(same.status)}",
                                section="SM 3.1.2")
        authority_row = resolve_authority(authority)
        flow = Flow.objects.create(
            system=current, direction=direction, protocol=protocol, port=port,
            port_end=port_end, service=service, peer=peer_text, peer_system=peer_system,
            purpose=purpose, temporary_until=temporary_until, requested_by=actor,
            reason=reason, authority=authority_row, source=source)
        record("systems.flow.request", actor=actor, authority=authority_row, subject=flow,
               retention_class=CONFIGURATION, actor_label=_label(actor),
               details=_flow_details(flow))
    return flow


def _flow_details(flow: Flow) -> dict[str, Any]:
    return {"system": flow.system.name, "flow": str(flow), "direction": flow.direction,
            "port": flow.port_label, "service": flow.service, "peer": flow.peer,
            "purpose": flow.purpose,
            "temporary_until": flow.temporary_until.isoformat() if flow.temporary_until
            else None}


def decide_flow(*, actor: Person | None, flow: Flow, approve: bool, reason: str = "",
                authority: AuthorityLike = "SP 3.1.1.2") -> Flow:
    """Approve (it takes effect) or refuse a requested flow: only the Systems
    Administration team leader, and never the one who requested it (SP 3.1.1.2). A refusal
    says why."""
    refusal = why_not_decide(actor, flow) if actor is not None else NotAllowed(
        "a flow is decided by the Systems Administration team leader, signed in by name",
        section="SP 3.1.1.2")
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip()
    if not approve and not reason:
        raise RuleViolation("say why the flow is refused", field="reason")
    check_text(Flow, {"reason": reason})
    with transaction.atomic():
        current = Flow.objects.select_for_update().select_related("system").get(pk=flow.pk)
        target = FlowStatus.APPROVED if approve else FlowStatus.REFUSED
        FLOW.check(current.status, target)
        if current.system.status == SystemStatus.RETIRED:
            raise RuleViolation(f"{current.system} is retired", section="SP 1.1")
        if approve and current.temporary_until and current.temporary_until <= timezone.now():
            raise RuleViolation("this temporary access has ended before it was approved",
                                section="SP 3.1.1.1")
        authority_row = resolve_authority(authority)
        current.status, current.decided_by = target, actor
        current.decided_at = timezone.now()
        if reason:
            current.reason = reason
        current.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        record(f"systems.flow.{'approve' if approve else 'refuse'}", actor=actor,
               authority=authority_row, subject=current, retention_class=CONFIGURATION,
               details={**_flow_details(current), "reason": reason,
                        "before": {"status": FlowStatus.REQUESTED.value},
                        "after": {"status": target.value}})
        if approve:
            _register_changed(actor, f"flow {current} approved")
    return current


def end_flow(*, actor: Person | None, flow: Flow, reason: str,
             authority: AuthorityLike = "SM 3.1.2") -> Flow:
    """End an approved flow (it is no longer in effect), or withdraw a request. Ending
    only takes connectivity away: any Systems Administrator may, saying why."""
    _require_changer(actor, "ending a flow")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("say why the flow ends", field="reason")
    check_text(Flow, {"reason": reason})
    with transaction.atomic():
        current = Flow.objects.select_for_update().select_related("system").get(pk=flow.pk)
        step = "withdraw" if current.status == FlowStatus.REQUESTED else "end"
        FLOW.check(current.status, FlowStatus.ENDED, step=step)
        authority_row = resolve_authority(authority)
        before = current.status
        current.status, current.ended_at, current.reason = (FlowStatus.ENDED, timezone.now(),
                                                            reason)
        current.save(update_fields=["status", "ended_at", "reason"])
        record(f"systems.flow.{step}", actor=actor, authority=authority_row, subject=current,
               retention_class=CONFIGURATION, actor_label=_label(actor),
               details={**_flow_details(current), "reason": reason,
                        "before": {"status": before}, "after": {"status": current.status}})
        if before == FlowStatus.APPROVED:
            _register_changed(actor, f"flow {current} ended")
    return current
