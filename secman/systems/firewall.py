"""Firewall rules from the register (SM 3.1.2 Ingress, Egress).

"All ports on which incoming traffic is expected shall be documented; traffic to other
ports must be blocked. Unexpected traffic must be logged as an exception." A system's
nftables ruleset is therefore generated from its flows in effect: default drop in every
direction, each approved flow allowed by one rule whose comment names the flow, and
everything else counted, logged with a stable prefix (the logging chapter counts
"secman-drop-in " and "secman-drop-out ") and dropped.

The same module reads what a host really runs (`nft -j list ruleset`, sent by the host
agent) and reduces both to one comparable form, so drift is a set difference with a
sentence per element (`ruleset_differences`)."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from secman.systems.choices import Direction, FlowStatus, Protocol
from secman.systems.models import Flow, System

TABLE_FAMILY, TABLE_NAME = "inet", "secman"
LOG_PREFIX = {"input": "secman-drop-in ", "output": "secman-drop-out ",
              "forward": "secman-drop-fwd "}
CHAINS = ("input", "forward", "output")
TEMPORARY_PREFIX = "secman-temporary "
NFT = "/usr/sbin/nft"
CHECK_TIMEOUT = 20  # seconds: nft -c on a ruleset of a few hundred rules takes well under 1

# The ICMP that IPv4 and IPv6 need to work (RFC 4890 for IPv6): errors, so path MTU
# discovery and unreachable ports are reported, and IPv6 neighbour discovery and
# multicast listener messages, without which IPv6 addresses do not resolve on the link.
# Echo (ping) is not among them: monitoring that pings a system documents it as a flow.
ICMP_V4 = ("destination-unreachable", "time-exceeded", "parameter-problem")
ICMP_V6 = ("destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem",
           "nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit",
           "nd-neighbor-advert", "mld-listener-query", "mld-listener-report",
           "mld2-listener-report")

ANY, LOCAL = "ANY", "local"
_ANY_WORDS = {"any", "*", "all", "internet", "0.0.0.0/0", "::/0"}
_LOCAL_WORDS = {"local", "localhost", "loopback", "127.0.0.1", "::1"}


# --- which flows, and whom they name -------------------------------------------------------


def flows_in_effect(system: System | None, now: Any = None) -> QuerySet[Flow]:
    """Approved flows that have not ended (of one system, or of all with None): an
    expired temporary access (SP 3.1.1.1) is no longer allowed even before someone marks
    it ended."""
    now = now or timezone.now()
    chosen = Flow.objects.all() if system is None else Flow.objects.filter(system=system)
    return (chosen.filter(status=FlowStatus.APPROVED, ended_at__isnull=True)
            .filter(Q(temporary_until__isnull=True) | Q(temporary_until__gt=now))
            .select_related("peer_system").order_by("direction", "protocol", "port", "id"))


@dataclass(frozen=True)
class Peer:
    """Whom a flow names, resolved: ANY, local, or networks (v4 and v6)."""

    kind: str  # "any", "local", "networks", "unresolved"
    networks: tuple[str, ...] = ()
    why: str = ""


def _network_text(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """One spelling per network: a single host is its address, nft's way too."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _as_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def resolve_peer(flow: Flow) -> Peer:
    peer = (flow.peer or "").strip()
    if flow.peer_system_id is not None:
        assert flow.peer_system is not None
        found = sorted({_network_text(ipaddress.ip_network(a.address))
                        for a in flow.peer_system.addresses.all()})
        if not found:
            return Peer("unresolved", why=f"system {flow.peer_system.name} has no addresses "
                                          "in the register")
        return Peer("networks", tuple(found))
    if peer.lower() in _ANY_WORDS:
        return Peer("any")
    if peer.lower() in _LOCAL_WORDS:
        return Peer("local")
    if (network := _as_network(peer)) is not None:
        return Peer("networks", (_network_text(network),))
    if not peer:
        return Peer("unresolved", why="no origin or destination is documented")
    return Peer("unresolved", why=f"{peer!r} is neither ANY, local, an address nor a "
                                  "system of the register")


