"""Every change software assessment makes, each with its Event Log entry in the same
transaction; a refusal writes nothing (SP/SM 7). git is read, never written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from secman.authority.models import SignOffRequest
from secman.authority.services import (
    AuthorityLike,
    request_signoff,
    resolve_authority,
    sign,
    signoff_summary,
)
from secman.authority.signoff import Requirement, Slot, register
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, leads
from secman.software import git
from secman.software.choices import (
    DEFAULT_REVIEWS,
    ChangeStatus,
    ReleaseStatus,
    Risk,
    TestResult,
)
from secman.software.models import (
    Change,
    Release,
    Repository,
    Review,
    ReviewRule,
    TestAccount,
)
from secman.systems import patches
from secman.systems.models import System

SECTION = "SP 7"
DEPLOY = "software.release.deploy"
# SM 7.6: delivery "will require the availability of both teams": one slot each.
DEPLOYMENT = Requirement((Slot("software assessment", frozenset({Role.SOFTWARE_ASSESSOR})),
                          Slot("systems administration",
                               frozenset({Role.SYSTEMS_ADMINISTRATOR}))), "four eyes")


# --- who may -------------------------------------------------------------------------------


def may_read(person: Person | None) -> bool:
    return holds_any(person, *Role)


def may_assess(person: Person | None) -> bool:
    """Submit, assess, test, release and hand over: the Software Assessors (SM 7.4)."""
    return holds_any(person, Role.SOFTWARE_ASSESSOR)


def may_lead(person: Person | None) -> bool:
    """SM 7.1: the Software Assessment team leader answers for the code: registers the
    repositories and sets how many reviews each risk needs."""
    return leads(person, TeamKind.SOFTWARE_ASSESSMENT)


def _require(predicate: Any, actor: Person | None, what: str, section: str = SECTION) -> None:
    if not predicate(actor):
        raise NotAllowed(what, section=section)


def _git(call: Any) -> Any:
    try:
        return call()
    except git.GitError as exc:
        raise RuleViolation(str(exc), field="head") from None


# --- repositories and review rules --------------------------------------------------------


def add_repository(*, actor: Person, name: str, location: str, system: System,
                   baseline: str = "HEAD", authority: AuthorityLike = "SM 7.3") -> Repository:
    _require(may_lead, actor, "repositories are registered by the Software Assessment team "
             "leader", "SM 7.1")
    name, location = name.strip(), location.strip()
    if not name or not location:
        raise RuleViolation("a repository needs a name and a location", field="name")
    check_text(Repository, {"name": name, "location": location})
    path = _git(lambda: git.refresh(location))
    sha = _git(lambda: git.resolve(path, baseline.strip() or "HEAD"))
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        if Repository.objects.filter(name=name).exists():
            raise RuleViolation(f"a repository named {name!r} is registered already",
                                field="name")
        repository = Repository.objects.create(name=name, location=location, system=system,
                                               baseline=sha, authority=authority_row,
                                               added_by=actor)
        record("software.repository.add", actor=actor, authority=authority_row,
               subject=repository, retention_class=RetentionClass.CONFIGURATION,
               details={"name": name, "location": location, "system": system.name,
                        "baseline": sha})
    return repository


def reviews_needed(risk: str) -> int:
    rule = ReviewRule.objects.filter(risk=risk).first()
    return rule.reviews if rule else DEFAULT_REVIEWS[Risk(risk)]


def set_review_rule(*, actor: Person, risk: str, reviews: int,
                    authority: AuthorityLike) -> ReviewRule:
    """SP 7: "riskier code needs more reviews": the number per risk, under authority."""
    _require(may_lead, actor, "the reviews per risk are set by the Software Assessment team "
             "leader", "SM 7.1")
    if risk not in Risk.values:
        raise RuleViolation(f"{risk!r} is not a risk", field="risk")
    if not 1 <= reviews <= 5:
        raise RuleViolation("a change needs from 1 to 5 reviews", field="reviews")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        before = reviews_needed(risk)
        rule, _ = ReviewRule.objects.update_or_create(
            risk=risk, defaults={"reviews": reviews, "authority": authority_row,
                                 "set_by": actor, "set_at": timezone.now()})
        record("software.review_rule.set", actor=actor, authority=authority_row, subject=rule,
               retention_class=RetentionClass.CONFIGURATION,
               details={"risk": risk, "from": before, "to": reviews})
    return rule


# --- changes -------------------------------------------------------------------------------


def _read_range(repository: Repository, base: str, head: str) -> tuple[str, str, list, str]:
    path = _git(lambda: git.refresh(repository.location))
    base_sha = _git(lambda: git.resolve(path, base))
    head_sha = _git(lambda: git.resolve(path, head))
    if not git.is_ancestor(path, base_sha, head_sha):
        raise RuleViolation(f"{base} is not an ancestor of {head}", field="base")
    found = _git(lambda: git.commits(path, base_sha, head_sha))
    if not found:
        raise RuleViolation(f"{base}..{head} holds no commit", field="head")
    return base_sha, head_sha, [c.as_dict() for c in found], _git(
        lambda: git.shortstat(path, base_sha, head_sha))


def submit_change(*, actor: Person, repository: Repository, title: str, description: str,
                  risk: str, base: str, head: str) -> Change:
    """A patch for assessment: the commits base..head, read from the repository."""
    _require(may_assess, actor, "changes are taken in by Software Assessors", "SM 7.4")
    title, description = " ".join(title.split()), description.strip()
    if not title or not description:
        raise RuleViolation("a change needs a title and a description", field="title")
    check_text(Change, {"title": title})
    check_free_text(description, label="the description", limit=TEXT_MAX, multiline=True,
                    field="description")
    if risk not in Risk.values:
        raise RuleViolation("say the change's risk", field="risk")
    base_sha, head_sha, found, stat = _read_range(repository, base, head)
    with transaction.atomic():
        change = Change.objects.create(
            repository=repository, title=title, description=description, risk=risk,
            base=base_sha, head=head_sha, commits=found, shortstat=stat[:200],
            submitted_by=actor)
        record("software.change.submit", actor=actor, authority=resolve_authority("SM 7.4"),
               subject=change, details={
                   "repository": repository.name, "base": base_sha, "head": head_sha,
                   "risk": risk, "commits": len(found),
                   "authors": sorted({c["email"] for c in found}),
                   "signatures": sorted({c["signature"] for c in found})})
    return change


def update_head(*, actor: Person, change: Change, head: str) -> Change:
    """A later commit on the change: the reviews and the test of the old head no longer
    count, and the change is assessed again."""
    _require(may_assess, actor, "changes are taken in by Software Assessors", "SM 7.4")
    with transaction.atomic():
        change = Change.objects.select_for_update().get(pk=change.pk)
        if change.status in (ChangeStatus.RELEASED, ChangeStatus.REJECTED):
            raise RuleViolation(f"the change is {change.get_status_display().lower()}",
                                field="head")
        _, head_sha, found, stat = _read_range(change.repository, change.base, head)
        if head_sha == change.head:
            raise RuleViolation("this is the change's head already", field="head")
        before = change.head
        change.head, change.commits, change.shortstat = head_sha, found, stat[:200]
        change.status = ChangeStatus.SUBMITTED
        change.save(update_fields=["head", "commits", "shortstat", "status"])
        record("software.change.head", actor=actor, authority=resolve_authority("SM 7.4"),
               subject=change, details={"from": before, "to": head_sha,
                                        "commits": len(found)})
    return change


def reviews_of_head(change: Change) -> list[Review]:
    return list(change.reviews.filter(commit=change.head).select_related("reviewer"))


def review(*, actor: Person, change: Change, commit: str, note: str = "") -> Review:
    """SP 7: a sign-off of the exact commit the reviewer read; never by an author of the
    change's commits."""
    _require(lambda p: may_assess(p) or may_lead(p), actor, "changes are signed off by the "
             "Software Assessment team leader or a reviewer of the team")
    note = " ".join(note.split())
    check_free_text(note, label="the note", limit=500, multiline=False, field="note")
    with transaction.atomic():
        change = Change.objects.select_for_update().get(pk=change.pk)
        if change.status in (ChangeStatus.RELEASED, ChangeStatus.REJECTED):
            raise RuleViolation(f"the change is {change.get_status_display().lower()}",
                                field="commit")
        if commit.strip().lower() != change.head:
            raise RuleViolation(f"the change's head is {change.head[:12]}: a review names the "
                                "commit it approves, and that is the head", field="commit")
        if actor.email.lower() in change.authors:
            raise RuleViolation("an author of the change's commits does not review it "
                                "(SP 7)", field="commit")
        if change.reviews.filter(reviewer=actor, commit=change.head).exists():
            raise RuleViolation("you approved this commit already", field="commit")
        signed = Review.objects.create(change=change, reviewer=actor, commit=change.head,
                                       note=note)
        record("software.change.review", actor=actor, authority=resolve_authority(SECTION),
               subject=change, details={"commit": change.head, "note": note,
                                        "reviews": len(reviews_of_head(change)),
                                        "needed": reviews_needed(change.risk)})
    return signed


