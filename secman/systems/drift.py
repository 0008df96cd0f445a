"""Drift: what the host agents report, compared with the systems register (SP 3.1.2.1,
SP 3.2.1, SP 3.2.3, SP 3.2.2, SM 4.1.3). docs/agent.md lists the findings.

Two halves:
- derive(): when a report arrives (systems.agents.receive_report), the few facts drift
  needs are worked out once and kept on the report (AgentReport.derived): the sockets
  listening beyond loopback, the disk encryption state, one digest per configuration
  section, when each pending security update was first seen (carried from the previous
  report: its age comes from the report history), and the configuration changes not yet
  backed by a ConfigurationChange.
- evaluate(): the findings for every system that has a live token, in a handful of
  queries whatever the number of systems (the benchmark is 500 systems x 30 flows):
  the live tokens, the newest report of each system (derived keys only), the ingress
  flows in effect, the configuration changes; the rulesets only when asked for.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Finding, Status
from secman.systems import firewall
from secman.systems.choices import Direction, Protocol
from secman.systems.models import AgentReport, AgentToken, ConfigurationChange, Flow, System
from secman.systems.selectors import in_effect

# The kinds of finding, each a control of its own (systems.controls).
PORT_UNDOCUMENTED = "port_undocumented"
PORT_NOT_LISTENING = "port_not_listening"
RULESET = "ruleset"
ENCRYPTION = "encryption"
SECURITY_UPDATES = "security_updates"
SILENT = "silent"
UNRECORDED_CHANGE = "unrecorded_change"
KINDS = (PORT_UNDOCUMENTED, PORT_NOT_LISTENING, RULESET, ENCRYPTION, SECURITY_UPDATES,
         SILENT, UNRECORDED_CHANGE)
SECTIONS = {
    PORT_UNDOCUMENTED: "SP 3.1.2.1", PORT_NOT_LISTENING: "SP 3.1.2.1",
    RULESET: "SP 3.1.2.1", ENCRYPTION: "SP 3.2.1", SECURITY_UPDATES: "SP 3.2.3",
    SILENT: "SP 3.2.2", UNRECORDED_CHANGE: "SM 4.1.3",
}
# The configuration sections compared between reports; the names are those
# ConfigurationChange.covers uses.
CONFIG_KINDS = ("sshd", "sudoers", "accounts", "authorized_keys", "ruleset")
SILENCE = dt.timedelta(days=2)


def update_days() -> int:
    """SECMAN_AGENT_UPDATE_DAYS: how long a security update may stay pending (default 7)."""
    return int(getattr(settings, "SECMAN_AGENT_UPDATE_DAYS", 7))


# --- derived facts, once per report ---------------------------------------------------------


def is_loopback(address: str) -> bool:
    """127.0.0.1, ::1, 127.0.0.53%lo: reachable from this machine only, not ingress."""
    host = address.split("%", 1)[0]
    if host in ("*", ""):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed(listening: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """[protocol, port, address, process] of each socket listening beyond loopback, once
    per protocol, port and address, sorted."""
    seen = {(s["protocol"], s["port"], s["address"], s["process"]) for s in listening
            if s["protocol"] in (Protocol.TCP, Protocol.UDP) and not is_loopback(s["address"])}
    return [list(row) for row in sorted(seen)]


def encryption_of(block_devices: Any) -> str:
    """"enabled" when every mounted file system sits on a dm-crypt device (or is one:
    a LUKS container), "disabled" when one does not, "unknown" without lsblk's answer or
    without any mounted file system in it (a container sees none)."""
    if not isinstance(block_devices, dict):
        return "unknown"
    mounted: list[bool] = []
    stack = [(d, False) for d in block_devices.get("blockdevices") or []]
    while stack:
        device, under_crypt = stack.pop()
        if not isinstance(device, dict):
            continue
        crypt = under_crypt or device.get("type") == "crypt" or (
            device.get("fstype") == "crypto_LUKS")
        mountpoint = device.get("mountpoint")
        # Debian's guided encrypted install keeps /boot (and /boot/efi) on a plain
        # partition: the boot loader must read it. Only the rest must be encrypted.
        if mountpoint and mountpoint != "[SWAP]" and not (
                isinstance(mountpoint, str) and (mountpoint == "/boot"
                                                 or mountpoint.startswith("/boot/"))):
            mounted.append(crypt)
        stack.extend((child, crypt) for child in device.get("children") or [])
    if not mounted:
        return "unknown"
    return "enabled" if all(mounted) else "disabled"


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def covered(changes: Iterable[ConfigurationChange], kind: str, since: str, until: str) -> bool:
    """Whether a recorded change of this kind was made in the window (since, until]."""
    start, end = dt.datetime.fromisoformat(since), dt.datetime.fromisoformat(until)
    return any(kind in (c.covers or []) and start < c.made_at <= end for c in changes)


def derive(facts: dict[str, Any], received_at: dt.datetime, previous: AgentReport | None,
           changes: list[ConfigurationChange]) -> dict[str, Any]:
    """What drift needs from a new report, given the system's previous report and its
    recorded configuration changes."""
    before = previous.derived if previous is not None else {}
    digests = {kind: digest(facts[kind]) for kind in CONFIG_KINDS if kind in facts}
    seen_before = before.get("updates_first_seen", {})
    now = received_at.isoformat()
    first_seen = {}
    for update in facts.get("security_updates", []):
        key = f"{update['package']} {update['available']}"
        first_seen[key] = seen_before.get(key, now)
    # Changes between the previous report and this one, and earlier ones still without a
    # record: a change recorded later (made_at in the window) clears them.
    unrecorded = [w for w in before.get("unrecorded", [])
                  if not covered(changes, w["kind"], w["since"], w["until"])]
    if previous is not None:
        since = previous.received_at.isoformat()
        for kind, value in digests.items():
            old = before.get("digests", {}).get(kind)
            if old is not None and old != value and not covered(changes, kind, since, now):
                unrecorded.append({"kind": kind, "since": since, "until": now})
    return {
        "exposed": exposed(facts.get("listening", [])),
        "listening_known": "listening" in facts,
        "encryption": encryption_of(facts.get("block_devices")),
        "digests": digests,
        "updates_first_seen": first_seen,
        "unrecorded": unrecorded,
        "unavailable": sorted(facts.get("unavailable", {})),
    }


# --- the comparison ---------------------------------------------------------------------------


@dataclass
class Newest:
    """The newest report of a system, as far as drift reads it."""

    id: int
    received_at: dt.datetime
    derived: dict[str, Any]
    ruleset: Any = None


@dataclass
class Drift:
    """One system's findings, and what its agent panel shows."""

    system: System
    findings: list[Finding] = field(default_factory=list)
    newest: Newest | None = None
    ruleset_checked: bool = False  # False: systems.firewall is not available yet