# --- the comparable form -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Allowance:
    """One thing a ruleset lets through, in a form both sides reduce to: ingress 22/tcp
    from 10.0.0.5, egress any/udp to ANY, or a base rule (loopback, established, an ICMP
    type)."""

    chain: str  # input, output
    protocol: str  # tcp, udp, icmp; "base" for the rules every ruleset has
    port: str  # "22", "8000-8010", "any"; for base rules what they allow
    peer: str  # ANY, local, an address or network

    def sentence(self) -> str:
        if self.protocol == "base":
            return f"{self.port} in {self.chain}"
        what = f"all {self.protocol}" if self.port == "any" else f"{self.port}/{self.protocol}"
        if self.protocol == "icmp":
            what = "icmp" if self.port == "any" else f"icmp {self.port}"
        direction = "from" if self.chain == "input" else "to"
        return f"{what} {direction} {self.peer}"


@dataclass
class Rules:
    """A ruleset reduced: each chain's default policy, whether its log-and-drop rule is
    there, and what it allows (each with the flow or rule comment it comes from)."""

    policies: dict[str, str] = field(default_factory=dict)
    logged: set[str] = field(default_factory=set)  # chains ending in the logged drop
    allows: dict[Allowance, str] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # accept rules not understood
    blocks: list[str] = field(default_factory=list)  # drop rules other than the logged one
    warnings: list[str] = field(default_factory=list)


def _port_text(flow: Flow) -> str:
    if flow.port is None:
        return "any"
    if flow.port_end and flow.port_end != flow.port:
        return f"{flow.port}-{flow.port_end}"
    return str(flow.port)


def flow_label(flow: Flow) -> str:
    """How a rule's comment and a difference name a flow: "flow 12: admin console", and
    "flow 13 until 2026-12-24 18:00: vendor access" for a temporary one."""
    purpose = flow.purpose or flow.service or flow.port_label
    until = (f" until {timezone.localtime(flow.temporary_until):%Y-%m-%d %H:%M}"
             if flow.temporary_until else "")
    return _safe(f"flow {flow.pk}{until}: {purpose}", 120)


def _base_allowances() -> dict[Allowance, str]:
    base: dict[Allowance, str] = {}
    for chain in ("input", "output"):
        base[Allowance(chain, "base", "loopback", LOCAL)] = "loopback"
        base[Allowance(chain, "base", "established,related", ANY)] = "replies"
        for name in ICMP_V4:
            base[Allowance(chain, "base", f"icmp {name}", ANY)] = "IPv4 needs it"
        for name in ICMP_V6:
            base[Allowance(chain, "base", f"icmpv6 {name}", ANY)] = "IPv6 needs it"
    return base


def _flow_allowances(flow: Flow, peer: Peer) -> list[Allowance]:
    chain = "input" if flow.direction == Direction.INGRESS else "output"
    port = "any" if flow.protocol == Protocol.ICMP else _port_text(flow)
    peers = {"any": [ANY], "local": [LOCAL]}.get(peer.kind, list(peer.networks))
    return [Allowance(chain, flow.protocol, port, p) for p in peers]


def expected_rules(system: System, now: Any = None) -> Rules:
    """What the generated ruleset of `system` allows, reduced (see `rules_in`)."""
    rules = Rules(policies={chain: "drop" for chain in CHAINS}, logged=set(CHAINS),
                  allows=_base_allowances())
    for flow in flows_in_effect(system, now):
        peer = resolve_peer(flow)
        if peer.kind == "unresolved":
            rules.warnings.append(f"{flow_label(flow)} ({flow.direction} {flow.port_label} "
                                  f"{_safe(flow.peer, 80)!r}) is not allowed: {peer.why}")
            continue
        for allowance in _flow_allowances(flow, peer):
            rules.allows.setdefault(allowance, flow_label(flow))
    return rules


