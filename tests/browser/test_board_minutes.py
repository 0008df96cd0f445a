"""Board minutes under four eyes in a real browser: one Board member records a decision,
another confirms the minutes from Today, and a list change is approved by choosing that
decision from the list of confirmed ones."""

from __future__ import annotations

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
