"""The demo's software assessment: the version control host `code` in the systems
register, a real git repository under the data directory, a security fix reviewed by two
(high risk), tested, released and deployed on webdb under both teams' sign-offs, and a
second change after it, assessed and waiting for its reviews (its commit is in no
release)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings

from secman.authority.services import sign
from secman.software import services
from secman.systems import services as systems
from secman.systems.models import System


def _git(path: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(path), "GIT_AUTHOR_NAME": "Dee Veloper",
           "GIT_AUTHOR_EMAIL": "dee@developers.example.net",
           "GIT_COMMITTER_NAME": "Dee Veloper",
           "GIT_COMMITTER_EMAIL": "dee@developers.example.net"}
    # git on the demo's own repository; no shell.
    done = subprocess.run(["git", "-C", str(path), *args], env=env,  # noqa: S603, S607
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(path: Path, name: str, text: str, message: str) -> str:
    (path / name).write_text(text, encoding="utf-8")
    _git(path, "add", name)
    _git(path, "commit", "--quiet", "-m", message)
    return _git(path, "rev-parse", "HEAD")


def load(people_by_login: dict[str, Any]) -> None:
    if shutil.which("git") is None:
        print("demo: git is not installed, software assessment has no repository "
              "(bin/debian-packages installs it)")
        return
    lena, piet = people_by_login["lena"], people_by_login["piet"]
    clara, oskar = people_by_login["clara"], people_by_login["oskar"]
    webdb = System.objects.get(name="webdb")
    code = systems.add_system(
        actor=lena, name="code", kind="vm", host=webdb, status="installed",
        authority="SM 7.3", purpose="The CA's central version control (git).",
        primary_admin=lena, secondary_admin=piet, os_name="Debian GNU/Linux",
        disk_encryption="enabled", build_document="infradocs/systems/code.rst",
        running_services=[{"service": "git-daemon", "purpose": "repositories, read-only"},
                          {"service": "openssh-server", "purpose": "pushes by reviewers"}])
    systems.record_inspection(actor=piet, system=code, notes="Only sshd and git-daemon "
                              "listen; pushes only with the Repository Access List's keys.")

    path = Path(settings.DATA_DIR) / "demo-code"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    _git(path, "init", "--quiet", "-b", "main")
    baseline = _commit(path, "README", "The CA's web application.\n", "Import the code")
    fix = _commit(path, "account_search.php",
                  "$q = pg_escape_literal($db, $_GET['q']);\n",
                  "Escape the account search query (incident 2)")
    repository = services.add_repository(actor=clara, name="cacert-web", location=str(path),
                                         system=code, baseline=baseline)
    change = services.submit_change(
        actor=oskar, repository=repository, title="Escape the account search query",
        description="The account search put the query text into SQL unescaped (security "
        "bug #1312, incident 2).", risk="high", base=baseline, head=fix)
    services.assess(actor=oskar, change=change, guidelines_followed=True,
                    test_instructions="Apply on test1; search for ' OR 1=1 -- and for an "
                    "ordinary name; both return only what they should.")
    services.review(actor=clara, change=change, commit=fix, note="read every line")
    services.review(actor=oskar, change=change, commit=fix, note="tested the escaping")
    services.record_test(actor=oskar, change=change, result="passed",
                         notes="no extra rows for ' OR 1=1; names still found")
    release = services.create_release(actor=oskar, repository=repository,
                                      name="v2026.12.1", commit=fix)
    release = services.hand_over(actor=oskar, release=release, target=webdb)
    if release.deploy_signoff is not None:
        sign(actor=lena, request=release.deploy_signoff, slot="systems administration")

    later = _commit(path, "password_reset.php", "rate_limit('reset', 5, 3600);\n",
                    "Rate-limit password reset mails")
    waiting = services.submit_change(
        actor=oskar, repository=repository, title="Rate-limit password reset mails",
        description="At most five reset mails an hour per account.", risk="medium",
        base=fix, head=later)
    services.assess(actor=oskar, change=waiting, guidelines_followed=True,
                    test_instructions="Ask for six resets within a minute; the sixth is "
                    "refused.")
