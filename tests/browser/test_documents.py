"""The side-by-side view of the Security Policy and the Security Manual in a real browser:
rows line up by number, chapters collapse, filters work, anchors are stable, and the page
works with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_list_change import log_in
from tests.conftest import build_org
from tests.documents.conftest import SM, SP

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def import_both() -> None:
    from secman.documents.services import import_document

    import_document(actor=None, data=SP.read_bytes(), filename=SP.name,
                    name="Security Policy", kind="policy")
    import_document(actor=None, data=SM.read_bytes(), filename=SM.name,
                    name="Security Manual", kind="manual")


def test_it_shows_policy_and_manual_side_by_side(page, chromium, live_server):
    build_org()
    import_both()
    log_in(page, live_server.url, "axel")
    page.get_by_role("link", name="Documents").first.click()
    page.get_by_role("link", name="Policy and Manual side by side").click()
    row = page.locator('tr[id="s2.2.3.1"]')
    expect(row).to_contain_text("both")
    expect(row.locator("td").nth(0)).to_contain_text("Storage media")
    expect(row.locator("td").nth(1)).to_contain_text("Access Engineers maintain an inventory")
    expect(page.locator('tr[id="s4.1.1.1"]')).to_contain_text("empty in manual")
    expect(page.locator('tr[id="s1.3"]')).to_contain_text("title differs")

    # Collapse chapter 2: its rows disappear, chapter 3 stays.
    page.locator("#chapter-2 > summary").click()
    expect(row).to_be_hidden()
    expect(page.locator('tr[id="s3.1.2.1"]')).to_be_visible()

    # Filter by status with the GET form.
    page.get_by_label("empty in manual (8)").check()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tr.row")).to_have_count(8)
    expect(page.locator('tr[id="s4.1.1.1"]')).to_be_visible()

    # A stable anchor per section.
    page.goto(f"{live_server.url}/documents/compare/#s9.1.4.1")
    expect(page.locator('tr[id="s9.1.4.1"]')).to_be_in_viewport()
    assert page.problems == []

    # One test rather than two: the data survives, and the page works without JavaScript.
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, "aud")
    page.goto(f"{live_server.url}/documents/compare/?chapter=2")
    expect(page.locator('tr[id="s2.2.3.3"]')).to_contain_text("Secure destruction")
    page.locator("#chapter-2 > summary").click()
    expect(page.locator('tr[id="s2.2.3.3"]')).to_be_hidden()
    context.close()
