"""SM 5 in a real browser: an anomaly of the systems' logs is promoted to an incident
(an intrusion), a dispute filed, the service isolated, evidence collected and handed
over, the related logs put under legal hold, the OS-compromise checklist worked through
against the secrets and backups registers, the report published with its restricted
appendix, and the incident closed; every step an Event Log entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secman.authority.services import sign
from secman.backups import services as backups
from secman.eventlog.models import Event, LegalHold
from secman.incidents.models import Incident
from secman.logs import ingest
from secman.logs.models import Anomaly
from secman.privileged.secrets_register import register_secret, rotate_secret
from secman.systems.models import System
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org
from tests.logs.support import failures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _reference_set(org, job, label: str) -> None:
    made = backups.record_set(actor=org.sam, job=job, label=label, methods=["filesystem"])
    sign(actor=org.sue, request=made.made_signoff, slot="person 2")
    made.refresh_from_db()
    backups.start_verification(actor=org.sam, backup_set=made, comment="booted it")
    made.refresh_from_db()
    sign(actor=org.sid, request=made.verify_signoff, slot="person 2")
    made.refresh_from_db()
    backups.store_set(actor=org.sam, backup_set=made, location="safe")


def _step(page, text: str, note: str = "") -> None:
    item = page.locator("ol.checklist li", has_text=text)
    if note:
        item.locator("input[name=step-note]").fill(note)
    item.locator("button:text('Done')").click()
    expect(page.locator("ol.checklist li", has_text=text).locator(".badge")).to_have_text(
        "done")


def test_it_walks_an_anomaly_to_a_closed_incident(page, live_server):
    org = build_org()
    web1 = System.objects.create(name="web1", kind="vm")
    secret = register_secret(actor=org.sam, name="web1 root", kind="root_password",
                             authority="SM 4.1.1", systems=[web1])
    job = backups.add_job(actor=org.sam, system=web1, name="reference", kind="reference",
                          frequency_days=365, authority="SM 3.2.2")
    _reference_set(org, job, "REF-1")
    ingest.store_lines(failures(40))
    anomaly = Anomaly.objects.get()
    base = live_server.url

    log_in(page, base, "sam")
    page.goto(f"{base}{anomaly.get_absolute_url()}")
    page.click("text=Open an incident from this anomaly")
    page.fill("#id_title", "Root shell on web1 after a brute force")
    page.select_option("#id_detection_level", "external_firewall")
    page.select_option("#id_severity", "exploit_no_loss")
    expect(page.locator(f"input[name=systems][value='{web1.pk}']")).to_be_checked()
    page.check("#id_file_case")
    page.click("button:text('Open the incident')")
    expect(page.locator("#isolate h2")).to_contain_text("Isolate first")
    incident = Incident.objects.get()
    assert incident.case is not None

    page.fill("#id_isolate-how", "web1's switch port shut")
    page.click("button:text('Record the isolation')")
    expect(page.locator(".messages")).to_contain_text("Isolation recorded")

    page.click("summary:text('Record an item of evidence')")
    page.fill("#id_evidence-label", "web1 disk image")
    page.fill("#id_evidence-description", "dd of /dev/sda after isolation")
    page.fill("#id_evidence-sha256", "b" * 64)
    page.fill("#id_evidence-location", "evidence safe")
    page.click("button:text('Record'):below(#id_evidence-location)")
    page.click("summary:text('Hand it over')")
    handing = page.locator("form[action$='/hand-over/']")
    handing.locator("select[name$=-to]").select_option(label="Arne")
    handing.locator("input[name$=-location]").fill("Arbitrator's safe")
    handing.locator("input[name$=-reason]").fill("for the case")
    handing.locator("input[name$=-sha256_checked]").check()
    page.click("button:text('Record the hand-over')")
    expect(page.locator("#evidence ~ table")).to_contain_text("Sam → Arne")

    page.fill("#id_archive-since", f"{timezone.localdate() - dt.timedelta(days=2):%Y-%m-%d}")
    page.click("button:text('Archive the related logs')")
    expect(page.locator(".messages")).to_contain_text("under legal hold")

    page.select_option("#id_checklist-checklist", "os_compromise")
    page.click("button:text('Add this checklist')")
    _step(page, "Turn on logging")
    _step(page, "Examine the system forensically", "image taken, timeline built")
    _step(page, "Record the intrusion vector", "root password guessed")
    _step(page, "A known-good reference backup exists")
    _step(page, "Wipe the operating system")
    _step(page, "Patch the known vulnerabilities")
    # The registers decide the checked steps: refused until the secret is changed.
    page.locator("ol.checklist li", has_text="Change all local passwords").locator(
        "button:text('Done')").click()
    expect(page.locator("body")).to_contain_text("not changed since the incident was opened")
    rotate_secret(actor=org.sam, secret=secret, reason="compromise", authority="SM 4.1.1")
    page.goto(f"{base}{incident.get_absolute_url()}")
    _step(page, "Change all local passwords")
    _reference_set(org, job, "REF-2")
    _step(page, "Make a new known-good reference backup")
    _step(page, "Return the system to service")

    page.select_option("#id_management-person", label="Sam")
    page.click("#management button:text('Record')")
    page.fill("#id_report-summary", "A brute force on web1 guessed the root password.")
    page.fill("#id_report-appendix", "The password was 'Summer2026!'.")
    page.click("button:text('Publish the report')")
    expect(page.locator("#report ~ .report")).to_contain_text("guessed the root password")
    page.click("button:text('Close the incident')")
    expect(page.locator(".badge", has_text="closed")).to_be_visible()
    log_out(page)

    log_in(page, base, "pim")  # a support engineer: the event and its report, no more
    page.goto(f"{base}{incident.get_absolute_url()}")
    expect(page.locator("body")).to_contain_text("guessed the root password")
    expect(page.locator("body")).not_to_contain_text("Summer2026")
    expect(page.locator("body")).not_to_contain_text("dd of /dev/sda")
    assert page.problems == []

    actions = set(Event.objects.filter(subject_type="incidents.incident")
                  .values_list("action", flat=True))
    assert actions >= {"incidents.incident.open", "incidents.incident.isolate",
                       "incidents.evidence.collect", "incidents.evidence.hand_over",
                       "incidents.incident.archive_logs", "incidents.checklist.add",
                       "incidents.step.done", "incidents.incident.management",
                       "incidents.report.publish", "incidents.incident.close"}
    assert Event.objects.filter(action="logs.anomaly.promote").exists()
    assert Event.objects.filter(action="authority.case.file").exists()
    hold = LegalHold.objects.get()
    assert (hold.case, hold.subject_id, hold.released_at) == (incident.case, str(web1.pk),
                                                              None)
