"""The network diagram (SP 3.1.1: "the Systems Administration team leader must keep the
network diagram, under revision control; diagrams must be updated when any change is
made").

The diagram is drawn from the register with Graphviz on the server (`dot -Tsvg`, no
network, no script): systems grouped by the network they face (Internet, intranet,
internal), hosts drawn around their guests, each flow in effect an edge labelled with
its ports, an ingress from anywhere drawn from an "Internet" node, critical systems in
red. A revision is kept only when what is drawn changes (its SHA-256 differs), so the
register's services may call `draw_if_changed` after every approved change."""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max

from secman.authority.services import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.selectors import holds_any, is_administrator, leads
from secman.systems.choices import Criticality, Direction, Network, SystemStatus
from secman.systems.firewall import flows_in_effect, resolve_peer
from secman.systems.models import Address, DiagramRevision, Flow, System

DOT = "/usr/bin/dot"
DOT_TIMEOUT = 120  # seconds: sfdp draws 500 systems with 5000 edges in about 20
LARGE_GRAPH_EDGES = 100  # above it dot's layered drawing takes too long (see _layout)
SECTION = "SP 3.1.1"
INTERNET_NODE = "internet"
# The network a system is drawn in: the most exposed one it has an address on.
EXPOSURE = [Network.INTERNET, Network.INTRANET, Network.INTERNAL]
CLUSTER_LABELS = {Network.INTERNET: "Internet-facing", Network.INTRANET: "Intranet",
                  Network.INTERNAL: "Internal", "": "No address in the register"}
NETWORK_COLOURS = {Network.INTERNET: "#fdecea", Network.INTRANET: "#fff7e0",
                   Network.INTERNAL: "#e8f4ea", "": "#f2f2f2"}
# A system's box is a stronger shade of its network's colour (the only sign of its network
# when a large register is drawn without the network boxes).
NODE_COLOURS = {Network.INTERNET: "#f6c1bb", Network.INTRANET: "#fbe3a0",
                Network.INTERNAL: "#c4e3cb", "": "#dddddd"}

logger = logging.getLogger(__name__)


# --- who ---------------------------------------------------------------------------------


def may_see_network(person: Any) -> bool:
    """The diagram shows every address and flow: the register's readers see it (Systems
    Administrators, team leaders, the Board, auditors and the administrator)."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.TEAM_LEADER, Role.BOARD_MEMBER,
                     Role.AUDITOR) or is_administrator(person)


def why_not_see_network(person: Any) -> NotAllowed | None:
    if may_see_network(person):
        return None
    return NotAllowed("the network diagram is for Systems Administrators, team leaders, "
                      "the Board and auditors", section=SECTION)


def may_draw_network(person: Any) -> bool:
    """A revision follows an approved change: drawn by whoever approved it (Systems
    Administrators, their team leader, the Board), the administrator, or secman itself
    (None: the command line and scheduled work). Auditors and other teams only read."""
    return person is None or is_administrator(person) or holds_any(
        person, Role.SYSTEMS_ADMINISTRATOR, Role.BOARD_MEMBER) or leads(
        person, TeamKind.SYSTEMS_ADMINISTRATION)


# --- the drawing -------------------------------------------------------------------------


def _quoted(text: str) -> str:
    """A dot string: register text (names come from imported documents) cannot end the
    string or use Graphviz's label escapes (\\N, \\G, ...): backslashes are doubled,
    quotes escaped, control characters dropped."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{cleaned}"'


def _network_of(addresses: Iterable[Address]) -> str:
    networks = {a.network for a in addresses}
    return next((n for n in EXPOSURE if n in networks), "")


def _node(system: System, addresses: list[Address]) -> str:
    lines = [system.name, *[a.address for a in addresses]]
    fill = NODE_COLOURS[_network_of(addresses)]
    if system.criticality == Criticality.CRITICAL:
        lines.insert(1, "critical")
        style = f'color="#b00020", penwidth=3, fontcolor="#b00020", style="filled,bold", ' \
                f'fillcolor="{fill}"'
    else:
        style = f'style=filled, fillcolor="{fill}"'
    label = "\\n".join(_quoted(line)[1:-1] for line in lines)
    return f's{system.pk} [label="{label}", shape=box, {style}];'