# --- the ruleset's text --------------------------------------------------------------------


def _safe(text: str, limit: int) -> str:
    """Text from the register (names come from imported documents) made safe inside a
    quoted nft comment or a # line: printable ASCII without quotes or backslashes, one
    line, bounded (nft comments hold 128 bytes)."""
    cleaned = re.sub(r"[^\x20-\x7e]", "?", text).replace('"', "'").replace("\\", "/")
    return cleaned[:limit]


def _addresses_match(field_name: str, networks: Iterable[str]) -> list[str]:
    """`ip saddr { ... }` and `ip6 saddr { ... }` for the networks of each family."""
    v4 = [n for n in networks if ":" not in n]
    v6 = [n for n in networks if ":" in n]
    matches = []
    for family, found in (("ip", v4), ("ip6", v6)):
        if found:
            listed = found[0] if len(found) == 1 else "{ " + ", ".join(found) + " }"
            matches.append(f"{family} {field_name} {listed}")
    return matches


def _protocol_match(flow: Flow, family: str | None) -> str:
    if flow.protocol == Protocol.ICMP:
        if family == "ip":
            return "meta l4proto icmp"
        if family == "ip6":
            return "meta l4proto ipv6-icmp"
        return "meta l4proto { icmp, ipv6-icmp }"
    if flow.port is None:
        return f"meta l4proto {flow.protocol}"
    return f"{flow.protocol} dport {_port_text(flow)}"


def _flow_lines(flow: Flow, peer: Peer) -> list[str]:
    comment = f'comment "{flow_label(flow)}"'
    # SP 3.1.1.1: a temporary access is logged while it lasts (each new connection: the
    # replies are accepted by the established rule before this one).
    accept = (f'log prefix "{TEMPORARY_PREFIX}" accept' if flow.temporary_until
              else "accept")
    ingress = flow.direction == Direction.INGRESS
    if peer.kind == "any":
        return [f"{_protocol_match(flow, None)} {accept} {comment}"]
    if peer.kind == "local":
        interface = 'iifname "lo"' if ingress else 'oifname "lo"'
        return [f"{interface} {_protocol_match(flow, None)} {accept} {comment}"]
    lines = []
    for address_match in _addresses_match("saddr" if ingress else "daddr", peer.networks):
        family = address_match.split(" ", 1)[0]
        lines.append(f"{address_match} {_protocol_match(flow, family)} {accept} {comment}")
    return lines


def _base_lines(chain: str) -> list[str]:
    interface = 'iifname "lo"' if chain == "input" else 'oifname "lo"'
    return [
        f'{interface} accept comment "loopback"',
        'ct state established,related accept comment "replies"',
        f'icmp type {{ {", ".join(ICMP_V4)} }} accept comment "IPv4 needs it"',
        f'icmpv6 type {{ {", ".join(ICMP_V6)} }} accept comment "IPv6 needs it"',
    ]


def _chain(name: str, body: list[str]) -> list[str]:
    head = f"\tchain {name} {{", f"\t\ttype filter hook {name} priority filter; policy drop;"
    tail = [f'\t\tcounter log prefix "{LOG_PREFIX[name]}" drop '
            f'comment "not documented: logged and dropped (SM 3.1.2)"', "\t}"]
    return [*head, *(f"\t\t{line}" for line in body), *tail]


