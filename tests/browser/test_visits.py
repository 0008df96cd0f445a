"""A full physical visit in a real browser: request, authorisation, two people check in
and out, both reports, closing, and the report mailed to the systems administration list
through a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secman.people import services as people_services
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _on_lists(org) -> None:
    for kind, login in (("physical_control", "axel"), ("physical_access", "sam")):
        proposal = people_services.propose_list_change(
            actor=org.bea, access_list=org.lists[kind], person=org.people[login],
            change="add", reason="test")
        people_services.approve_proposal(actor=org.tom, proposal=proposal,
                                         decision=org.decision)


def _form(page, heading: str):
    return page.locator("form", has=page.locator(f"h2:has-text('{heading}')"))


def test_it_walks_a_full_visit_and_mails_it(page, live_server, smtp, settings):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@lists.example.org"
    org = build_org()
    _on_lists(org)
    base = live_server.url
    now = timezone.now()

    log_in(page, base, "sam")
    page.click("text=Visits")
    page.click("text=Request a visit")
    page.fill("#id_purpose", "Replace the failed disk")
    page.fill("#id_systems", "signer1")
    page.fill("#id_window_start", f"{now - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.fill("#id_window_end", f"{now + dt.timedelta(hours=3):%Y-%m-%dT%H:%M}")
    page.click("text=Request the visit")
    expect(page.locator("#visit-status")).to_have_text("Requested, awaiting authorisation")
    visit_url = page.url
    log_out(page)

    log_in(page, base, "axel")
    page.goto(visit_url)
    page.fill("#id_reference", "MoU Appendix B, ticket BIT-1")
    page.click("button:text('Authorise the visit')")
    expect(page.locator("#visit-status")).to_have_text("Authorised")
    check_in = _form(page, "Check in")
    check_in.get_by_label("Axel").check()
    check_in.locator("button[type=submit]").click()
    expect(page.locator(".error").first).to_contain_text("dual control needs at least 2")
    check_in = _form(page, "Check in")
    check_in.get_by_label("Axel").check()
    check_in.get_by_label("Sam").check()
    check_in.locator("button[type=submit]").click()
    expect(page.locator("#visit-status")).to_have_text("On site")
    expect(page.locator("#participants")).to_contain_text("does not access the data")
    check_out = _form(page, "Check out")
    check_out.get_by_label("Axel").check()
    check_out.get_by_label("Sam").check()
    check_out.locator("button[type=submit]").click()
    expect(page.locator("#visit-status")).to_have_text("Left the site, reports due")
    page.select_option("#id_kind", "access_engineer")
    page.fill("#id_text", "Opened rack 12 and closed it again.")
    page.click("button:text('File the report')")
    expect(page.locator(".messages")).to_contain_text("Report filed.")
    log_out(page)

    log_in(page, base, "sam")
    page.goto(visit_url)
    page.select_option("#id_kind", "accessor")
    page.fill("#id_text", "Swapped disk 2; resync done.")
    page.click("button:text('File the report')")
    page.click("button:text('Close the visit and report it')")
    expect(page.locator("#visit-status")).to_have_text("Closed")
    expect(page.locator(".messages")).to_contain_text(
        "Visit closed; mailed to sysadmins@lists.example.org.")
    assert page.problems == []

    [message] = [m for to, m in smtp.messages if to == ["sysadmins@lists.example.org"]]
    assert "Swapped disk 2; resync done." in message.get_payload()
