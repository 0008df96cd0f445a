"""Changing my own password in a real browser: refused with the reason, then changed;
the old password no longer signs in, the new one does, and the Event Log page shows the
sign-ins, the refused one and the change (to a Systems Administrator)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_list_change import log_in, log_out
from tests.conftest import PASSWORD, build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NEW_PASSWORD = "a new and long passphrase 2026"


def test_it_changes_my_password_and_logs_it(page, live_server):
    build_org()
    base = live_server.url
    log_in(page, base, "sam")
    page.get_by_role("link", name="Password", exact=True).click()
    expect(page.locator("h1")).to_have_text("Change my password")
    page.fill("#id_old_password", "not my password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button:text('Change password')")
    expect(page.locator(".error")).to_contain_text("The current password is not right.")

    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button:text('Change password')")
    expect(page.locator(".messages")).to_contain_text("Your password was changed.")
    expect(page.locator("h1")).to_have_text("Today")
    log_out(page)

    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_contain_text("did not match")
    page.fill("#id_username", "sam")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Today")

    page.goto(f"{base}/events/?action=login.password_change")
    expect(page.locator("table code", has_text="login.password_change")).to_have_count(1)
    page.goto(f"{base}/events/?action=login.failed")
    expect(page.locator("table code", has_text="login.failed")).to_have_count(1)
    assert page.problems == []