def generate(system: System, now: Any = None) -> tuple[str, list[str]]:
    """The ruleset's text and the warnings (flows whose peer cannot be resolved)."""
    rules_by_chain: dict[str, list[str]] = {"input": _base_lines("input"), "forward": [],
                                            "output": _base_lines("output")}
    warnings = []
    for flow in flows_in_effect(system, now):
        peer = resolve_peer(flow)
        if peer.kind == "unresolved":
            warnings.append(f"{flow_label(flow)} ({flow.direction} {flow.port_label} "
                            f"{_safe(flow.peer, 80)!r}) is not allowed: {_safe(peer.why, 200)}")
            continue
        chain = "input" if flow.direction == Direction.INGRESS else "output"
        rules_by_chain[chain].extend(_flow_lines(flow, peer))
    header = [f"# nftables ruleset of {_safe(system.name, 63)}, generated by secman from the "
              "systems register (SM 3.1.2).",
              "# Load it with `nft -f FILE`: it replaces table inet secman in one "
              "transaction and touches no other table.",
              "# Default drop in input, output and forward; each documented flow in effect is "
              "allowed by a rule naming it;",
              f'# everything else is counted, logged ("{LOG_PREFIX["input"]}", '
              f'"{LOG_PREFIX["output"]}") and dropped.']
    if warnings:
        header.append("# Flows NOT allowed because their peer cannot be resolved:")
        header.extend(f"#   {_safe(w, 300)}" for w in warnings)
    lines = [*header, "",
             f"table {TABLE_FAMILY} {TABLE_NAME}",
             f"delete table {TABLE_FAMILY} {TABLE_NAME}", "",
             f"table {TABLE_FAMILY} {TABLE_NAME} {{"]
    for name in CHAINS:
        lines.extend(_chain(name, rules_by_chain[name]))
    lines.append("}")
    return "\n".join(lines) + "\n", warnings


def ruleset(system: System) -> str:
    """The nftables ruleset of `system` (see `generate` for its warnings too)."""
    return generate(system)[0]


def warnings_for(system: System) -> list[str]:
    return generate(system)[1]


