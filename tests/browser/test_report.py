"""The audit report in a real browser, served by `secman serve` in a process of its own
(the PDF job is started by the gunicorn worker and runs against the same database): an
auditor opens it from the compliance dashboard, styled; downloads the PDF made in the
background and the OSCAL export; a Board member reads the report but not the auditor's
job."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from secman.demo import DEMO_PASSWORD
from tests.conftest import serving

pytestmark = [pytest.mark.browser]

YEAR = time.gmtime().tm_year


@pytest.fixture
def server(database_env):
    with serving(database_env, "--demo", "--no-duties", "--workers", "1") as base:
        yield base


def _log_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Today")


def _styled(page) -> bool:
    """report.css is applied: the action bar is a flex row, the body in DejaVu Sans."""
    return page.evaluate("""() => {
        const bar = document.querySelector('nav.report-actions');
        return getComputedStyle(bar).display === 'flex'
            && getComputedStyle(document.body).fontFamily.includes('DejaVu Sans');
    }""")


def test_an_auditor_downloads_the_pdf_and_the_oscal_export(page, server, tmp_path: Path):
    _log_in(page, server, "ursula")
    page.goto(f"{server}/compliance/")
    page.get_by_role("link", name="Audit report").click()
    expect(page.locator("h1")).to_have_text("Audit report")
    assert _styled(page)
    head = re.search(r"#1 to #(\d+)", page.locator("#log-head").inner_text())
    assert head and int(head[1]) > 100  # the demo's whole log, not what a checkpoint covers
    page.screenshot(path=str(tmp_path / "report-auditor.png"))

    page.fill("input[name=from]", f"{YEAR}-01-01")
    page.fill("input[name=to]", f"{YEAR}-12-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".period")).to_contain_text(f"{YEAR}-12-31")
    page.click("#download-pdf")
    expect(page.locator("h1")).to_contain_text("PDF audit report")
    expect(page.locator("#job-status")).to_be_visible()
    page.screenshot(path=str(tmp_path / "job-running.png"))
    download_link = page.locator("#download")
    # The page refreshes itself every two seconds until the PDF is ready.
    expect(download_link).to_be_visible(timeout=180_000)
    job_url = page.url
    page.screenshot(path=str(tmp_path / "job-done.png"))
    with page.expect_download() as pdf:
        download_link.click()
    assert pdf.value.suggested_filename == f"secman-audit-{YEAR}-01-01-{YEAR}-12-31.pdf"
    saved = tmp_path / "audit.pdf"
    pdf.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="Back to the audit report").click()
    expect(page.locator(".report-jobs")).to_contain_text("done")
    with page.expect_download() as oscal:
        page.click("#download-oscal")
    assert (oscal.value.suggested_filename
            == f"secman-audit-{YEAR}-01-01-{YEAR}-12-31.oscal.json")
    oscal.value.save_as(tmp_path / "audit.json")
    document = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert document["assessment-results"]["results"][0]["start"].startswith(f"{YEAR}-01-01")
    assert page.problems == []

    # A Board member reads the report, but the auditor's job is not theirs.
    page.context.clear_cookies()
    _log_in(page, server, "beatrix")
    page.goto(f"{server}/compliance/report/")
    expect(page.locator("h1")).to_have_text("Audit report")
    assert _styled(page)
    page.screenshot(path=str(tmp_path / "report-board.png"), full_page=False)
    response = page.goto(job_url)
    assert response is not None and response.status == 404