@functools.lru_cache(maxsize=4096)
def agent_url(system_name: str) -> str:
    return reverse("systems:agent", args=[system_name])


def finding(kind: str, system: str, message: str, detail: str = "",
            status: Status = Status.VIOLATED) -> Finding:
    return Finding(SECTIONS[kind], f"{system}: {message}", agent_url(system), status,
                   subject=f"agent.{kind}:{system}{':' + detail if detail else ''}")


@dataclass(frozen=True)
class Documented:
    """An ingress flow in effect, as drift reads it (a tuple from the database: making
    15,000 Flow instances for 500 systems would cost more than the whole comparison)."""

    protocol: str
    port: int | None
    port_end: int | None
    service: str

    @property
    def port_label(self) -> str:
        if self.port is None:
            return f"any/{self.protocol}"
        if self.port_end:
            return f"{self.port}-{self.port_end}/{self.protocol}"
        return f"{self.port}/{self.protocol}"


def port_matches(flow: Flow | Documented, protocol: str, port: int) -> bool:
    if flow.protocol != protocol:
        return False
    if flow.port is None:
        return True
    return flow.port <= port <= (flow.port_end or flow.port)


def ruleset_differences(system: System, ruleset: Any) -> list[str]:
    """systems.firewall's comparison with the ruleset generated from the register."""
    return firewall.ruleset_differences(system, ruleset)


