"""The network diagram page in a real Chromium: the drawing loads as an image under the
strict CSP (no console error, a non-empty picture) for a Systems Administrator and an
auditor; a Support Engineer is refused. Screenshots go to $SECMAN_SHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from secman.systems import diagram
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org
from tests.systems.test_firewall_support import make_flow, make_system

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def shoot(page, name: str) -> None:
    folder = os.environ.get("SECMAN_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def a_small_network(org) -> None:
    host = make_system("infra02", "213.154.225.230", kind="physical", network="internet")
    web = make_system("webdb", "10.0.0.10", "2001:db8::10", host=host,
                      criticality="critical")
    hop = make_system("hop", "10.0.0.5", host=host)
    signer = make_system("signer", "172.16.0.3", kind="physical", network="intranet",
                         criticality="critical")
    make_flow(web, "ingress", 443, "ANY", purpose="https")
    make_flow(web, "ingress", 80, "ANY", purpose="http redirect")
    make_flow(web, "ingress", 22, "hop", peer_system=hop, purpose="admin")
    make_flow(hop, "ingress", 22, "ANY", purpose="ssh jump host")
    make_flow(web, "egress", 2000, "signer", peer_system=signer, purpose="signing requests")
    make_flow(web, "egress", 25, "192.0.2.25", purpose="mail relay")
    make_flow(web, "ingress", 9999, "<b>imported & odd</b>", purpose="hostile name")
    diagram.draw_if_changed(actor=org.sam, reason="first drawing of the register")


def test_the_diagram_page_as_its_readers_and_a_refusal(page, live_server):
    org = build_org()
    a_small_network(org)
    for login in ("sam", "aud"):
        log_in(page, live_server.url, login)
        page.goto(f"{live_server.url}/systems/network/")
        expect(page.locator("h1")).to_contain_text("Network diagram")
        image = page.locator("figure img")
        expect(image).to_be_visible()
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 100, f"the diagram did not load for {login}"
        expect(page.locator("table")).to_contain_text("first drawing of the register")
        shoot(page, f"network-{login}")
        log_out(page)
    log_in(page, live_server.url, "pim")  # a Support Engineer
    answer = page.goto(f"{live_server.url}/systems/network/")
    assert answer is not None and answer.status == 403
    shoot(page, "network-pim-403")
    assert page.problems == [] or all("403" in p for p in page.problems), page.problems
