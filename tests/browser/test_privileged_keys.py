"""In a real browser: a critical system's agent reports a key nobody registered; a
Systems Administrator registers it on the keys page and the unknown-key finding goes
away. An auditor reads the same pages without any form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_list_change import log_in
from tests.conftest import build_org
from tests.privileged.support import KEY_A, critical, report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SHOTS = os.environ.get("SECMAN_SHOTS")  # a directory to keep screenshots in, if set


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_a_sysadmin_registers_an_unknown_key_and_an_auditor_sees_no_forms(page, live_server):
    org = build_org()
    system = critical("vault")
    report(system, org.sam, keys=[("sid", KEY_A)], accounts=["root"])
    base = live_server.url

    log_in(page, base, "sue")
    page.goto(f"{base}/privileged/checks/")
    unknown = page.locator("#privileged\\.unknown_keys")
    expect(unknown).to_contain_text("unknown key")
    shot(page, "checks-before")
    unknown.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Access to vault")
    expect(page.locator("td.error:has-text('unknown key')")).to_be_visible()
    shot(page, "system-access")
    page.click("nav[aria-label='Privileged access'] >> text=SSH keys")
    page.select_option("#id_person", label="Sid")
    page.fill("#id_public_key", KEY_A)
    page.click("button:has-text('Register the key')")
    expect(page.locator(".messages")).to_contain_text("Key registered")
    expect(page.locator("table")).to_contain_text("spare1")
    shot(page, "keys-sysadmin")
    page.goto(f"{base}/privileged/checks/")
    expect(page.locator("#privileged\\.unknown_keys")).to_contain_text("OK")
    page.click("text=Log out")

    log_in(page, base, "aud")
    for path in ("keys", "origins", "systems/vault", "accounts"):
        page.goto(f"{base}/privileged/{path}/")
        expect(page.locator("main form, .content form, form.card")).to_have_count(0)
        expect(page.locator("a:has-text('Block'), a:has-text('Register an account'), "
                            "a:has-text('Remove'), a:has-text('End')")).to_have_count(0)
    shot(page, "keys-auditor")
    assert page.problems == []