def _peer_nodes(flow: Flow, by_address: dict[str, int], drawn: set[int]) -> list[str]:
    """The node ids a flow's peer is drawn as."""
    peer = resolve_peer(flow)
    if peer.kind == "any":
        return [INTERNET_NODE]
    if peer.kind == "local":
        return []
    if flow.peer_system_id in drawn:
        return [f"s{flow.peer_system_id}"]
    if flow.peer_system_id is not None:  # retired: drawn as a name outside the register
        return [f"x_{_id(flow.peer)}"]
    if peer.kind == "networks":
        return [f"s{by_address[n]}" if n in by_address else f"x_{_id(n)}"
                for n in peer.networks]
    return [f"x_{_id(flow.peer)}"]


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def dot_source() -> str:
    """The diagram of the register as it is now, in Graphviz's language. Deterministic:
    the same register gives the same text (its digest tells revisions apart)."""
    systems = list(System.objects.exclude(status=SystemStatus.RETIRED)
                   .order_by("name").prefetch_related("addresses"))
    addresses = {s.pk: sorted(s.addresses.all(), key=lambda a: a.address) for s in systems}
    by_address = {a.address: s.pk for s in systems for a in addresses[s.pk]}
    present = {s.pk for s in systems}
    guests: dict[int, list[System]] = defaultdict(list)
    for system in systems:
        if system.host_id in present:
            guests[system.host_id].append(system)
    tops = [s for s in systems if s.host_id not in present]
    edges = _edge_lines(systems, by_address)
    lines = ["digraph network {", f"\tgraph [{_layout(edges)}];",
             '\tnode [fontname="Helvetica", fontsize=10];',
             '\tedge [fontname="Helvetica", fontsize=9, color="#555555"];',
             f'\t{INTERNET_NODE} [label="Internet", shape=ellipse, style=filled, '
             'fillcolor="#dde6f5"];']
    for network in [*EXPOSURE, ""]:
        members = [s for s in tops if _network_of(
            [a for g in [s, *guests[s.pk]] for a in addresses[g.pk]]) == network]
        if not members:
            continue
        label = CLUSTER_LABELS[network]
        lines += [f"\tsubgraph cluster_{network or 'none'} {{", f"\t\tlabel={_quoted(label)};",
                  f'\t\tstyle=filled; fillcolor="{NETWORK_COLOURS[network]}"; color="#999999";']
        for system in members:
            lines += _system_lines(system, guests, addresses, "\t\t")
        lines.append("\t}")
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layout(edges: list[str]) -> str:
    """dot's layered drawing, with its newer ranking (the classic one fails on flows
    that cross clusters both ways: "trouble in init_rank"). dot takes minutes beyond a
    few hundred edges, so a larger register is drawn by sfdp, a force-directed layout
    that ignores the network boxes: nodes keep their network's colour instead."""
    common = 'fontname="Helvetica", fontsize=12'
    if sum(" -> " in line for line in edges) <= LARGE_GRAPH_EDGES:
        return f"rankdir=LR, newrank=true, compound=true, nodesep=0.3, ranksep=1.2, {common}"
    return f"layout=sfdp, overlap=prism, splines=false, outputorder=edgesfirst, {common}"


def _system_lines(system: System, guests: dict[int, list[System]],
                  addresses: dict[int, list[Address]], indent: str) -> list[str]:
    if not guests[system.pk]:
        return [indent + _node(system, addresses[system.pk])]
    lines = [f"{indent}subgraph cluster_host_{system.pk} {{",
             f"{indent}\tlabel={_quoted(f'host {system.name}')};",
             f'{indent}\tstyle="rounded,filled"; fillcolor="#ffffff"; color="#666666";',
             indent + "\t" + _node(system, addresses[system.pk])]
    for guest in guests[system.pk]:
        lines += _system_lines(guest, guests, addresses, indent + "\t")
    lines.append(indent + "}")
    return lines