def assess(*, actor: Person, change: Change, guidelines_followed: bool,
           test_instructions: str) -> Change:
    """SM 7.4: the change follows the coding guidelines and says how to apply it to a test
    system; one that does not goes back to its author."""
    _require(may_assess, actor, "changes are assessed by Software Assessors", "SM 7.4")
    test_instructions = test_instructions.strip()
    check_free_text(test_instructions, label="the instructions", limit=TEXT_MAX,
                    multiline=True, field="test_instructions")
    if guidelines_followed and not test_instructions:
        raise RuleViolation("write the instructions for the test system (SM 7.4)",
                            field="test_instructions")
    with transaction.atomic():
        change = Change.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.SUBMITTED:
            raise RuleViolation(f"the change is {change.get_status_display().lower()}")
        change.status = (ChangeStatus.ASSESSED if guidelines_followed
                         else ChangeStatus.REJECTED)
        change.test_instructions = test_instructions
        change.assessed_by, change.assessed_at = actor, timezone.now()
        change.save(update_fields=["status", "test_instructions", "assessed_by",
                                   "assessed_at"])
        record("software.change.assess", actor=actor, authority=resolve_authority("SM 7.4"),
               subject=change, details={"commit": change.head,
                                        "guidelines_followed": guidelines_followed})
    return change


