"""The generated ruleset on a real (namespaced) network: two namespaces joined by a veth
pair, the system's addresses on one side. Documented traffic passes both ways, over IPv4
and IPv6 (neighbour discovery must get through); undocumented traffic is dropped, and
the log rule's counter shows it was logged (the kernel log may be unreadable in a
container, the counter is not)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from secman.systems import firewall
from tests.systems.test_firewall_support import Link, in_ns, linked, make_flow, make_system

pytestmark = pytest.mark.django_db

SERVER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen()
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        with conn:
            conn.sendall(b"ok")
"""

CLIENT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5) as c:
        c.settimeout(1.5)
        sys.exit(0 if c.recv(2) == b"ok" else 2)
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
"""


@contextmanager
def listening(ns: str, address: str, port: int) -> Iterator[None]:
    server = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER,
                               address, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield
    finally:
        server.kill()
        server.wait(timeout=5)


def connects(ns: str, address: str, port: int) -> bool:
    done = in_ns(ns, sys.executable, "-c", CLIENT, address, str(port), check=False,
                 timeout=10)
    return done.returncode == 0


def logged_drops(ns: str) -> dict[str, int]:
    """Packets counted by each chain's log-and-drop rule."""
    document = json.loads(in_ns(ns, "nft", "-j", "list", "ruleset").stdout)
    counts = {}
    for item in document["nftables"]:
        rule = item.get("rule")
        if rule and rule["table"] == "secman" and any("log" in e for e in rule["expr"]):
            counter = next(e["counter"] for e in rule["expr"] if "counter" in e)
            counts[rule["chain"]] = counter["packets"]
    return counts


@pytest.fixture
def link() -> Iterator[Link]:
    with linked() as joined:
        yield joined


def test_documented_traffic_passes_and_the_rest_is_dropped_and_logged(link, tmp_path):
    system = make_system("webdb", link.system_v4, link.system_v6)
    client = make_system("client", link.peer_v4, link.peer_v6)
    make_flow(system, "ingress", 8080, "client", peer_system=client, purpose="web")
    make_flow(system, "egress", 7070, "client", peer_system=client, purpose="sync")
    path = tmp_path / "webdb.nft"
    path.write_text(firewall.ruleset(system))

    # Without the ruleset everything passes: the undocumented ports are reachable, so
    # their failure below is the firewall's doing.
    with listening(link.system, link.system_v4, 9090), listening(link.peer, link.peer_v4,
                                                                 7071):
        assert connects(link.peer, link.system_v4, 9090)
        assert connects(link.system, link.peer_v4, 7071)

    in_ns(link.system, "nft", "-f", str(path))
    assert firewall.ruleset_differences(system, json.loads(
        in_ns(link.system, "nft", "-j", "list", "ruleset").stdout)) == []
    before = logged_drops(link.system)
    assert before == {"input": 0, "forward": 0, "output": 0}

    with listening(link.system, "::", 8080), listening(link.system, "::", 9090):
        assert connects(link.peer, link.system_v4, 8080), "documented ingress over IPv4"
        assert connects(link.peer, link.system_v6, 8080), "documented ingress over IPv6"
        assert not connects(link.peer, link.system_v4, 9090), "undocumented ingress"
    after_ingress = logged_drops(link.system)
    assert after_ingress["input"] > before["input"]

    with listening(link.peer, "::", 7070), listening(link.peer, "::", 7071):
        assert connects(link.system, link.peer_v4, 7070), "documented egress over IPv4"
        assert connects(link.system, link.peer_v6, 7070), "documented egress over IPv6"
        assert not connects(link.system, link.peer_v6, 7071), "undocumented egress"
    after_egress = logged_drops(link.system)
    assert after_egress["output"] > after_ingress["output"]


def test_a_flow_from_another_origin_does_not_open_the_port_to_everyone(link, tmp_path):
    system = make_system("webdb", link.system_v4)
    make_flow(system, "ingress", 8080, "10.213.0.99", purpose="only the monitor")
    path = tmp_path / "webdb.nft"
    path.write_text(firewall.ruleset(system))
    in_ns(link.system, "nft", "-f", str(path))
    with listening(link.system, link.system_v4, 8080):
        assert not connects(link.peer, link.system_v4, 8080)
    assert logged_drops(link.system)["input"] > 0
