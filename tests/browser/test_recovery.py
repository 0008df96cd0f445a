"""SM 6 in a real browser: the Board records a core process with its 27-hour objective
and adopts the plan; a Systems Administrator records an exercise held away from secman,
step by step with the times it took, and the page measures it against the objective."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secman.eventlog.models import Event
from secman.recovery.models import Exercise
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def test_an_exercise_is_recorded_with_its_times_against_27_hours(page, live_server):
    org = build_org()
    base = live_server.url
    log_in(page, base, "bea")
    page.goto(f"{base}/recovery/")
    page.click("summary:text('Record a business process')")
    page.fill("#id_process-name", "Revocation (OCSP/CRL)")
    page.fill("#id_process-description", "OCSP responder and CRLs")
    page.check("#id_process-core")
    page.fill("#id_process-max_outage_hours", "48")
    page.fill("#id_process-rto_hours", "27")
    page.fill("#id_process-authority", org.decision.minute_id)
    page.click("button:text('Record')")
    expect(page.locator("table").first).to_contain_text("27 h")
    page.click("summary:text('Adopt a new version')")
    page.fill("#id_plan-authority", org.decision.minute_id)
    page.click("button:text('Adopt')")
    expect(page.locator("body")).to_contain_text("Version 1, adopted")
    log_out(page)

    log_in(page, base, "sam")
    page.goto(f"{base}/recovery/")
    start = timezone.now() - dt.timedelta(hours=40)
    page.click("summary:text('Start an exercise')")
    page.fill("#id_exercise-scenario", "The hosting site is lost")
    page.check("input[name=exercise-processes]")
    page.fill("#id_exercise-started_at", _local(start))
    page.click("button:text('Start')")
    expect(page.locator("h1")).to_contain_text("Exercise of")
    at = start
    for hours in (1, 3, 20, 6):  # 30 hours: more than 27
        at += dt.timedelta(hours=hours)
        page.fill("#id_at", _local(at))
        page.fill("#id_note", f"{hours} h")
        page.click("button:text('Done')")
        expect(page.locator(".messages")).to_contain_text("done")
    expect(page.locator("body")).to_contain_text("30.0 h")
    expect(page.locator(".badge", has_text="missed")).to_be_visible()
    page.goto(f"{base}/recovery/")
    expect(page.locator(".findings")).to_contain_text("more than its recovery time objective")
    assert page.problems == []
    exercise = Exercise.objects.get()
    assert round(exercise.hours) == 30
    assert Event.objects.filter(action="recovery.exercise.step").count() == 4