def compare(system: System, newest: Newest | None, flows: list[Documented],
            token_created: dt.datetime, kinds: frozenset[str], now: dt.datetime,
            changes: list[ConfigurationChange]) -> Drift:
    """One system's findings of the kinds asked for."""
    name = system.name
    drift = Drift(system, newest=newest)
    found = drift.findings
    last = newest.received_at if newest else token_created
    if SILENT in kinds and now - last > SILENCE:
        found.append(finding(SILENT, name, "no agent report since "
                             f"{last:%Y-%m-%d %H:%M} (more than {SILENCE.days} days)"))
    if newest is None:
        return drift
    derived = newest.derived
    ingress = [f for f in flows if f.protocol in (Protocol.TCP, Protocol.UDP)]
    if derived.get("listening_known"):
        if PORT_UNDOCUMENTED in kinds:
            for protocol, port, address, process in derived.get("exposed", []):
                if not any(port_matches(f, protocol, port) for f in ingress):
                    found.append(finding(
                        PORT_UNDOCUMENTED, name, f"{port}/{protocol} is listening on "
                        f"{address} ({process or 'process not shown'}) but no documented "
                        "ingress flow allows it", f"{port}/{protocol}"))
        if PORT_NOT_LISTENING in kinds:
            for flow in ingress:
                if flow.port is None:
                    continue
                if not any(port_matches(flow, protocol, port)
                           for protocol, port, *_ in derived.get("exposed", [])):
                    found.append(finding(
                        PORT_NOT_LISTENING, name, f"documented ingress {flow.port_label} "
                        f"({flow.service or 'no service named'}) is not listening",
                        flow.port_label, Status.WARNING))
    if RULESET in kinds:
        if "ruleset" in derived.get("unavailable", []):
            drift.ruleset_checked = True
            found.append(finding(RULESET, name, "the agent could not read the nftables "
                                 "ruleset: traffic to undocumented ports may not be blocked"))
        else:
            differences = ruleset_differences(system, newest.ruleset)
            drift.ruleset_checked = differences is not None
            for difference in differences or []:
                found.append(finding(RULESET, name, f"the ruleset differs from the "
                                     f"generated one: {difference}", difference[:80]))
    if ENCRYPTION in kinds and derived.get("encryption") == "disabled":
        found.append(finding(ENCRYPTION, name, "a mounted file system is not on an "
                             "encrypted device"))
    if SECURITY_UPDATES in kinds:
        limit = now - dt.timedelta(days=update_days())
        old = sorted(key for key, seen in derived.get("updates_first_seen", {}).items()
                     if dt.datetime.fromisoformat(seen) < limit)
        if old:
            shown = ", ".join(old[:5]) + (f" and {len(old) - 5} more" if len(old) > 5 else "")
            found.append(finding(SECURITY_UPDATES, name, f"{len(old)} security update(s) "
                                 f"pending for more than {update_days()} days: {shown}"))
    if UNRECORDED_CHANGE in kinds:
        for window in derived.get("unrecorded", []):
            if covered(changes, window["kind"], window["since"], window["until"]):
                continue
            since = dt.datetime.fromisoformat(window["since"])
            until = dt.datetime.fromisoformat(window["until"])
            found.append(finding(
                UNRECORDED_CHANGE, name, f"{window['kind']} changed between the reports "
                f"of {since:%Y-%m-%d %H:%M} and {until:%Y-%m-%d %H:%M} without a recorded "
                "configuration change covering it", f"{window['kind']}@{window['until']}"))
    return drift


# --- reading, in few queries ---------------------------------------------------------------


