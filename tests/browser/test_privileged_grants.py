"""In a real browser: the Systems Administration team leader grants a Software Assessor
temporary SSH access (SP 4.1.1.1); the grant shows in effect on the grants page and the
system's page; an auditor reads the grants but is offered no form, and is refused it;
the team leader revokes it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_list_change import log_in
from tests.conftest import build_org
from tests.privileged.helpers import critical

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_team_leader_grants_and_an_auditor_sees_no_form(page, live_server):
    org = build_org()
    critical(org, "signer")
    base = live_server.url

    log_in(page, base, "sam")
    page.goto(f"{base}/privileged/grants/")
    page.click("text=Grant temporary access")
    page.select_option("#id_person", label="Otto")
    page.select_option("#id_system", "signer")
    page.fill("#id_reason", "Advanced debugging of the signing queue")
    page.fill("#id_ends_at", f"{timezone.now() + dt.timedelta(days=2):%Y-%m-%dT%H:%M}")
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Temporary access granted")
    row = page.locator("tr", has_text="Advanced debugging of the signing queue")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("Otto")
    page.screenshot(path="/tmp/shots-grants/browser-grants-sam.png", full_page=True)
    page.get_by_role("link", name="signer").first.click()
    expect(page.locator("h2:has-text('Temporary grants in effect') + table")).to_contain_text(
        "Otto")
    page.click("text=Log out")

    log_in(page, base, "aud")
    page.goto(f"{base}/privileged/grants/")
    expect(page.locator("tr", has_text="Otto")).to_contain_text("active")
    expect(page.locator("text=Grant temporary access")).to_have_count(0)
    expect(page.locator("button:has-text('Revoke')")).to_have_count(0)
    answer = page.goto(f"{base}/privileged/grants/new/")
    assert answer is not None and answer.status == 403
    page.goto(f"{base}/privileged/grants/")
    page.click("text=Log out")

    # The team leader ends it early: it is no longer in effect.
    log_in(page, base, "sam")
    page.goto(f"{base}/privileged/grants/")
    row = page.locator("tr", has_text="Advanced debugging of the signing queue")
    row.locator("input[name=reason]").fill("debugging done")
    row.locator("button:has-text('Revoke')").click()
    expect(page.locator(".messages")).to_contain_text("Grant revoked")
    expect(page.locator("tr", has_text="Otto")).to_contain_text("revoked")
    assert all("403" in problem for problem in page.problems), page.problems