def _edge_lines(systems: list[System], by_address: dict[str, int]) -> list[str]:
    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    outside: dict[str, str] = {}
    drawn = {s.pk: s for s in systems}
    # One query for every flow (the register holds thousands); ordered, so the same
    # register gives the same text.
    for flow in flows_in_effect(None).prefetch_related("peer_system__addresses"):
        system = drawn.get(flow.system_id)
        if system is None:  # a retired system's flows are not drawn
            continue
        for node in _peer_nodes(flow, by_address, set(drawn)):
            if node.startswith("x_"):
                outside[node] = flow.peer
            key = ((node, f"s{system.pk}") if flow.direction == Direction.INGRESS
                   else (f"s{system.pk}", node))
            labels[key].add(flow.port_label)
    lines = [f'\t{node} [label={_quoted(text)}, shape=note, style=dashed];'
             for node, text in sorted(outside.items())]
    for (tail, head), ports in sorted(labels.items()):
        label = ", ".join(sorted(ports, key=_port_order))
        lines.append(f"\t{tail} -> {head} [label={_quoted(label)}];")
    return lines


def _port_order(label: str) -> tuple[int, str]:
    digits = re.match(r"\d+", label)
    return (int(digits.group()) if digits else 70000, label)


def digest_of(dot: str) -> str:
    return hashlib.sha256(dot.encode()).hexdigest()


def render_svg(dot: str) -> str:
    """Graphviz draws the SVG here, on the server, with no network."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the graph goes to stdin
            [DOT, "-Tsvg"], input=dot, capture_output=True, text=True,
            timeout=DOT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RuleViolation(f"{DOT} is not installed (Debian package graphviz)",
                            section=SECTION) from None
    except subprocess.TimeoutExpired:
        raise RuleViolation(f"Graphviz did not draw the diagram within {DOT_TIMEOUT} s",
                            section=SECTION) from None
    if done.returncode != 0:
        raise RuleViolation(f"Graphviz could not draw the diagram: {done.stderr.strip()}",
                            section=SECTION)
    return done.stdout


# --- revisions ---------------------------------------------------------------------------


def current_revision() -> DiagramRevision | None:
    return DiagramRevision.objects.order_by("-number").first()


def draw_if_changed(*, actor: Any, reason: str) -> DiagramRevision | None:
    """A new revision of the diagram when the register now draws differently from the
    newest one (SP 3.1.1); None when nothing drawn changed. `reason` says which change
    (the register's services pass the approved change)."""
    if not may_draw_network(actor):
        raise NotAllowed("the network diagram is revised by Systems Administrators, their "
                         "team leader and the Board", section=SECTION)
    reason = reason.strip()
    if not reason:
        raise RuleViolation("say which change the new revision follows (reason)",
                            section=SECTION, field="reason")
    check_text(DiagramRevision, {"reason": reason})
    dot = dot_source()
    digest = digest_of(dot)
    newest = current_revision()
    if newest is not None and newest.digest == digest:
        return None
    svg = render_svg(dot)  # outside the transaction: drawing can take seconds
    with transaction.atomic():
        # The number is taken under the lock of the newest row, so two changes approved
        # at once make consecutive revisions (or the second finds nothing new).
        locked = (DiagramRevision.objects.select_for_update().order_by("-number").first())
        if locked is not None and locked.digest == digest:
            return None
        number = (DiagramRevision.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = DiagramRevision.objects.create(number=number, dot=dot, svg=svg,
                                                  digest=digest, reason=reason,
                                                  created_by=actor)
        record("systems.diagram.revise", actor=actor, authority=resolve_authority(SECTION),
               subject=revision, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman",
               details={"number": number, "digest": digest, "reason": reason,
                        "previous": locked.number if locked else None})
    return revision


def redraw_after_change(reason: str) -> None:
    """Redraw after a change of the register has committed, as secman itself (the
    register's services and its import call this through transaction.on_commit). A
    drawing that fails is logged and leaves the change in place: the
    systems.diagram_current control then reports the diagram as stale."""
    try:
        draw_if_changed(actor=None, reason=reason)
    except Exception:
        logger.exception("the network diagram was not redrawn after: %s", reason)