def check(text: str) -> list[str]:
    """`nft -c -f -`: the errors nft finds in a ruleset, as messages; [] when it loads.
    Needs CAP_NET_ADMIN (nft checks against the kernel)."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the ruleset goes to stdin
            [NFT, "-c", "-f", "-"], input=text, capture_output=True,
            text=True, timeout=CHECK_TIMEOUT, check=False)
    except FileNotFoundError:
        return [f"{NFT} is not installed (Debian package nftables)"]
    except subprocess.TimeoutExpired:
        return [f"nft -c did not answer within {CHECK_TIMEOUT} seconds"]
    if done.returncode == 0:
        return []
    if "Operation not permitted" in done.stderr:
        return ["nft -c needs root (CAP_NET_ADMIN) to check a ruleset: run as root, or "
                "skip the check (--no-check)"]
    messages = [line.rstrip() for line in done.stderr.splitlines() if line.strip()]
    # nft prints "/dev/stdin:12:3-8: Error: ..." then the line and a caret marker.
    errors = [line.replace("/dev/stdin:", "line ") for line in messages if "Error" in line]
    return errors or messages or [f"nft -c failed with exit status {done.returncode}"]


# --- reading `nft -j list ruleset` ---------------------------------------------------------


class _Unreadable(Exception):
    pass


def _right_values(right: Any) -> list[Any]:
    if isinstance(right, dict) and "set" in right:
        return list(right["set"])
    if isinstance(right, list):  # flags (ct state) are listed without a set
        return right
    return [right]


def _address_value(value: Any) -> str:
    if isinstance(value, dict) and "prefix" in value:
        return _network_text(ipaddress.ip_network(
            f'{value["prefix"]["addr"]}/{value["prefix"]["len"]}', strict=False))
    if isinstance(value, dict) and "range" in value:
        return "-".join(str(v) for v in value["range"])
    network = _as_network(str(value))
    if network is None:
        raise _Unreadable(f"address {value!r}")
    return _network_text(network)


def _port_value(value: Any) -> str:
    if isinstance(value, dict) and "range" in value:
        low, high = value["range"]
        return f"{low}-{high}"
    if isinstance(value, int | str):
        return str(value)
    raise _Unreadable(f"port {value!r}")


@dataclass
class _Matches:
    interface: str = ""
    ct_states: tuple[str, ...] = ()
    protocols: set[str] = field(default_factory=set)
    ports: list[str] = field(default_factory=list)
    peers: list[str] = field(default_factory=list)
    icmp_types: list[str] = field(default_factory=list)


_L4 = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "icmp", "icmpv6": "icmp",
       6: "tcp", 17: "udp", 1: "icmp", 58: "icmp"}


def _read_match(match: dict[str, Any], found: _Matches) -> None:
    if match.get("op", "==") not in {"==", "in"}:
        raise _Unreadable(f"operator {match.get('op')}")
    left, right = match.get("left"), match.get("right")
    if not isinstance(left, dict):
        raise _Unreadable(f"match on {left!r}")
    if "meta" in left:
        key = left["meta"].get("key")
        if key in {"iifname", "oifname", "iif", "oif"}:
            found.interface = str(right)
            return
        if key in {"l4proto", "nfproto"} and key == "l4proto":
            found.protocols |= {_L4.get(v, str(v)) for v in _right_values(right)}
            return
        raise _Unreadable(f"meta {key}")
    if "ct" in left and left["ct"].get("key") == "state":
        found.ct_states = tuple(sorted(str(v) for v in _right_values(right)))
        return
    if "payload" in left:
        protocol, name = left["payload"].get("protocol"), left["payload"].get("field")
        if protocol in {"ip", "ip6"} and name in {"saddr", "daddr"}:
            found.peers.extend(_address_value(v) for v in _right_values(right))
            return
        if protocol in {"tcp", "udp"} and name == "dport":
            found.protocols.add(protocol)
            found.ports.extend(_port_value(v) for v in _right_values(right))
            return
        if protocol in {"icmp", "icmpv6"} and name == "type":
            family = "icmp" if protocol == "icmp" else "icmpv6"
            found.icmp_types.extend(f"{family} {v}" for v in _right_values(right))
            return
        raise _Unreadable(f"{protocol} {name}")
    raise _Unreadable(f"match on {sorted(left)}")


def _rule_allowances(chain: str, exprs: list[dict[str, Any]]) -> list[Allowance] | None:
    """What one rule allows, or None when it is not an accept rule."""
    verdicts = [k for e in exprs for k in e if k in {"accept", "drop", "reject", "jump",
                                                      "goto", "return", "queue"}]
    if verdicts != ["accept"]:
        if verdicts and verdicts[-1] in {"jump", "goto", "queue"}:
            raise _Unreadable(f"{verdicts[-1]} (secman's rulesets use none)")
        return None
    found = _Matches()
    for expr in exprs:
        if "match" in expr:
            _read_match(expr["match"], found)
        elif not {"accept", "counter", "log", "limit"} & set(expr):
            raise _Unreadable(f"statement {sorted(expr)}")
    if found.ct_states:
        return [Allowance(chain, "base", ",".join(found.ct_states), ANY)]
    if found.icmp_types:
        return [Allowance(chain, "base", t, ANY) for t in found.icmp_types]
    local = found.interface == "lo"
    if found.interface and not local:
        raise _Unreadable(f"interface {found.interface}")
    if local and not found.protocols:
        return [Allowance(chain, "base", "loopback", LOCAL)]
    peers = [LOCAL] if local else (found.peers or [ANY])
    protocols = found.protocols or {"tcp", "udp", "icmp"}  # no protocol match: all of them
    ports = found.ports or ["any"]
    return [Allowance(chain, protocol, "any" if protocol == "icmp" else port, peer)
            for protocol in sorted(protocols) for port in ports for peer in peers]


def rules_in(nft_json: dict[str, Any]) -> Rules:
    """What the table inet secman of an `nft -j list ruleset` document allows, reduced to
    the form `expected_rules` gives. Accept rules it cannot read are listed as such (so a
    hand-written rule is never silently taken for a documented one)."""
    rules = Rules()
    items = nft_json.get("nftables", []) if isinstance(nft_json, dict) else []
    ours = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def in_table(body: dict[str, Any]) -> bool:
        return body.get("family") == TABLE_FAMILY and body.get("table") == TABLE_NAME

    # The document comes from a host: every value is checked for its type before use.

    base_chains = {}
    for item in ours:
        chain = item.get("chain")
        if (isinstance(chain, dict) and in_table(chain) and isinstance(chain.get("hook"), str)
                and chain["hook"] in CHAINS and isinstance(chain.get("name"), str)):
            base_chains[chain["name"]] = chain["hook"]
            rules.policies[chain["hook"]] = str(chain.get("policy", "accept"))
    for item in ours:
        rule = item.get("rule")
        if not (isinstance(rule, dict) and in_table(rule) and isinstance(rule.get("chain"), str)
                and rule["chain"] in base_chains):
            continue
        hook = base_chains[rule["chain"]]
        listed = rule.get("expr")
        exprs = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        label = _safe(str(rule.get("comment") or f"rule {rule.get('handle')}"), 120)
        keys = {k for e in exprs for k in e}
        log = next((e["log"] for e in exprs if "log" in e), None)
        if ({"drop", "log", "counter"} <= keys and isinstance(log, dict)
                and log.get("prefix") == LOG_PREFIX[hook]
                and not any("match" in e for e in exprs)):
            rules.logged.add(hook)
            continue
        if keys & {"drop", "reject"}:
            # secman generates one drop per chain, the logged one: any other may block a
            # documented flow ahead of its rule.
            rules.blocks.append(f"{hook}: {label}")
            continue
        try:
            allowed = _rule_allowances(hook, exprs)
        except (_Unreadable, ValueError, KeyError, TypeError, AttributeError) as why:
            rules.unreadable.append(f"{hook}: {label} ({_safe(str(why), 80)})")
            continue
        for allowance in allowed or []:
            rules.allows.setdefault(allowance, label)
    return rules


def rules_in_ruleset(nft_json: dict[str, Any]) -> bool:
    """Whether the document holds the table secman loads."""
    items = nft_json.get("nftables")
    return isinstance(items, list) and any(
        isinstance(i, dict) and isinstance(i.get("table"), dict)
        and i["table"].get("family") == TABLE_FAMILY and i["table"].get("name") == TABLE_NAME
        for i in items)


def compare(expected: Rules, actual: Rules) -> list[str]:
    differences = []
    for chain in CHAINS:
        policy = actual.policies.get(chain)
        if policy is None:
            differences.append(f"has no {chain} chain in table {TABLE_FAMILY} {TABLE_NAME}")
            continue
        if policy != expected.policies.get(chain):
            differences.append(f"default policy of {chain} is {policy}")
        if chain not in actual.logged:
            differences.append(f"does not log and drop undocumented traffic in {chain} "
                               f'(prefix "{LOG_PREFIX[chain].strip()}")')
    for allowance in sorted(set(actual.allows) - set(expected.allows)):
        differences.append(f"allows {allowance.sentence()} that no flow documents "
                           f"(rule: {actual.allows[allowance]})")
    for allowance in sorted(set(expected.allows) - set(actual.allows)):
        differences.append(f"does not allow {allowance.sentence()} "
                           f"({expected.allows[allowance]})")
    differences.extend(f"has an accept rule secman cannot read: {u}" for u in actual.unreadable)
    differences.extend(f"drops traffic by a rule secman did not generate (it may block a "
                       f"documented flow): {b}" for b in actual.blocks)
    return differences


def ruleset_differences(system: System, nft_json: dict[str, Any]) -> list[str]:
    """How the ruleset a host runs (`nft -j list ruleset`) differs from the one the
    register generates for `system`, one sentence each; [] when they agree. The drift
    control calls this with the newest agent report's ruleset."""
    if not isinstance(nft_json, dict) or not rules_in_ruleset(nft_json):
        return [f"the generated rules are not loaded: no table {TABLE_FAMILY} {TABLE_NAME} "
                "in the host's ruleset"]
    return compare(expected_rules(system), rules_in(nft_json))