def record_test(*, actor: Person, change: Change, result: str, notes: str = "") -> Change:
    """SP 7 "Test status of each patch must be logged": the test of the head on the test
    system (SM 7.5)."""
    _require(may_assess, actor, "tests are recorded by the Software Assessors (QA)", "SM 7.4")
    if result not in TestResult.values:
        raise RuleViolation("the result is passed or failed", field="result")
    notes = " ".join(notes.split())
    check_free_text(notes, label="the notes", limit=500, multiline=False, field="notes")
    with transaction.atomic():
        change = Change.objects.select_for_update().get(pk=change.pk)
        if change.status not in (ChangeStatus.ASSESSED, ChangeStatus.TESTED):
            raise RuleViolation("a change is tested once assessed, before its release",
                                field="result")
        change.test_result, change.tested_commit, change.test_notes = (
            result, change.head, notes)
        change.tested_by, change.tested_at = actor, timezone.now()
        change.status = (ChangeStatus.TESTED if result == TestResult.PASSED
                         else ChangeStatus.ASSESSED)
        change.save(update_fields=["test_result", "tested_commit", "test_notes", "tested_by",
                                   "tested_at", "status"])
        record("software.change.test", actor=actor, authority=resolve_authority("SM 7.5"),
               subject=change, details={"commit": change.head, "result": result,
                                        "notes": notes})
    return change


