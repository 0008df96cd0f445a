"""Applying the infrastructure documentation to the systems register (split from
services.py: the infradocs importer's writer; systems.infradocs is its reader).

`import_systems` takes the parsed systems of one run and makes the register say what they
say: each system created or updated, its addresses and DNS records replaced by the
documented ones, its documented flows in effect (approved, with the file and line as
source and the run's authority), and the flows that disappeared from the documentation
ended, never deleted. Flows entered by hand (no source) are left as they are, and so are
systems the run does not name.

Everything is checked first; then one transaction writes every change, one Event Log
entry per changed system (its diff) and one for the run. A system whose document says
what the register already holds writes nothing; a run that changes nothing writes no
entry at all. A dry run computes the same diff and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import Entry, record_batch
from secman.people.models import Person
from secman.people.selectors import holds_any
from secman.systems import diagram
from secman.systems.choices import FlowStatus
from secman.systems.infradocs import ParsedFlow, ParsedSystem, PersonRef
from secman.systems.models import Address, DnsRecord, Flow, System

# Told how far the import is: (what it is doing, systems done, systems in all).
Progress = Callable[[str, int, int], None]

SECTION = "SM 3.1.2"
# The fields of a system the documentation sets, in the order a diff shows them.
SYSTEM_FIELDS = ("kind", "criticality", "host", "purpose", "primary_admin",
                 "secondary_admin", "unresolved_admins", "applications", "contact",
                 "os_name", "os_release", "monitoring", "running_services", "databases",
                 "connected_systems", "ssh_host_keys", "macs", "source")
# The key a documented flow is known by from one import to the next: its line may move.
FlowKey = tuple[str, str, int | None, int | None, str, str, str, str]


def _quiet(_what: str, _done: int, _total: int) -> None:
    pass


@dataclass
class SystemDiff:
    """What one import changes of one system ("old → new" per field; added and removed
    addresses, DNS records and flows, each as a label people read)."""

    name: str
    source: str
    created: bool = False
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    addresses_added: list[str] = field(default_factory=list)
    addresses_removed: list[str] = field(default_factory=list)
    dns_added: list[str] = field(default_factory=list)
    dns_removed: list[str] = field(default_factory=list)
    flows_added: list[str] = field(default_factory=list)
    flows_ended: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.fields or self.addresses_added
                    or self.addresses_removed or self.dns_added or self.dns_removed
                    or self.flows_added or self.flows_ended)

    def as_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"source": self.source, "created": self.created}
        if self.fields:
            details["fields"] = {name: {"old": old, "new": new}
                                 for name, (old, new) in self.fields.items()}
        for name in ("addresses_added", "addresses_removed", "dns_added", "dns_removed",
                     "flows_added", "flows_ended"):
            if getattr(self, name):
                details[name] = getattr(self, name)
        return details


@dataclass
class ImportResult:
    diffs: list[SystemDiff]
    dry_run: bool
    systems: int  # systems in the run
    flows: int  # documented flows in the run

    @property
    def changed(self) -> list[SystemDiff]:
        return [diff for diff in self.diffs if diff.changed]

    @property
    def created(self) -> int:
        return sum(1 for diff in self.diffs if diff.created)

    @property
    def flows_added(self) -> int:
        return sum(len(diff.flows_added) for diff in self.diffs)

    @property
    def flows_ended(self) -> int:
        return sum(len(diff.flows_ended) for diff in self.diffs)


@dataclass
class _Planned:
    """One system's wanted state and what must be written to reach it."""

    parsed: ParsedSystem
    system: System | None
    values: dict[str, Any]
    host_name: str
    diff: SystemDiff
    addresses_add: list[Address]
    addresses_remove: list[int]
    dns_add: list[DnsRecord]
    dns_remove: list[int]
    flows_add: list[tuple[ParsedFlow, str]]  # (flow, peer system's name)
    flows_end: list[int]


def _require_systems_administrator(actor: Person | None) -> None:
    # None is the command line, whose operator already holds the server.
    if actor is not None and not holds_any(actor, Role.SYSTEMS_ADMINISTRATOR):
        raise NotAllowed("importing the infrastructure documentation is done by Systems "
                         "Administrators", section=SECTION)


def _person_label(person: Person | None) -> str:
    return f"{person.name} <{person.email}>" if person is not None else ""


