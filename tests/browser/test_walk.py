"""A person's walk through the product as it is served (`secman serve --demo`, the way
`make run` starts it), in a real Chromium, as each kind of demo person: every page of the
navigation, every download button on them, the 403 page, the lockout page, a refused form
reloaded; no error in the browser's console anywhere. Then the same pages on a phone-wide
screen: the navigation folds, and no page is wider than the screen."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import database_environment, serving

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
# SECMAN_SCREENSHOTS=DIR keeps a screenshot of every page walked, to look at.
SCREENSHOTS = os.environ.get("SECMAN_SCREENSHOTS", "")
PASSWORD = "demo-secman-2026"
# One of each kind: Board, Systems Administration (leader), Access Engineer, Auditor,
# Arbitrator, Software Assessor, Support, the secman administrator.
ROLES = ["beatrix", "samir", "ana", "ursula", "aurelio", "clara", "hana", "admin"]
# Links that download a file rather than open a page.
DOWNLOADS = ('a[href$=".csv"], a[href$=".tar.gz"], a[href*="/checkpoints/"][href$=".txt"], '
             'a[href*="/export."], a[href*="/report/"][href*="format="]')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("served")
    log = directory / "serve.log"
    with database_environment(request.param, directory) as env, serving(
            dict(env, SECMAN_LOGIN_FAILURE_LIMIT="3"), "--demo", log=log) as base:
        yield base
    assert "Traceback" not in log.read_text(), log.read_text()


def _context(chromium, **options):
    context = chromium.new_context(accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    return context, page, problems


def _log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def _look(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _name(base: str, url: str) -> str:
    return url.removeprefix(base).strip("/").replace("/", "-") or "today"


def _nav_links(page) -> list[str]:
    return page.eval_on_selector_all("#site-nav a", "links => links.map(a => a.href)")


def _download_everything_on(page, problems: list[str]) -> list[str]:
    """Click every download link of the page; each must arrive as a file with a name,
    and the page must stay as it was."""
    names = []
    url, heading = page.url, page.locator("h1").inner_text()
    for index in range(page.locator(DOWNLOADS).count()):
        link = page.locator(DOWNLOADS).nth(index)
        with page.expect_download() as arriving:
            link.click()
        download = arriving.value
        assert download.failure() is None, (url, download.failure())
        assert download.suggested_filename, url
        assert Path(download.path()).stat().st_size > 0, (url, download.suggested_filename)
        names.append(download.suggested_filename)
        assert page.url == url
        assert page.locator("h1").inner_text() == heading
    return names


@pytest.mark.parametrize("username", ROLES)
def test_a_person_walks_every_page_and_downloads_every_file(chromium, served, username):
    context, page, problems = _context(chromium)
    _log_in(page, served, username)
    expect(page.locator("h1")).to_have_text("Today")
    links = _nav_links(page)
    assert links[0] == f"{served}/", "Today comes first"
    downloads: list[str] = []
    for url in links:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        expect(page.locator("h1")).to_be_visible()
        _look(page, f"{username}-{_name(served, url)}")
        downloads += _download_everything_on(page, problems)
        if url.endswith("/documents/"):  # the exports are on each document's page
            first = page.locator("main a[href*='/documents/'][href$='/']").first
            if first.count():
                first.click()
                downloads += _download_everything_on(page, problems)
    assert not problems, problems
    if username in ("samir", "ana", "ursula", "beatrix"):  # inventory readers
        assert {"computers.csv", "media.csv"} <= set(downloads), downloads
    if username == "samir":  # Systems Administrators export the Event Log
        assert "eventlog-bundle.tar.gz" in downloads, downloads
    context.close()


def test_a_forbidden_page_says_why(chromium, served):
    context, page, problems = _context(chromium)
    _log_in(page, served, "aurelio")
    expect(page.locator("h1")).to_have_text("Today")
    response = page.goto(f"{served}/physical/computers/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("SP 2.2.1")
    _look(page, "403")
    # The browser reports the 403 itself; nothing else may be in the console.
    assert all("status of 403" in problem for problem in problems), problems
    context.close()


def test_a_locked_login_sees_the_lockout_page_even_with_the_right_password(chromium, served):
    context, page, problems = _context(chromium)
    for _ in range(3):  # SECMAN_LOGIN_FAILURE_LIMIT=3 for this server
        _log_in(page, served, "diego", "not the password")
        expect(page.locator(".error")).to_be_visible()
    _log_in(page, served, "diego")
    expect(page.locator("h1")).to_have_text("Login locked")
    expect(page.locator("main")).not_to_contain_text("did not match")
    _look(page, "lockout")
    assert all(re.search(r"status of (429|403)", problem) for problem in problems), problems
    context.close()


def test_a_refused_form_can_be_reloaded_and_revisited(chromium, served):
    context, page, problems = _context(chromium)
    _log_in(page, served, "samir")  # on the Physical Access List
    page.goto(f"{served}/visits/new/")
    page.fill("#id_purpose", "look at the racks")
    page.fill("#id_systems", "signing server")
    # A window that ends before it starts: refused.
    page.fill("#id_window_start", "2027-01-04T12:00")
    page.fill("#id_window_end", "2027-01-04T09:00")
    page.click("main button[type=submit]")
    expect(page.locator(".error").first).to_be_visible()
    _look(page, "refused-form")
    refused_at = page.url
    # Reloading re-sends the form (the browser's own behaviour): refused again, never 405.
    page.once("dialog", lambda dialog: dialog.accept())
    response = page.reload()
    assert response is None or response.status in (200, 302), response and response.status
    # Typing the address in (a GET) shows the page, not "405 Method Not Allowed".
    response = page.goto(refused_at)
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_be_visible()
    # An action URL (a step of a visit) opened without its form leads to the visit.
    page.goto(f"{served}/visits/")
    hrefs = page.eval_on_selector_all("main a", "links => links.map(a => a.getAttribute('href'))")
    visits = [href for href in hrefs if re.fullmatch(r"/visits/\d+/", href or "")]
    assert visits, "the demo has visits"
    response = page.goto(f"{served}{visits[0]}authorise/")
    assert response is not None and response.status == 200
    assert page.url == f"{served}{visits[0]}"
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("username", ["samir", "ursula", "aurelio"])
def test_every_page_fits_a_phone(chromium, served, username):
    context, page, problems = _context(chromium, viewport={"width": 390, "height": 844},
                                       is_mobile=True, has_touch=True)
    _log_in(page, served, username)
    expect(page.locator("h1")).to_have_text("Today")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.locator("#site-nav")).to_be_hidden()
    _look(page, f"phone-{username}-folded")
    menu.click()
    expect(page.locator("#site-nav")).to_be_visible()
    _look(page, f"phone-{username}-menu")
    for url in _nav_links(page):
        page.goto(url)
        _look(page, f"phone-{username}-{_name(served, url)}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
    assert not problems, problems
    context.close()
