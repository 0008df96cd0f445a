"""Helpers of the firewall and diagram tests (no tests here): register rows made with
the ORM, and network namespaces to load rulesets into."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils import timezone

from secman.systems.models import Address, Flow, System


def make_system(name: str, *addresses: str, network: str = "internal", **fields) -> System:
    system = System.objects.create(name=name, kind=fields.pop("kind", "vm"), **fields)
    for address in addresses:
        Address.objects.create(system=system, address=address, network=network)
    return system


def make_flow(system: System, direction: str, port: int | None, peer: str = "ANY", *,
              protocol: str = "tcp", status: str = "approved", peer_system=None,
              purpose: str = "", **fields) -> Flow:
    decided = fields.pop("decided_at", timezone.now() if status == "approved" else None)
    return Flow.objects.create(system=system, direction=direction, port=port, peer=peer,
                               protocol=protocol, status=status, peer_system=peer_system,
                               purpose=purpose, decided_at=decided, **fields)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


# --- network namespaces ----------------------------------------------------------------------


def netns_usable() -> str:
    """'' when network namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if not shutil.which("ip") or not os.path.exists("/usr/sbin/nft"):
        return "ip or nft is not installed"
    name = f"sm-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True,
                          timeout=10, check=False)
    if made.returncode:
        return made.stderr.strip() or "ip netns add failed"
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10, check=False)
    return ""


def require_netns() -> None:
    """Skip where namespaces cannot be made, except in CI, where that is a failure: the
    firewall must be tried for real there."""
    why = netns_usable()
    if why:
        if os.environ.get("SECMAN_CI") == "1":
            pytest.fail(f"network namespaces are needed in CI: {why}")
        pytest.skip(f"network namespaces unavailable: {why}")


def run(*args: str, timeout: float = 10, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          check=check)


def in_ns(ns: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("ip", "netns", "exec", ns, *args, **kwargs)


class Link:
    """Two namespaces joined by a veth pair: `system` (where the ruleset is loaded) and
    `peer` (the other end), each with an IPv4 and an IPv6 address."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.system, self.peer = f"sm-sys-{tag}", f"sm-peer-{tag}"
        self.system_v4, self.peer_v4 = "10.213.0.1", "10.213.0.2"
        self.system_v6, self.peer_v6 = "fd00:213::1", "fd00:213::2"
        for ns in (self.system, self.peer):
            run("ip", "netns", "add", ns)
        run("ip", "link", "add", f"v{tag}a", "netns", self.system, "type", "veth", "peer",
            "name", f"v{tag}b", "netns", self.peer)
        for ns, device, v4, v6 in ((self.system, f"v{tag}a", self.system_v4, self.system_v6),
                                   (self.peer, f"v{tag}b", self.peer_v4, self.peer_v6)):
            in_ns(ns, "ip", "link", "set", "lo", "up")
            in_ns(ns, "ip", "addr", "add", f"{v4}/24", "dev", device)
            in_ns(ns, "ip", "addr", "add", f"{v6}/64", "dev", device, "nodad")
            in_ns(ns, "ip", "link", "set", device, "up")

    def close(self) -> None:
        for ns in (self.system, self.peer):
            run("ip", "netns", "del", ns, check=False)


@contextmanager
def linked() -> Iterator[Link]:
    require_netns()
    joined = Link()
    try:
        yield joined
    finally:
        joined.close()


@contextmanager
def namespace() -> Iterator[str]:
    """One empty namespace to load a ruleset into."""
    require_netns()
    name = f"sm-fw-{uuid.uuid4().hex[:6]}"
    run("ip", "netns", "add", name)
    try:
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)
