"""The compliance dashboard of the demo organisation in a real browser: every chapter
with its status, a violation, an overdue duty and an accepted exception; completing the
overdue duty with evidence turns it ok."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from secman import demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_demo_dashboard_and_completing_the_overdue_duty(page, live_server, tmp_path):
    demo.load()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "samir")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Today")

    page.click("text=Compliance")
    expect(page.locator("h1")).to_have_text("Compliance")
    chapters = page.locator("table.chapters tbody tr")
    for number in ("1", "2", "3", "4", "5", "9"):
        row = page.locator(f"#chapter-{number}")
        expect(row).to_be_visible()
        expect(row.locator(".badge")).to_have_count(1)
    assert chapters.count() >= 6
    expect(page.locator(".tile.bad", has_text="Violated")).not_to_have_class("zero")
    expect(page.locator("#chapter-2 .badge")).to_have_text("Violated")
    review = page.locator("table.controls tr", has_text="logs.automated_review")
    expect(review.locator(".badge")).to_have_text("Overdue")
    exception = page.locator("article.exception", has_text="people.redundancy")
    expect(exception).to_contain_text("team:support")
    expect(exception.locator("a.authority")).to_have_count(1)

    review.locator("a").click()
    expect(page.locator("h1")).to_contain_text("logs.automated_review")
    page.locator("#occurrences tr", has_text="Overdue").locator("a").first.click()
    expect(page.locator("#occurrence-status")).to_have_text("Overdue")
    occurrence_url = page.url
    page.locator("#complete button[type=submit]").click()
    expect(page.locator("#complete")).to_contain_text("completed with evidence")
    page.goto(occurrence_url)
    evidence = tmp_path / "review-output.txt"
    evidence.write_text("logwatch: no anomalies\n")
    page.fill("#id_note", "Read the automated review: nothing unusual.")
    page.set_input_files("#id_evidence_file", str(evidence))
    with page.expect_response(lambda r: r.request.method == "POST"
                              and "/occurrences/" in r.url) as posted:
        page.locator("#complete button[type=submit]").click()
    assert posted.value.status in (200, 302)
    expect(page.locator("#occurrence-status")).to_have_text("Done")
    expect(page.locator("dd", has_text="review-output.txt")).to_be_visible()

    page.goto(f"{base}/compliance/")
    review = page.locator("table.controls tr", has_text="logs.automated_review")
    # No longer overdue; the next week's review is "due soon" once the clock is within its
    # lead time (the demo's dates follow today's), so either is right.
    expect(review.locator(".badge")).to_have_text(re.compile(r"^(OK|Due soon)$"))
    assert page.problems == []