def newest_reports(system_ids: Iterable[int], with_ruleset: bool) -> dict[int, Newest]:
    """The newest report of each system: one query (a window function ranks each
    system's reports), plus one for the rulesets when asked."""
    ranked = (AgentReport.objects.filter(system_id__in=list(system_ids))
              .annotate(rank=Window(RowNumber(), partition_by=[F("system_id")],
                                    order_by=[F("received_at").desc(), F("id").desc()]))
              .filter(rank=1).values_list("system_id", "id", "received_at", "derived"))
    newest = {system_id: Newest(pk, received, derived)
              for system_id, pk, received, derived in ranked}
    if with_ruleset and newest:
        by_id = {n.id: n for n in newest.values()}
        for pk, ruleset in AgentReport.objects.filter(id__in=list(by_id)).values_list(
                "id", "facts__ruleset"):
            by_id[pk].ruleset = ruleset
    return newest


def evaluate(kinds: Iterable[str] = KINDS, now: dt.datetime | None = None,
             systems: Iterable[System] | None = None) -> list[Drift]:
    """The drift of every system with a live agent token (or of `systems`)."""
    wanted = frozenset(kinds)
    now = now or timezone.now()
    # A retired system reports no more: its token is not read (retire_system revokes it).
    tokens = AgentToken.objects.filter(revoked_at__isnull=True,
                                       system__retired_at__isnull=True).select_related("system")
    if systems is not None:
        tokens = tokens.filter(system__in=list(systems))
    live = {t.system_id: t for t in tokens}
    if not live:
        return []
    # The rulesets are the largest part of a report: read only when they are compared.
    newest = newest_reports(live, with_ruleset=RULESET in wanted)
    flows: dict[int, list[Documented]] = defaultdict(list)
    if wanted & {PORT_UNDOCUMENTED, PORT_NOT_LISTENING}:
        for system_id, protocol, port, port_end, service in Flow.objects.filter(
                in_effect(now), system_id__in=list(live),
                direction=Direction.INGRESS).values_list(
                "system_id", "protocol", "port", "port_end", "service"):
            flows[system_id].append(Documented(protocol, port, port_end, service))
    changes: dict[int, list[ConfigurationChange]] = defaultdict(list)
    if UNRECORDED_CHANGE in wanted:
        pending = [sid for sid, n in newest.items() if n.derived.get("unrecorded")]
        for change in ConfigurationChange.objects.filter(system_id__in=pending).only(
                "system_id", "covers", "made_at"):
            changes[change.system_id].append(change)
    return [compare(token.system, newest.get(sid), flows[sid], token.created_at, wanted, now,
                    changes[sid])
            for sid, token in sorted(live.items(), key=lambda item: item[1].system.name)]


# The seven drift controls are evaluated one after the other (a dashboard, the duties
# round): they share one evaluation of every kind for a few seconds instead of reading the
# same reports seven times. Inside a transaction (a service, a test changing records) each
# evaluates afresh.
REUSE_SECONDS = 5.0
_reuse_lock = threading.Lock()
_reused: list[tuple[str, float, list[Drift]]] = []


def _every_kind() -> list[Drift]:
    if connection.in_atomic_block:
        return evaluate()
    key = f"{connection.alias}:{connection.settings_dict['NAME']}"
    with _reuse_lock:
        if _reused and _reused[0][0] == key and (
                time.monotonic() - _reused[0][1] < REUSE_SECONDS):
            return _reused[0][2]
    started = time.monotonic()
    found = evaluate()
    with _reuse_lock:
        _reused[:] = [(key, started, found)]
    return found


def findings(kind: str) -> list[Finding]:
    """The findings of one kind, for its control."""
    prefix = f"agent.{kind}:"
    return [f for drift in _every_kind() for f in drift.findings
            if f.subject.startswith(prefix)]


def system_drift(system: System) -> Drift:
    """One system's drift (every kind), for its agent panel; a system without a live
    token has an empty one."""
    found = evaluate(systems=[system])
    return found[0] if found else Drift(system)