def _resolve_people(parsed: Sequence[ParsedSystem]) -> dict[str, Person]:
    """The people register's person for each people.rst label: by the contact address,
    else by a login equal to the label's name (people_jandd → jandd)."""
    refs = {ref.label: ref for system in parsed
            for ref in (system.primary_admin, system.secondary_admin) if ref is not None}
    emails = {ref.email.lower() for ref in refs.values() if ref.email}
    logins = {ref.label.removeprefix("people_") for ref in refs.values()}
    people = Person.objects.filter(Q(email__in=emails) | Q(email__in={e.upper()
                                                                      for e in emails})
                                   | Q(user__username__in=logins)).select_related("user")
    by_email = {person.email.lower(): person for person in people}
    by_login = {person.user.username: person for person in people
                if person.user is not None}
    found = {}
    for label, ref in refs.items():
        person = by_email.get(ref.email.lower()) if ref.email else None
        person = person or by_login.get(label.removeprefix("people_"))
        if person is not None:
            found[label] = person
    return found


def _check_run(parsed: Sequence[ParsedSystem]) -> None:
    seen: dict[str, str] = {}
    for system in parsed:
        if system.name in seen:
            raise RuleViolation(f"{system.source}:{system.title_line}: the system "
                                f"{system.name} is documented in {seen[system.name]} as well",
                                section=SECTION)
        seen[system.name] = system.source


def _checked_text(model: type[Any], values: dict[str, Any], where: str) -> None:
    try:
        check_text(model, values)
    except RuleViolation as exc:
        raise RuleViolation(f"{where}: {exc.message}", section=SECTION) from None


def _wanted_values(parsed: ParsedSystem, people: dict[str, Person]) -> dict[str, Any]:
    unresolved = []
    admins: dict[str, Person | None] = {}
    for role, ref in (("primary", parsed.primary_admin), ("secondary", parsed.secondary_admin)):
        person = people.get(ref.label) if ref is not None else None
        admins[role] = person
        if ref is not None and person is None:
            unresolved.append(_unresolved(role, ref))
    values = {
        "kind": parsed.kind, "criticality": parsed.criticality, "purpose": parsed.purpose,
        "primary_admin": admins["primary"], "secondary_admin": admins["secondary"],
        "unresolved_admins": unresolved, "applications": parsed.applications,
        "contact": parsed.contact, "os_name": parsed.os_name,
        "os_release": parsed.os_release, "monitoring": parsed.monitoring,
        "running_services": parsed.running_services, "databases": parsed.databases,
        "connected_systems": parsed.connected_systems,
        "ssh_host_keys": parsed.ssh_host_keys, "macs": parsed.macs,
        "source": parsed.source,
    }
    _checked_text(System, {k: v for k, v in values.items() if isinstance(v, str)},
                  f"{parsed.source}:{parsed.title_line}")
    return values


def _unresolved(role: str, ref: PersonRef) -> str:
    email = f" <{ref.email}>" if ref.email else ""
    return f"{ref.name}{email} ({role})"


def _shown(name: str, value: Any) -> Any:
    """A field's value as a diff shows it (a person by name and address)."""
    if name in ("primary_admin", "secondary_admin"):
        return _person_label(value)
    return value


def _address_label(network: str, address: str, interface: str) -> str:
    return f"{address} ({network}{', ' + interface if interface else ''})"


def _flow_label(direction: str, protocol: str, port: int | None, port_end: int | None,
                peer: str, service: str) -> str:
    ports = "any" if port is None else f"{port}-{port_end}" if port_end else str(port)
    arrow = "from" if direction == "ingress" else "to"
    return f"{direction} {ports}/{protocol} {service} {arrow} {peer}".replace("  ", " ")


def _flow_key(flow: ParsedFlow, peer_system: str) -> FlowKey:
    return (flow.direction, flow.protocol, flow.port, flow.port_end, flow.peer,
            peer_system, flow.service, flow.purpose)


def _row_key(flow: Flow, names: dict[int, str]) -> FlowKey:
    return (flow.direction, flow.protocol, flow.port, flow.port_end, flow.peer,
            names.get(flow.peer_system_id or 0, ""), flow.service, flow.purpose)


