"""SM 7 in a real browser against a real git repository: an assessor submits a
developer's change, assesses and tests it; the team leader reviews it; a release with a
later unreviewed commit is refused, the reviewed one is made and handed over; a Systems
Administrator signs the deployment."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from secman.software import services
from secman.software.models import Release
from secman.systems.models import ConfigurationChange, System
from tests.browser.test_list_change import log_in, log_out
from tests.conftest import build_org
from tests.software.test_software import _commit, _git

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_change_is_reviewed_released_and_deployed_by_both_teams(page, live_server,
                                                                   tmp_path):
    org = build_org()
    repo = tmp_path / "code"
    repo.mkdir()
    _git(repo, "init", "--quiet", "-b", "main")
    baseline = _commit(repo, "README", "x\n")
    reviewed = _commit(repo, "search.php", "escape\n")
    unreviewed = _commit(repo, "extra.php", "extra\n")
    code = System.objects.create(name="code", kind="vm", status="in_service")
    System.objects.create(name="webdb", kind="vm")
    services.add_repository(actor=org.ola, name="cacert", location=str(repo), system=code,
                            baseline=baseline)
    base = live_server.url

    log_in(page, base, "otto")
    page.goto(f"{base}/software/")
    page.click("summary:text('Submit a change')")
    page.select_option("#id_change-repository", label="cacert")
    page.fill("#id_change-title", "Escape the search query")
    page.fill("#id_change-description", "SQL injection in the search")
    page.select_option("#id_change-risk", "medium")
    page.fill("#id_change-base", baseline)
    page.fill("#id_change-head", reviewed[:12])
    page.click("button:text('Submit')")
    expect(page.locator("h1")).to_contain_text("Escape the search query")
    expect(page.locator("table").first).to_contain_text("dev@example.org")
    page.click("summary:text('Assess (SM 7.4)')")
    page.check("#id_assess-guidelines_followed")
    page.fill("#id_assess-test_instructions", "search for ' OR 1=1")
    page.click("button:text('Record the assessment')")
    page.click("summary:text('Record the test (SM 7.5)')")
    page.select_option("#id_test-result", "passed")
    page.locator("form", has=page.locator("#id_test-result")).locator("button").click()
    change_url = page.url
    log_out(page)

    log_in(page, base, "ola")
    page.goto(change_url)
    page.click("button:text('Approve this commit')")
    expect(page.locator(".badge", has_text="ready for a release")).to_be_visible()
    log_out(page)

    log_in(page, base, "otto")
    page.goto(f"{base}/software/")
    page.click("summary:text('Make a release')")
    page.select_option("#id_release-repository", label="cacert")
    page.fill("#id_release-name", "v1")
    page.fill("#id_release-commit", unreviewed)
    page.click("button:text('Make the release')")
    expect(page.locator(".errorlist")).to_contain_text(unreviewed[:12])
    page.fill("#id_release-commit", reviewed)
    page.click("button:text('Make the release')")
    expect(page.locator("h1")).to_contain_text("Release cacert v1")
    page.select_option("#id_hand_over-target", label="webdb")
    page.click("button:text('Hand over')")
    release_url = page.url
    log_out(page)

    log_in(page, base, "sue")
    page.goto(release_url)
    page.click("text=one sign-off from each team")
    page.click("button:text('Sign')")
    page.goto(release_url)
    expect(page.locator(".badge", has_text="Deployed")).to_be_visible()
    assert page.problems == []
    assert Release.objects.get().status == "deployed"
    assert ConfigurationChange.objects.get().rcs_reference == f"cacert@{reviewed[:12]}"