def ready(change: Change) -> list[str]:
    """What keeps a change out of a release, in the page's words."""
    missing = []
    have, need = len(reviews_of_head(change)), reviews_needed(change.risk)
    if have < need:
        missing.append(f"{have} of {need} reviews of its head {change.head[:12]}")
    if change.test_result != TestResult.PASSED or change.tested_commit != change.head:
        missing.append("no passing test of its head")
    if change.status not in (ChangeStatus.TESTED, ChangeStatus.RELEASED):
        missing.append(f"it is {change.get_status_display().lower()}")
    return missing


# --- test and bug system accounts (SM 7.5) --------------------------------------------------


def decide_test_account(*, actor: Person, system: System, member_name: str,
                        member_email: str, assurer: bool, checked: str,
                        grant: bool) -> TestAccount:
    """SM 7.5: accounts "on request to Members (Assurer level) after a small degree of
    checking". Granting one to a Member who is not an Assurer is refused; a refusal is
    recorded like a grant, with what was checked."""
    _require(may_assess, actor, "test and bug system accounts are given by the Software "
             "Assessors", "SM 7.5")
    member_name, member_email = " ".join(member_name.split()), member_email.strip().lower()
    checked = " ".join(checked.split())
    if not member_name or not member_email:
        raise RuleViolation("name the Member and their email", field="member_name")
    if not checked:
        raise RuleViolation("say what you checked, and how (SM 7.5)", field="checked")
    try:
        validate_email(member_email)
    except ValidationError:
        raise RuleViolation(f"{member_email[:80]!r} is not an email address",
                            field="member_email") from None
    check_text(TestAccount, {"member_name": member_name, "checked": checked})
    if grant and not assurer:
        raise RuleViolation("accounts are for Members at Assurer level (SM 7.5)",
                            field="assurer")
    with transaction.atomic():
        account = TestAccount.objects.create(
            system=system, member_name=member_name, member_email=member_email,
            assurer=assurer, checked=checked, decided_by=actor, granted=grant)
        record("software.test_account.grant" if grant else "software.test_account.refuse",
               actor=actor, authority=resolve_authority("SM 7.5"), subject=account,
               details={"system": system.name, "member": member_name,
                        "email": member_email, "assurer": assurer, "checked": checked})
    return account


# --- releases -----------------------------------------------------------------------------


def _since(repository: Repository) -> str:
    latest = repository.releases.order_by("-created_at").first()
    return latest.commit if latest else repository.baseline


def unreviewed_commits(repository: Repository, commit: str, since: str,
                       changes: list[Change]) -> list[str]:
    """The commits in since..commit that no ready change covers (SM 7.3)."""
    path = git.refresh(repository.location)
    wanted = set(git.rev_list(path, commit, [since]))
    covered: set[str] = set()
    for change in changes:
        covered |= set(git.rev_list(path, change.head, [change.base]))
    return sorted(wanted - covered)