def _plan(parsed: ParsedSystem, system: System | None, people: dict[str, Person],
          known: dict[str, str], names_by_id: dict[int, str]) -> _Planned:
    """Compare one parsed system with its row (None: new) and list what to write."""
    values = _wanted_values(parsed, people)
    host_name = parsed.host_document if parsed.host_document in known else ""
    diff = SystemDiff(name=parsed.name, source=parsed.source, created=system is None)
    if parsed.host_document and not host_name:
        diff.notes.append(f"host {parsed.host_document} is not in the register: left empty")
    old_host = names_by_id.get(system.host_id or 0, "") if system is not None else ""
    for name in SYSTEM_FIELDS:
        new = host_name if name == "host" else values[name]
        old = old_host if name == "host" else getattr(system, name, None)
        if system is None:
            if new not in ("", [], None):
                diff.fields[name] = (None, _shown(name, new))
        elif old != new:
            diff.fields[name] = (_shown(name, old), _shown(name, new))
    where = f"{parsed.source}"
    # Addresses
    held_addresses = {(a.network, a.address, a.interface): a.pk
                      for a in (system.addresses.all() if system is not None else [])}
    wanted_addresses = {(a.network, a.address, a.interface): a for a in parsed.addresses}
    addresses_add = []
    for key, address in wanted_addresses.items():
        if key not in held_addresses:
            _checked_text(Address, {"interface": address.interface},
                          f"{where}:{address.line}")
            addresses_add.append(Address(network=address.network, address=address.address,
                                         interface=address.interface))
            diff.addresses_added.append(_address_label(*key))
    addresses_remove = [pk for key, pk in held_addresses.items()
                        if key not in wanted_addresses]
    diff.addresses_removed = [_address_label(*key) for key in held_addresses
                              if key not in wanted_addresses]
    # DNS records
    held_dns = {(r.name, r.rtype, r.content): r.pk
                for r in (system.dns_records.all() if system is not None else [])}
    dns_add = []
    for record in parsed.dns_records:
        if record not in held_dns:
            name, rtype, content = record
            _checked_text(DnsRecord, {"name": name, "rtype": rtype, "content": content},
                          where)
            dns_add.append(DnsRecord(name=name, rtype=rtype, content=content))
            diff.dns_added.append(" ".join(record))
    dns_remove = [pk for key, pk in held_dns.items() if key not in parsed.dns_records]
    diff.dns_removed = [" ".join(key) for key in held_dns if key not in parsed.dns_records]
    # Flows: those from the documentation in effect (a flow requested by hand has no
    # source and is not the documentation's to end).
    held_flows: dict[FlowKey, int] = {}
    if system is not None:
        for row in system.flows.filter(status=FlowStatus.APPROVED).exclude(source=""):
            held_flows[_row_key(row, names_by_id)] = row.pk
    wanted: dict[FlowKey, tuple[ParsedFlow, str]] = {}
    for flow in parsed.flows:
        peer_system = flow.peer_document if flow.peer_document in known else (
            flow.peer.lower() if flow.peer.lower() in known else "")
        _checked_text(Flow, {"service": flow.service, "peer": flow.peer,
                             "purpose": flow.purpose,
                             "source": parsed.flow_source(flow)}, f"{where}:{flow.line}")
        wanted.setdefault(_flow_key(flow, peer_system), (flow, peer_system))
    flows_add = [pair for key, pair in wanted.items() if key not in held_flows]
    flows_end = [pk for key, pk in held_flows.items() if key not in wanted]
    diff.flows_added = [_flow_label(*key[:5], key[6]) for key in wanted
                        if key not in held_flows]
    diff.flows_ended = [_flow_label(*key[:5], key[6]) for key in held_flows
                        if key not in wanted]
    return _Planned(parsed, system, values, host_name, diff, addresses_add,
                    addresses_remove, dns_add, dns_remove, flows_add, flows_end)


