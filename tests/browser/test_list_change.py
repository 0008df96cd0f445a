"""The whole path a list change takes, in a real browser: a list manager proposes, a Board
member approves, and both actions are in the Event Log; and the Board minutes under four
eyes: one Board member records a decision, another confirms it from Today and approves a
list change by choosing that decision from the confirmed ones."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secman.people import services as people_services
from tests.conftest import PASSWORD, build_org

# serialized_rollback: the rows the migrations made (teams, lists, log head) come back
# after each test flushes the database.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Today")


def log_out(page) -> None:
    page.click("text=Log out")
    expect(page.locator("h1")).to_have_text("Log in to secman")


def test_it_proposes_approves_and_logs_a_list_change(page, live_server):
    org = build_org()
    base = live_server.url

    log_in(page, base, "sam")  # leads Critical System Administration: manages the list
    page.click("text=Access lists")
    # Wait for the lists page: Today also links to the Physical Access List (its staffing
    # finding), and a click there while the first navigation is in flight races it.
    expect(page.locator("h1")).to_contain_text("Access control lists")
    page.get_by_role("link", name="Physical Access List", exact=True).click()
    expect(page.locator("#id_change")).to_be_visible()
    page.select_option("#id_change", "add")
    page.select_option("#id_person", label="Sid")
    page.fill("#id_reason", "Sid takes over hardware recovery.")
    page.click("text=Propose to the Board")
    expect(page.locator(".messages")).to_contain_text("takes effect when the Board approves")
    expect(page.locator(".badge").first).to_have_text("Waiting for the Board")
    proposal_url = page.url
    log_out(page)

    log_in(page, base, "bea")
    expect(page.locator("text=your decision is needed")).to_be_visible()
    page.goto(proposal_url)
    page.select_option("#id_approve-decision", org.decision.minute_id)
    page.click("button:text('Approve')")
    expect(page.locator(".messages")).to_contain_text("the change has taken effect")
    expect(page.locator(".badge").first).to_have_text("Approved by the Board")

    page.get_by_role("link", name="Physical Access List", exact=True).click()
    expect(page.locator("table").first).to_contain_text("Sid")
    page.goto(f"{base}/people/lists/ssh_access/")
    expect(page.locator("table").first).to_contain_text("by default, via the Physical Access List")

    page.get_by_role("link", name="Event Log").first.click()
    rows = page.locator("tbody tr, table tr")
    expect(rows.filter(has_text="people.list.propose").filter(has_text="Sid")).to_have_count(1)
    approve = rows.filter(has_text="people.list.approve").filter(has_text="Sid")
    expect(approve).to_have_count(1)
    expect(approve).to_contain_text(org.decision.minute_id)
    assert page.problems == []


def test_it_records_confirms_and_approves_by_choosing_the_decision(page, live_server):
    org = build_org()
    proposal = people_services.propose_list_change(
        actor=org.sam, access_list=org.lists["physical_access"], person=org.sid,
        change="add", reason="Sid takes over hardware recovery.")
    base = live_server.url
    today = timezone.localdate()
    minute_id = f"m{today:%Y%m%d}.4"

    log_in(page, base, "bea")
    page.goto(f"{base}/authority/decisions/new/")
    page.fill("#id_minute_id", minute_id)
    page.fill("#id_decided_on", f"{today:%Y-%m-%d}")
    page.fill("#id_title", "Sid on the Physical Access List")
    page.fill("#id_text", "The Board approves adding Sid to the Physical Access List.")
    for member in ("Bea", "Tom", "Ida"):
        page.get_by_label(f"Vote of {member}").select_option("aye")
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("authorises nothing until a second")
    expect(page.locator("#confirmation")).to_contain_text("unconfirmed")
    expect(page.locator("button:text('Confirm the minutes')")).to_have_count(0)  # recorder
    page.goto(f"{base}{proposal.get_absolute_url()}")
    expect(page.locator(f"#id_approve-decision option[value='{minute_id}']")).to_have_count(0)
    log_out(page)

    log_in(page, base, "tom")
    waiting = page.locator("article", has_text=minute_id)
    expect(waiting).to_contain_text("recorded by Bea")
    waiting.get_by_role("link", name=minute_id).click()
    page.click("button:text('Confirm the minutes')")
    expect(page.locator(".messages")).to_contain_text("Minutes confirmed")
    expect(page.locator("#confirmation")).to_have_text("minutes confirmed")
    expect(page.locator("dl.facts")).to_contain_text("by Tom on")

    page.goto(f"{base}{proposal.get_absolute_url()}")
    page.select_option("#id_approve-decision", minute_id)
    page.click("button:text('Approve')")
    expect(page.locator(".messages")).to_contain_text("the change has taken effect")
    expect(page.locator(".badge").first).to_have_text("Approved by the Board")
    expect(page.locator("dl.facts")).to_contain_text(minute_id)

    page.goto(f"{base}/events/?authority={minute_id}")
    rows = page.locator("tbody tr, table tr")
    for action in ("authority.decision.record", "authority.decision.confirm",
                   "people.list.approve"):
        expect(rows.filter(has_text=action)).to_have_count(1)
    assert page.problems == []


def test_it_shows_a_refused_change_with_its_rule(page, live_server):
    build_org()
    log_in(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/people/lists/physical_access/")
    page.select_option("#id_person", label="Axel")  # an Access Engineer
    page.fill("#id_reason", "Should be refused.")
    page.click("text=Propose to the Board")
    expect(page.locator(".error")).to_contain_text("SP 3.4.2")
    expect(page.locator(".error")).to_contain_text(re.compile("for Systems Administrators"))
    assert page.problems == []


def test_it_works_with_javascript_off(chromium, live_server):
    build_org()
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, "sue")
    page.click("text=Sign-offs")
    expect(page.locator("h1")).to_contain_text("Sign-offs")
    context.close()