def create_release(*, actor: Person, repository: Repository, name: str,
                   commit: str) -> Release:
    """SM 7.6: a revision of reviewed and tested changes. Refused when a commit since the
    previous release (or the baseline) belongs to no change that is ready: no unreviewed
    commit reaches production."""
    _require(may_assess, actor, "releases are prepared by the Software Assessors", "SM 7.6")
    name = name.strip()
    if not name:
        raise RuleViolation("name the revision or build", field="name")
    check_text(Release, {"name": name})
    path = _git(lambda: git.refresh(repository.location))
    sha = _git(lambda: git.resolve(path, commit.strip()))
    since = _since(repository)
    if sha == since or not git.is_ancestor(path, since, sha):
        raise RuleViolation(f"{commit} does not come after the previous release "
                            f"({since[:12]})", field="commit")
    candidates = [c for c in repository.changes.filter(status=ChangeStatus.TESTED)
                  if not ready(c) and git.is_ancestor(path, c.head, sha)]
    missing = _git(lambda: unreviewed_commits(repository, sha, since, candidates))
    if missing:
        # Say which changes would cover them once ready, and what they lack.
        waiting = [f"change {c.pk} ({'; '.join(ready(c))})" for c in repository.changes.exclude(
            status__in=[ChangeStatus.RELEASED, ChangeStatus.REJECTED])
            if c not in candidates and c.head in missing]
        raise RuleViolation(
            f"{len(missing)} commit{'s' if len(missing) != 1 else ''} in the release "
            f"{'are' if len(missing) != 1 else 'is'} in no reviewed and tested change: "
            + ", ".join(m[:12] for m in missing[:10])
            + (". Not ready yet: " + ", ".join(waiting) if waiting else ""), field="commit")
    with transaction.atomic():
        if repository.releases.filter(name=name).exists():
            raise RuleViolation(f"{repository} has a release {name!r} already", field="name")
        release = Release.objects.create(repository=repository, name=name, commit=sha,
                                         since=since, created_by=actor)
        release.changes.set(candidates)
        Change.objects.filter(pk__in=[c.pk for c in candidates]).update(
            status=ChangeStatus.RELEASED)
        record("software.release.create", actor=actor, authority=resolve_authority("SM 7.6"),
               subject=release, details={
                   "repository": repository.name, "name": name, "commit": sha,
                   "since": since, "changes": [c.pk for c in candidates],
                   "reviews": {c.pk: [str(r.reviewer) for r in reviews_of_head(c)]
                               for c in candidates}})
    return release


def hand_over(*, actor: Person, release: Release, target: System) -> Release:
    """SM 7.6: the release goes to the Systems Administrators; deploying it waits for one
    person of each team (the assessor signs the first slot now)."""
    _require(may_assess, actor, "releases are handed over by the Software Assessors", "SM 7.6")
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.status != ReleaseStatus.RELEASED:
            raise RuleViolation(f"the release is {release.get_status_display().lower()}")
        request = request_signoff(
            actor=actor, action=DEPLOY, authority="SM 7.6",
            title=f"Deploy {release} on {target}"[:300],
            description="Delivery requires the availability of both teams (SM 7.6).",
            requirement=DEPLOYMENT, payload={"release": release.pk},
            expires_in=dt.timedelta(days=14))
        release.status, release.target, release.deploy_signoff = (
            ReleaseStatus.HANDED_OVER, target, request)
        release.save(update_fields=["status", "target", "deploy_signoff"])
        record("software.release.hand_over", actor=actor,
               authority=resolve_authority("SM 7.6"), subject=release,
               details={"release": str(release), "commit": release.commit,
                        "system": target.name})
        sign(actor=actor, request=request, slot="software assessment")
    return release


def _deployed(request: SignOffRequest) -> None:
    # Only the release's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join to its target.
    release = Release.objects.select_for_update(of=("self",)).select_related(
        "repository", "target").get(deploy_signoff=request)
    sysadmin = request.signoffs.get(slot="systems administration").person
    target = release.target
    if target is None:  # hand_over always names one
        raise RuleViolation("the release names no system to deploy on")
    change = patches.record_change(
        actor=sysadmin, system=target, summary=f"Deployed {release}"[:300],
        rcs_reference=f"{release.repository.name}@{release.commit[:12]}",
        authority="SM 7.6")
    release.status, release.deployed_at, release.configuration_change = (
        ReleaseStatus.DEPLOYED, timezone.now(), change)
    release.save(update_fields=["status", "deployed_at", "configuration_change"])
    record("software.release.deployed", actor=None,
           actor_label="secman (both teams signed)", authority=request.authority,
           subject=release, signoffs=signoff_summary(request),
           details={"release": str(release), "system": target.name,
                    "configuration_change": change.pk})


register(DEPLOY, "Release deployed under four eyes, one of each team (SM 7.6)", _deployed)
