"""SM 9.1.7 in a real browser: a team leader ends a membership on the team's page → the
termination checklist appears on their Today → the steps are completed with evidence (one
refused without it) → the checklist is closed, and every action is in the Event Log."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from secman.privileged.models import TerminationChecklist
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_leaver_s_checklist_from_the_team_page_to_closed(page, live_server):
    build_org()
    base = live_server.url

    log_in(page, base, "pia")  # leads Support
    expect(page.locator("text=Leavers' checklists")).to_have_count(0)
    page.goto(f"{base}/people/teams/support/")
    row = page.locator("tr", has_text="Pim")
    row.locator("input[name=end-reason]").fill("Resigned.")
    row.locator("button:text('End')").click()
    expect(page.locator(".messages")).to_be_visible()

    page.click("text=Today")
    expect(page.locator("h1")).to_have_text("Today")
    card = page.locator("article", has_text="Membership ended: Pim")
    expect(card).to_be_visible()
    card.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Membership ended: Pim")
    expect(page.get_by_role("link", name="Pim", exact=True)).to_have_attribute(
        "href", f"/people/{TerminationChecklist.objects.get().person_id}/")

    # A step without evidence is refused (the browser's own check is bypassed).
    page.locator("#step-2 textarea").evaluate("e => e.removeAttribute('required')")
    page.click("#step-2 button:text('Step 2 done')")
    expect(page.locator(".messages")).to_contain_text("give the evidence")
    # No close button while steps are open: the page names them (the service's refusal
    # of an early close is tested in tests/privileged/test_checklists.py).
    expect(page.locator("button:text('Close the checklist')")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("open: 1, 2, 3, 4, 5")
    # Step 1 from the agent reports: no system reports here, so it says so.
    page.click("button:text('Check the agent reports')")
    expect(page.locator(".messages")).to_contain_text("no system has an agent report")

    for number in range(1, 6):
        page.fill(f"#step-{number} textarea", f"Step {number} done, see ticket #{number}.")
        page.click(f"#step-{number} button:text('Step {number} done')")
        expect(page.locator(".messages")).to_contain_text(f"Step {number} done.")
        expect(page.locator(f"#step-{number}")).to_contain_text(f"see ticket #{number}")
    page.click("button:text('Close the checklist')")
    expect(page.locator(".messages")).to_contain_text("Checklist closed.")
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    expect(page.locator("form textarea")).to_have_count(0)

    page.click("text=Today")
    expect(page.locator("text=Leavers' checklists")).to_have_count(0)

    page.get_by_role("link", name="Event Log").first.click()
    rows = page.locator("tbody tr, table tr")
    expect(rows.filter(has_text="people.team.leave").filter(has_text="Pim")).to_have_count(1)
    for action, count in [("privileged.checklist.open", 1), ("privileged.checklist.step", 5),
                          ("privileged.checklist.close", 1)]:
        expect(rows.filter(has_text=action)).to_have_count(count)
    log_out(page)

    # Someone else's team leader cannot open the checklist's forms.
    log_in(page, base, "ola")
    page.goto(f"{base}/privileged/checklists/{TerminationChecklist.objects.get().pk}/")
    expect(page.locator("form textarea")).to_have_count(0)
    assert page.problems == []
