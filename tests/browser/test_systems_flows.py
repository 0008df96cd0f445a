"""In a real browser: a Systems Administrator requests a flow for a system, and the
Systems Administration team leader finds it on top of the flows page and approves it;
the system's page then shows it in effect, with both steps in its history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from secman.systems import services
from tests.browser.test_list_change import log_in
from tests.conftest import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_it_requests_and_approves_a_flow_as_two_people(page, live_server):
    org = build_org()
    services.add_system(actor=org.sue, name="web", kind="physical", status="in_service",
                        authority="SP 3.2.2", purpose="the web site")
    base = live_server.url

    log_in(page, base, "sue")
    page.click("nav >> text=Systems")
    expect(page.locator("h1")).to_contain_text("Systems")
    page.get_by_role("link", name="web", exact=True).click()
    page.click("text=Request a flow")
    page.select_option("#id_direction", "ingress")
    page.fill("#id_port", "443")
    page.fill("#id_service", "https")
    page.fill("#id_peer", "ANY")
    page.fill("#id_purpose", "the members' web site")
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("takes effect when the Systems "
                                                      "Administration team leader approves")
    expect(page.locator("tr.waiting")).to_contain_text("Requested")
    # Sue may not decide her own request, nor anyone's: no Decide button for her.
    expect(page.locator("a:has-text('Decide')")).to_have_count(0)
    page.click("text=Log out")

    log_in(page, base, "sam")
    page.click("nav >> text=Flows")
    first = page.locator("table tbody tr, table tr").nth(1)
    expect(first).to_contain_text("443/tcp")
    first.locator("a:has-text('Decide')").click()
    page.select_option("#id_decision", "approve")
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Decision recorded")
    page.get_by_role("link", name="web", exact=True).first.click()
    expect(page.locator("text=Approved (in effect)")).to_be_visible()
    history = page.locator("h2:has-text('History') + table")
    expect(history).to_contain_text("systems.flow.request")
    expect(history).to_contain_text("systems.flow.approve")
    assert page.problems == []
