"""Software assessment (SP/SM 7) against a real git repository: a developer's commit
reviewed by someone else, tested and released; a later unreviewed commit kept out of a
release; the release deployed with one sign-off from each team."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from secman.authority.services import sign
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.software import controls, services
from secman.software.choices import ChangeStatus, ReleaseStatus
from secman.software.models import Change, Release
from secman.systems.models import ConfigurationChange, System

pytestmark = pytest.mark.django_db


def _git(repo: Path, *args: str, author: str = "Dee Veloper <dev@example.org>") -> str:
    name, email = author[:-1].split(" <")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo.parent), "GIT_AUTHOR_NAME": name,
           "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def _commit(repo: Path, name: str, text: str, **author: str) -> str:
    (repo / name).write_text(text, encoding="utf-8")
    _git(repo, "add", name)
    _git(repo, "commit", "--quiet", "-m", f"change {name}", **author)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is not installed: bin/debian-packages installs it")
    path = tmp_path / "cacert-code"
    path.mkdir()
    _git(path, "init", "--quiet", "-b", "main")
    return path


def _systems() -> tuple[System, System]:
    code = System.objects.create(name="code", kind="vm", status="in_service")
    webdb = System.objects.get_or_create(name="webdb", defaults={"kind": "vm"})[0]
    return code, webdb


def test_a_reviewed_tested_change_deploys_and_an_unreviewed_commit_is_kept_out(org, repo):
    baseline = _commit(repo, "README", "the CAcert code\n")
    reviewed = _commit(repo, "search.php", "escape the query\n")
    unreviewed = _commit(repo, "backdoor.php", "system($_GET['c']);\n")
    code, webdb = _systems()
    repository = services.add_repository(actor=org.ola, name="cacert", location=str(repo),
                                         system=code, baseline=baseline)
    change = services.submit_change(actor=org.otto, repository=repository,
                                    title="Escape the search query", description="SQL "
                                    "injection in the search", risk="medium", base=baseline,
                                    head=reviewed)
    assert [c["email"] for c in change.commits] == ["dev@example.org"]
    assert change.commits[0]["signature"] == "N" and "1 file changed" in change.shortstat

    services.review(actor=org.ola, change=change, commit=reviewed, note="read every line")
    services.assess(actor=org.otto, change=change, guidelines_followed=True,
                    test_instructions="apply, search for ' OR 1=1")
    services.record_test(actor=org.otto, change=change, result="passed", notes="no rows")
    change.refresh_from_db()
    assert change.status == ChangeStatus.TESTED and services.ready(change) == []

    before = (Release.objects.count(), Event.objects.count())
    with pytest.raises(RuleViolation, match=f"in no reviewed and tested change: "
                                            f"{unreviewed[:12]}"):
        services.create_release(actor=org.otto, repository=repository, name="v1",
                                commit=unreviewed)
    assert (Release.objects.count(), Event.objects.count()) == before

    release = services.create_release(actor=org.otto, repository=repository, name="v1",
                                      commit=reviewed)
    assert list(release.changes.all()) == [change]
    services.hand_over(actor=org.otto, release=release, target=webdb)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.HANDED_OVER
    with pytest.raises(NotAllowed, match="systems administration"):  # the other team's slot
        sign(actor=org.ola, request=release.deploy_signoff, slot="systems administration")
    sign(actor=org.sam, request=release.deploy_signoff, slot="systems administration")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DEPLOYED
    recorded = ConfigurationChange.objects.get()
    assert (recorded.system, recorded.rcs_reference) == (webdb, f"cacert@{reviewed[:12]}")
    deployed = Event.objects.get(action="software.release.deployed")
    assert {s["slot"] for s in deployed.signoffs} == {"software assessment",
                                                      "systems administration"}
    assert controls.releases_reviewed() == []


def test_an_author_does_not_review_and_a_later_commit_needs_a_new_review(org, repo):
    baseline = _commit(repo, "README", "x\n")
    first = _commit(repo, "a.php", "a\n", author="Otto <otto@example.org>")
    code, _ = _systems()
    repository = services.add_repository(actor=org.ola, name="cacert", location=str(repo),
                                         system=code, baseline=baseline)
    change = services.submit_change(actor=org.ola, repository=repository, title="A",
                                    description="a", risk="high", base=baseline, head=first)
    with pytest.raises(RuleViolation, match="author"):
        services.review(actor=org.otto, change=change, commit=first)
    services.review(actor=org.ola, change=change, commit=first)
    assert services.ready(change)[0].startswith("1 of 2 reviews")  # high risk: two
    second = _commit(repo, "b.php", "b\n")
    services.update_head(actor=org.ola, change=change, head=second)
    change.refresh_from_db()
    assert services.reviews_of_head(change) == []
    with pytest.raises(RuleViolation, match="a review names the commit"):
        services.review(actor=org.ola, change=change, commit=first)
    with pytest.raises(NotAllowed):
        services.review(actor=org.sam, change=change, commit=second)


def test_the_review_count_per_risk_is_set_under_authority(org):
    assert services.reviews_needed("low") == 1
    with pytest.raises(NotAllowed):
        services.set_review_rule(actor=org.otto, risk="low", reviews=2, authority="SP 7")
    services.set_review_rule(actor=org.ola, risk="low", reviews=2, authority="SP 7")
    assert services.reviews_needed("low") == 2
    assert Event.objects.get(action="software.review_rule.set").details == {
        "risk": "low", "from": 1, "to": 2}


def test_a_repository_that_cannot_be_read_is_a_finding(org, repo):
    baseline = _commit(repo, "README", "x\n")
    head = _commit(repo, "a.php", "a\n")
    code, _ = _systems()
    repository = services.add_repository(actor=org.ola, name="cacert", location=str(repo),
                                         system=code, baseline=baseline)
    change = services.submit_change(actor=org.otto, repository=repository, title="A",
                                    description="a", risk="low", base=baseline, head=head)
    services.review(actor=org.ola, change=change, commit=head)
    services.assess(actor=org.otto, change=change, guidelines_followed=True,
                    test_instructions="run it")
    services.record_test(actor=org.otto, change=change, result="passed")
    services.create_release(actor=org.otto, repository=repository, name="v1", commit=head)
    shutil.rmtree(repo)
    assert [f.status for f in controls.releases_reviewed()] == [Status.VIOLATED]
    with pytest.raises(RuleViolation):
        services.submit_change(actor=org.otto, repository=repository, title="B",
                               description="b", risk="low", base=baseline, head="HEAD")
    assert Change.objects.count() == 1


def test_hostile_revisions_are_refused(org, repo):
    baseline = _commit(repo, "README", "x\n")
    code, _ = _systems()
    repository = services.add_repository(actor=org.ola, name="cacert", location=str(repo),
                                         system=code, baseline=baseline)
    for rev in ("--output=/tmp/x", "HEAD; rm -rf /", "", "a" * 300, "nosuchbranch"):
        with pytest.raises(RuleViolation):
            services.submit_change(actor=org.otto, repository=repository, title="x",
                                   description="y", risk="low", base=baseline, head=rev)
    assert not Change.objects.exists()


def test_the_commands_register_a_repository_and_set_a_review_rule(org, repo):
    from click.testing import CliRunner

    from secman.cli import main

    _commit(repo, "README", "x\n")
    _systems()
    runner = CliRunner()
    result = runner.invoke(main, ["software", "add-repository", "cacert", str(repo),
                                  "--system", "code", "--as", "ola"])
    assert result.exit_code == 0, result.output
    assert "baseline" in result.output
    refused = runner.invoke(main, ["software", "add-repository", "other", str(repo),
                                   "--system", "code", "--as", "otto"])
    assert refused.exit_code != 0 and "team leader" in refused.output
    result = runner.invoke(main, ["software", "review-rule", "medium", "2",
                                  "--authority", "SP 7", "--as", "ola"])
    assert result.exit_code == 0 and services.reviews_needed("medium") == 2


def test_a_signed_commit_is_verified_with_gnupg(org, repo, settings):
    import tempfile

    import gnupg

    home = tempfile.mkdtemp(prefix="sg", dir="/tmp")  # gpg-agent's socket: a short path
    try:
        keyring = gnupg.GPG(gnupghome=home)
        key = keyring.gen_key(keyring.gen_key_input(
            key_type="EDDSA", key_curve="ed25519", name_real="Dee Veloper",
            name_email="dev@example.org", no_protection=True, expire_date=0))
        baseline = _commit(repo, "README", "x\n")
        (repo / "signed.php").write_text("signed\n", encoding="utf-8")
        _git(repo, "add", "signed.php")
        subprocess.run(["git", "-C", str(repo), "-c", f"user.signingkey={key.fingerprint}",
                        "commit", "-q", "-S", "-m", "signed"], check=True,
                       env={"PATH": "/usr/bin:/bin", "GNUPGHOME": home, "HOME": home,
                            "GIT_AUTHOR_NAME": "Dee", "GIT_AUTHOR_EMAIL": "dev@example.org",
                            "GIT_COMMITTER_NAME": "Dee",
                            "GIT_COMMITTER_EMAIL": "dev@example.org"})
        unsigned = _commit(repo, "plain.php", "plain\n")
        code, _ = _systems()
        repository = services.add_repository(actor=org.ola, name="cacert",
                                             location=str(repo), system=code,
                                             baseline=baseline)
        settings.BACKUP_GNUPGHOME = home
        change = services.submit_change(actor=org.otto, repository=repository, title="s",
                                        description="d", risk="low", base=baseline,
                                        head=unsigned)
        assert [c["signature"] for c in change.commits] == ["G", "N"]
        assert change.commits[0]["signer"] == key.fingerprint[-16:]
        settings.BACKUP_GNUPGHOME = tempfile.mkdtemp(prefix="se", dir="/tmp")  # no key
        other = services.submit_change(actor=org.otto, repository=repository, title="s",
                                       description="d", risk="low", base=baseline,
                                       head=unsigned)
        assert other.commits[0]["signature"] == "E"  # cannot be checked without the key
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_test_accounts_are_for_assurers_after_a_check(org):
    code, _ = _systems()
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="Assurer level"):
        services.decide_test_account(actor=org.otto, system=code, member_name="Mia",
                                     member_email="mia@example.org", assurer=False,
                                     checked="asked on the list", grant=True)
    with pytest.raises(RuleViolation, match="what you checked"):
        services.decide_test_account(actor=org.otto, system=code, member_name="Mia",
                                     member_email="mia@example.org", assurer=True,
                                     checked=" ", grant=True)
    with pytest.raises(NotAllowed):
        services.decide_test_account(actor=org.sam, system=code, member_name="Mia",
                                     member_email="mia@example.org", assurer=True,
                                     checked="points", grant=True)
    assert Event.objects.count() == before
    account = services.decide_test_account(
        actor=org.otto, system=code, member_name="Mia", member_email="Mia@Example.org",
        assurer=True, checked="assurance points 100 seen on her account", grant=True)
    assert account.member_email == "mia@example.org" and account.granted
    assert Event.objects.get(action="software.test_account.grant").details["checked"] == (
        "assurance points 100 seen on her account")