def import_systems(*, actor: Person | None, authority: AuthorityLike = SECTION,
                   parsed: Sequence[ParsedSystem], dry_run: bool = False,
                   files: Sequence[str] = (), progress: Progress = _quiet) -> ImportResult:
    """Make the register say what the parsed documents say (see the module's docstring).
    Returns each system's diff; with dry_run nothing is written. A refusal (RuleViolation,
    NotAllowed) names the file and line and writes nothing."""
    _require_systems_administrator(actor)
    _check_run(parsed)
    people = _resolve_people(parsed)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        names = [p.name for p in parsed]
        existing = {s.name: s for s in System.objects.select_for_update().filter(
            name__in=names)}
        wanted_names = ({p.host_document for p in parsed}
                        | {f.peer_document for p in parsed for f in p.flows}
                        | {f.peer.lower() for p in parsed for f in p.flows}) - {""}
        names_by_id = dict(System.objects.filter(
            Q(name__in=wanted_names) | Q(guests__name__in=names)
            | Q(pk__in=Flow.objects.filter(system__name__in=names).values("peer_system"))
        ).values_list("pk", "name").distinct())
        known = set(names) | set(names_by_id.values())
        plans = []
        for done, system_doc in enumerate(parsed, 1):
            plans.append(_plan(system_doc, existing.get(system_doc.name), people,
                               {name: name for name in known}, names_by_id))
            progress("comparing", done, len(parsed))
        result = ImportResult(diffs=[plan.diff for plan in plans], dry_run=dry_run,
                              systems=len(parsed), flows=sum(len(p.flows) for p in parsed))
        changed = [plan for plan in plans if plan.diff.changed]
        if dry_run or not changed:
            transaction.set_rollback(True)  # the authority's row, made on first citation
            return result
        _write(changed, actor, authority_row, progress)
        entries = [Entry(action="systems.system.import", authority=str(authority_row),
                         actor=actor, actor_label="" if actor else "secman command line",
                         subject=plan.system, retention_class=RetentionClass.CONFIGURATION,
                         details=plan.diff.as_details()) for plan in changed]
        entries.append(Entry(
            action="systems.import", authority=str(authority_row), actor=actor,
            actor_label="" if actor else "secman command line",
            retention_class=RetentionClass.CONFIGURATION,
            details={"files": list(files) or sorted({p.source for p in parsed}),
                     "systems": len(parsed), "created": result.created,
                     "updated": len(changed) - result.created,
                     "flows_added": result.flows_added, "flows_ended": result.flows_ended}))
        record_batch(entries)
        # The imported systems and flows are in effect: the network diagram follows them
        # (SP 3.1.1), drawn after the commit like every other change of the register.
        transaction.on_commit(lambda: diagram.redraw_after_change(
            f"import of {len(changed)} system document(s)"))
    return result


def _write(changed: list[_Planned], actor: Person | None, authority_row: Any,
           progress: Progress) -> None:
    now = timezone.now()
    by_name: dict[str, System] = {}
    for plan in changed:
        system = plan.system or System(name=plan.parsed.name, created_at=now)
        for name, value in plan.values.items():
            setattr(system, name, value)
        system.save()
        plan.system = system
        by_name[system.name] = system
    # Hosts and peers may be systems created above, or rows the run does not change.
    wanted = ({plan.host_name for plan in changed}
              | {peer for plan in changed for _, peer in plan.flows_add}) - {""} - set(by_name)
    by_name.update({s.name: s for s in System.objects.filter(name__in=wanted)})
    for done, plan in enumerate(changed, 1):
        system = by_name[plan.parsed.name]
        host = by_name.get(plan.host_name) if plan.host_name else None
        if "host" in plan.diff.fields or plan.diff.created:
            System.objects.filter(pk=system.pk).update(host=host)
        Address.objects.filter(pk__in=plan.addresses_remove).delete()
        DnsRecord.objects.filter(pk__in=plan.dns_remove).delete()
        for address in plan.addresses_add:
            address.system = system
        for record in plan.dns_add:
            record.system = system
        Address.objects.bulk_create(plan.addresses_add)
        DnsRecord.objects.bulk_create(plan.dns_add)
        Flow.objects.filter(pk__in=plan.flows_end).update(
            status=FlowStatus.ENDED, ended_at=now,
            reason=f"no longer in {plan.parsed.source}"[:300])
        Flow.objects.bulk_create([Flow(
            system=system, direction=flow.direction, protocol=flow.protocol, port=flow.port,
            port_end=flow.port_end, service=flow.service, peer=flow.peer,
            peer_system=by_name.get(peer) if peer else None, purpose=flow.purpose,
            status=FlowStatus.APPROVED, requested_by=actor, requested_at=now,
            decided_by=actor, decided_at=now, authority=authority_row,
            reason="documented in the infrastructure documentation",
            source=plan.parsed.flow_source(flow)) for flow, peer in plan.flows_add])
        progress("writing", done, len(changed))
