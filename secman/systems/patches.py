"""Patches and configuration changes (SP 3.2.3, 3.2.3.1, SM 3.2.3, 4.1.3): the only place
that changes them, split from systems.services. Each function checks who is asking,
validates, writes, and records one Event Log entry in the same transaction; a refusal
writes nothing.

A patch is proposed by a Systems Administrator, approved by the Systems Administration
team leader (and nobody else), applied under four eyes (an executor and an observer, two
Systems Administrators), reported by mail to the Systems Administration list, and
followed by a full encrypted backup of each patched system (SM 3.2.3). An emergency patch
(a known exploit, SP 3.2.3.1) may be applied before approval; the team leader then
approves it or instructs remedial action, and refers it to dispute resolution (an
Arbitration case filed through authority.arbitration)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from secman.authority.arbitration import file_dispute
from secman.authority.choices import SignOffStatus
from secman.authority.models import SignOffRequest
from secman.authority.services import (
    AuthorityLike,
    request_signoff,
    resolve_authority,
    sign,
    signoff_summary,
)
from secman.authority.signoff import four_eyes, register
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator, leads
from secman.systems.choices import PatchStatus
from secman.systems.models import ConfigurationChange, Patch, System

logger = logging.getLogger(__name__)

APPLY = "systems.patch.apply"
# What an advisory is called: Debian's DSA/DLA, a CVE, or another vendor's identifier.
ADVISORY_RE = re.compile(r"^(DSA-\d{1,6}-\d{1,3}|DLA-\d{1,6}-\d{1,3}|CVE-\d{4}-\d{4,7}"
                         r"|[A-Z][A-Z0-9]{1,15}(-[A-Za-z0-9]{1,20}){1,4})$")
# Debian policy 5.6.1: package names.
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]{1,99}$")
MAX_PACKAGES = 200
# What a configuration change may be recorded as covering: the kinds of fact the host
# agent reports (systems.models.ConfigurationChange.covers).
COVERS = ("ports", "packages", "sshd", "sudoers", "accounts", "authorized_keys", "ruleset")
RCS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]{0,120}(@|#|:)[A-Za-z0-9._/-]{1,78}$")
NOT_MAILED = "SECMAN_SYSADMIN_LIST is not set"


# --- who may do what: one rule each, asked by the services and the pages ------------------


def may_see_patches(person: Person | None) -> bool:
    """Patches, changes, the OS lifecycle and the Board summary are read by the Systems
    Administrators, the Board, auditors and the administrator."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.BOARD_MEMBER, Role.AUDITOR) or (
        is_administrator(person))


def why_not_see_patches(person: Person | None) -> NotAllowed | None:
    if may_see_patches(person):
        return None
    return NotAllowed("patches and configuration changes are for the Systems "
                      "Administrators, the Board and auditors", section="SP 3.2.3")


def may_propose(person: Person | None) -> bool:
    """Propose and apply patches, record changes and backups: Systems Administrators."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def may_approve(person: Person | None) -> bool:
    """SP 3.2.3: patch application is approved by the Systems Administration team leader;
    nobody else (not the Board, not the administrator)."""
    return leads(person, TeamKind.SYSTEMS_ADMINISTRATION)


def _require_sysadmin(actor: Person | None, what: str, section: str) -> None:
    if not may_propose(actor):
        raise NotAllowed(f"{what} is done by Systems Administrators", section=section)


def _require_leader(actor: Person | None, what: str) -> None:
    if not may_approve(actor):
        raise NotAllowed(f"{what} is for the Systems Administration team leader only",
                         section="SP 3.2.3")


# --- patches -----------------------------------------------------------------------------


def _clean_packages(packages: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(p.strip() for p in packages if p and p.strip()))
    if not cleaned:
        raise RuleViolation("name the packages the patch updates", field="packages")
    if len(cleaned) > MAX_PACKAGES:
        raise RuleViolation(f"at most {MAX_PACKAGES} packages per patch", field="packages")
    for name in cleaned:
        if not PACKAGE_RE.match(name):
            raise RuleViolation(f"{name[:60]!r} is not a Debian package name (lower case "
                                "letters, digits, + - .)", field="packages")
    return cleaned


def propose_patch(*, actor: Person, advisory: str, title: str, packages: Iterable[str],
                  systems: Iterable[System], emergency: bool = False, exploit: str = "",
                  authority: AuthorityLike = "SP 3.2.3") -> Patch:
    """Propose a security patch for some systems. An emergency patch (SP 3.2.3.1) says
    which exploit makes it one."""
    _require_sysadmin(actor, "proposing a patch", "SP 3.2.3")
    advisory, title, exploit = advisory.strip(), title.strip(), exploit.strip()
    if not ADVISORY_RE.match(advisory):
        raise RuleViolation(f"{advisory[:60]!r} is not an advisory: give e.g. DSA-5678-1, "
                            "DLA-3456-1 or CVE-2026-1234", field="advisory")
    if not title:
        raise RuleViolation("say what the patch fixes", field="title")
    check_text(Patch, {"advisory": advisory, "title": title, "exploit": exploit})
    package_names = _clean_packages(packages)
    targets = list(dict.fromkeys(systems))
    if not targets:
        raise RuleViolation("name the systems the patch is for", field="systems")
    if emergency and not exploit:
        raise RuleViolation("an emergency patch describes the known exploit that makes it "
                            "one", section="SP 3.2.3.1", field="exploit")
    if not emergency and exploit:
        raise RuleViolation("an exploit is described only for an emergency patch",
                            section="SP 3.2.3.1", field="exploit")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        patch = Patch.objects.create(advisory=advisory, title=title, packages=package_names,
                                     emergency=emergency, exploit=exploit, proposed_by=actor,
                                     authority=authority_row)
        patch.systems.set(targets)
        record("systems.patch.propose", actor=actor, authority=authority_row, subject=patch,
               retention_class=RetentionClass.CONFIGURATION,
               details={"advisory": advisory, "title": title, "packages": package_names,
                        "systems": [s.name for s in targets], "emergency": emergency,
                        "exploit": exploit})
    return patch


def _locked(patch: Patch) -> Patch:
    return Patch.objects.select_for_update().get(pk=patch.pk)


def _refer_emergency(actor: Person, patch: Patch, decision: str) -> None:
    """SP 3.2.3.1: the team leader refers an emergency patch to dispute resolution."""
    if patch.case_id is not None:
        return
    names = ", ".join(patch.systems.values_list("name", flat=True))
    patch.case = file_dispute(
        actor=actor, title=f"Emergency patch {patch.advisory} on {names}"[:300],
        circumstances=(f"Emergency patch {patch.advisory} ({patch.title}) for {names}.\n"
                       f"Exploit: {patch.exploit}\nTeam leader's decision: {decision}"))


def approve_patch(*, actor: Person, patch: Patch,
                  authority: AuthorityLike = "SP 3.2.3") -> Patch:
    """The team leader approves a proposed patch; or, for an emergency patch applied
    before approval, approves it afterwards. An emergency patch is referred to dispute
    resolution in the same step (SP 3.2.3.1)."""
    _require_leader(actor, "approving a patch")
    with transaction.atomic():
        patch = _locked(patch)
        if patch.approved_at is not None or patch.remedial_at is not None:
            raise RuleViolation("the team leader has decided on this patch already",
                                section="SP 3.2.3")
        if patch.status == PatchStatus.WITHDRAWN:
            raise RuleViolation("this patch was withdrawn")
        if patch.status != PatchStatus.PROPOSED and not patch.emergency:
            raise RuleViolation("only a proposed patch is approved", section="SP 3.2.3")
        authority_row = resolve_authority(authority)
        patch.approved_by, patch.approved_at = actor, timezone.now()
        if patch.status == PatchStatus.PROPOSED:
            patch.status = PatchStatus.APPROVED
        if patch.emergency:
            _refer_emergency(actor, patch, "approved")
        patch.save()
        record("systems.patch.approve", actor=actor, authority=authority_row, subject=patch,
               retention_class=RetentionClass.CONFIGURATION,
               details={"advisory": patch.advisory, "emergency": patch.emergency,
                        "applied_before_approval": patch.applied_at is not None,
                        "case": patch.case.number if patch.case else ""})
    return patch


def instruct_remedial_action(*, actor: Person, patch: Patch, instruction: str,
                             authority: AuthorityLike = "SP 3.2.3.1") -> Patch:
    """Instead of approving an emergency patch applied before approval, the team leader
    instructs remedial action, and refers the case to dispute resolution."""
    _require_leader(actor, "instructing remedial action")
    instruction = instruction.strip()
    if not instruction:
        raise RuleViolation("say what is to be done", field="instruction")
    check_free_text(instruction, label="instruction", limit=TEXT_MAX, multiline=True,
                    field="instruction")
    with transaction.atomic():
        patch = _locked(patch)
        if not patch.emergency or patch.applied_at is None:
            raise RuleViolation("remedial action is instructed for an emergency patch "
                                "applied before approval", section="SP 3.2.3.1")
        if patch.approved_at is not None or patch.remedial_at is not None:
            raise RuleViolation("the team leader has decided on this patch already",
                                section="SP 3.2.3.1")
        authority_row = resolve_authority(authority)
        patch.remedial_action, patch.remedial_by = instruction, actor
        patch.remedial_at = timezone.now()
        _refer_emergency(actor, patch, f"remedial action: {instruction}")
        patch.save()
        record("systems.patch.remedial", actor=actor, authority=authority_row, subject=patch,
               retention_class=RetentionClass.CONFIGURATION,
               details={"advisory": patch.advisory, "instruction": instruction,
                        "case": patch.case.number if patch.case else ""})
    return patch


def withdraw_patch(*, actor: Person, patch: Patch, reason: str) -> Patch:
    """A patch not yet applied is withdrawn by its proposer or the team leader."""
    if actor.pk != patch.proposed_by_id and not may_approve(actor):
        raise NotAllowed("a patch is withdrawn by whoever proposed it or the team leader",
                         section="SP 3.2.3")
    reason = reason.strip()
    if not reason:
        raise RuleViolation("say why the patch is withdrawn", field="reason")
    check_free_text(reason, label="reason", limit=TEXT_MAX, multiline=True, field="reason")
    with transaction.atomic():
        patch = _locked(patch)
        if patch.status not in (PatchStatus.PROPOSED, PatchStatus.APPROVED) or (
                application_waiting(patch)):
            raise RuleViolation("only a patch not being applied, nor applied, is withdrawn")
        patch.status = PatchStatus.WITHDRAWN
        patch.notes = reason
        patch.save(update_fields=["status", "notes"])
        record("systems.patch.withdraw", actor=actor, authority="SP 3.2.3", subject=patch,
               details={"advisory": patch.advisory, "reason": reason})
    return patch


def application_waiting(patch: Patch) -> bool:
    """The patch's application waits for its observer (a live, pending sign-off)."""
    request = patch.signoff
    return request is not None and request.status == SignOffStatus.PENDING and (
        not request.is_expired)


def start_application(*, actor: Person, patch: Patch, comment: str = "",
                      authority: AuthorityLike | None = None) -> SignOffRequest:
    """Open the four-eyes sign-off of applying the patch, with `actor` as its executor
    (signed at once). When a second Systems Administrator signs as observer the patch is
    applied, and the report goes to the Systems Administration list. A normal patch must
    be approved first; an emergency patch may be applied before (SP 3.2.3.1)."""
    _require_sysadmin(actor, "applying a patch", "SP 3.2.3")
    with transaction.atomic():
        patch = _locked(patch)
        if patch.status == PatchStatus.PROPOSED and not patch.emergency:
            raise RuleViolation("this patch is not approved: the Systems Administration "
                                "team leader approves a patch before it is applied (only "
                                "an emergency patch may be applied first)", section="SP 3.2.3")
        if patch.status not in (PatchStatus.PROPOSED, PatchStatus.APPROVED):
            raise RuleViolation(f"this patch is {patch.get_status_display().lower()}; "
                                "it is not applied again", section="SP 3.2.3")
        if application_waiting(patch):
            raise RuleViolation("this patch's application is waiting for its observer "
                                "already", section="SP 4.1")
        section = "SP 3.2.3.1" if patch.emergency and patch.approved_at is None else "SP 3.2.3"
        names = ", ".join(patch.systems.values_list("name", flat=True))
        request = request_signoff(
            actor=actor, action=APPLY, authority=authority or section,
            title=f"Apply {patch.advisory} on {names}"[:300],
            description=f"{patch.title}\nPackages: {', '.join(patch.packages)}",
            requirement=four_eyes(Role.SYSTEMS_ADMINISTRATOR, Role.SYSTEMS_ADMINISTRATOR),
            payload={"patch": patch.pk}, expires_in=dt.timedelta(days=2))
        patch.signoff = request
        patch.save(update_fields=["signoff"])
        sign(actor=actor, request=request, slot="executor", comment=comment)
    return request


def _applied(request: SignOffRequest) -> None:
    """The observer signed: the patch is applied; its report is mailed once this
    commits."""
    patch = Patch.objects.select_for_update().get(pk=request.payload["patch"])
    if patch.status not in (PatchStatus.PROPOSED, PatchStatus.APPROVED):
        raise RuleViolation(f"this patch is {patch.get_status_display().lower()}; it is not "
                            "applied again", section="SP 3.2.3")
    if patch.status == PatchStatus.PROPOSED and not patch.emergency:
        raise RuleViolation("this patch is not approved", section="SP 3.2.3")
    patch.status, patch.applied_at = PatchStatus.APPLIED, timezone.now()
    patch.save(update_fields=["status", "applied_at"])
    mail = ({"mailed_to": settings.SECMAN_SYSADMIN_LIST} if settings.SECMAN_SYSADMIN_LIST
            else {"not_mailed": NOT_MAILED})
    record("systems.patch.applied", actor=None, actor_label="secman (four eyes complete)",
           authority=request.authority, subject=patch, signoffs=signoff_summary(request),
           retention_class=RetentionClass.CONFIGURATION,
           details={"advisory": patch.advisory, "emergency": patch.emergency,
                    "before_approval": patch.approved_at is None,
                    "systems": list(patch.systems.values_list("name", flat=True)), **mail})
    # robust: the patch is applied and committed whatever the mail does; a failure to
    # report is logged and leaves the patch a finding until report_patch sends it.
    transaction.on_commit(lambda: _send_report(patch.pk), robust=True)


register(APPLY, "Security patch applied under four eyes (SP 3.2.3)", _applied)


def report_text(patch: Patch) -> tuple[str, str]:
    """The subject and body of the patch's report to the Systems Administration list."""
    signed = signoff_summary(patch.signoff) if patch.signoff else []
    text = render_to_string("systems/patch_report_mail.txt", {
        "patch": patch, "systems": list(patch.systems.all()), "signoffs": signed,
        "site_url": settings.SITE_URL})
    subject, _, body = text.strip().partition("\n")
    return settings.EMAIL_SUBJECT_PREFIX + subject.strip(), body.strip() + "\n"


def _send_report(patch_pk: int, actor: Person | None = None) -> bool:
    """Mail the report of an applied patch to the Systems Administration list and mark it
    reported (SP 3.2.3). A mail server that refuses is logged; the patch then stays
    applied-not-reported, a finding, until `report_patch` sends it again."""
    patch = Patch.objects.select_related("signoff").get(pk=patch_pk)
    if not settings.SECMAN_SYSADMIN_LIST or patch.reported_at is not None:
        return False
    subject, body = report_text(patch)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [settings.SECMAN_SYSADMIN_LIST])
    except OSError:
        logger.exception("could not mail the report of patch %s to the Systems "
                         "Administration list", patch.pk)
        return False
    with transaction.atomic():
        patch = _locked(patch)
        if patch.reported_at is not None:
            return False
        patch.reported_at, patch.status = timezone.now(), PatchStatus.REPORTED
        patch.save(update_fields=["reported_at", "status"])
        record("systems.patch.report", actor=actor,
               actor_label="" if actor else "secman (report mailed)",
               authority="SP 3.2.3", subject=patch,
               details={"advisory": patch.advisory, "mailed_to": settings.SECMAN_SYSADMIN_LIST,
                        "subject": subject})
    return True


def report_patch(*, actor: Person, patch: Patch) -> bool:
    """Send an applied patch's report again (the mail server was down, or the list was
    not configured then). True when it was mailed."""
    _require_sysadmin(actor, "reporting a patch", "SP 3.2.3")
    if patch.status != PatchStatus.APPLIED:
        raise RuleViolation("only an applied patch that is not yet reported is reported",
                            section="SP 3.2.3")
    if not settings.SECMAN_SYSADMIN_LIST:
        raise RuleViolation(f"{NOT_MAILED}: there is no list to report to",
                            section="SP 3.2.3")
    if not _send_report(patch.pk, actor):
        raise RuleViolation("the mail server did not take the report; try again later",
                            section="SP 3.2.3")
    return True


def record_backup_after_patch(*, actor: Person, patch: Patch, reference: str,
                              authority: AuthorityLike = "SM 3.2.3") -> Patch:
    """SM 3.2.3: after a substantive patch, a full encrypted backup of each patched
    machine. The backups chapter records it; until then, a Systems Administrator records
    it here by hand with what the backup is known by."""
    _require_sysadmin(actor, "recording a backup", "SM 3.2.3")
    reference = reference.strip()
    if not reference:
        raise RuleViolation("name the backup (its name or the backups register's entry)",
                            field="reference")
    check_text(Patch, {"backup_reference": reference})
    with transaction.atomic():
        patch = _locked(patch)
        if patch.applied_at is None:
            raise RuleViolation("the backup follows the patch: this patch is not applied",
                                section="SM 3.2.3")
        if patch.backup_recorded_at is not None:
            raise RuleViolation("the backup after this patch is recorded already",
                                section="SM 3.2.3")
        authority_row = resolve_authority(authority)
        patch.backup_recorded_at, patch.backup_reference = timezone.now(), reference
        patch.save(update_fields=["backup_recorded_at", "backup_reference"])
        record("systems.patch.backup", actor=actor, authority=authority_row, subject=patch,
               details={"advisory": patch.advisory, "reference": reference,
                        "systems": list(patch.systems.values_list("name", flat=True))})
    return patch


# --- configuration changes (SM 4.1.3) ------------------------------------------------------


def record_change(*, actor: Person, system: System, summary: str, rcs_reference: str,
                  covers: Iterable[str] = (), made_at: dt.datetime | None = None,
                  authority: AuthorityLike = "SM 4.1.3") -> ConfigurationChange:
    """Record a change of a system's configuration with the RCS/git reference it is kept
    under (SM 4.1.3: all changes made to system configuration are recorded through RCS)."""
    _require_sysadmin(actor, "recording a configuration change", "SM 4.1.3")
    summary, rcs_reference = summary.strip(), rcs_reference.strip()
    if not summary:
        raise RuleViolation("say what was changed", field="summary")
    if not RCS_RE.match(rcs_reference):
        raise RuleViolation(f"{rcs_reference[:60]!r} is not an RCS reference: give the "
                            "repository and the commit, e.g. cacert-puppet@1a2b3c4",
                            section="SM 4.1.3", field="rcs_reference")
    check_text(ConfigurationChange, {"summary": summary, "rcs_reference": rcs_reference})
    kinds = list(dict.fromkeys(c.strip() for c in covers if c.strip()))
    unknown = [c for c in kinds if c not in COVERS]
    if unknown:
        raise RuleViolation(f"a change covers {', '.join(COVERS)}; not "
                            f"{', '.join(u[:30] for u in unknown)}", field="covers")
    now = timezone.now()
    made_at = made_at or now
    if made_at > now + dt.timedelta(minutes=5):
        raise RuleViolation("a change is recorded once it is made, not in the future",
                            field="made_at")
    if made_at < now - dt.timedelta(days=366):
        raise RuleViolation("a change more than a year old is not recorded after the fact "
                            "here", field="made_at")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        change = ConfigurationChange.objects.create(
            system=system, summary=summary, rcs_reference=rcs_reference, covers=kinds,
            made_at=made_at, recorded_by=actor, authority=authority_row)
        record("systems.change.record", actor=actor, authority=authority_row, subject=change,
               retention_class=RetentionClass.CONFIGURATION,
               details={"system": system.name, "summary": summary,
                        "rcs_reference": rcs_reference, "covers": kinds, "made_at": made_at})
    return change


# --- reading: the Board summary (SP 3.2.3.1) -----------------------------------------------


def patches_in(start: dt.datetime, end: dt.datetime) -> QuerySet[Patch]:
    """Patches proposed, applied or decided in [start, end)."""
    return (Patch.objects.filter(Q(proposed_at__gte=start, proposed_at__lt=end)
                                 | Q(applied_at__gte=start, applied_at__lt=end)
                                 | Q(approved_at__gte=start, approved_at__lt=end))
            .select_related("case", "approved_by", "proposed_by", "remedial_by")
            .prefetch_related("systems").distinct().order_by("proposed_at", "id"))


@dataclass
class Summary:
    """The team leader's regular summary to the Board (SP 3.2.3.1) for one period."""

    start: dt.date
    end: dt.date  # inclusive
    patches: list[Patch] = field(default_factory=list)
    emergencies: list[Patch] = field(default_factory=list)
    changes: list[ConfigurationChange] = field(default_factory=list)

    def as_json(self) -> dict:
        def patch_json(p: Patch) -> dict:
            return {"id": p.pk, "advisory": p.advisory, "title": p.title,
                    "status": p.status, "emergency": p.emergency,
                    "systems": [s.name for s in p.systems.all()],
                    "packages": p.packages, "proposed_at": _iso(p.proposed_at),
                    "approved_at": _iso(p.approved_at), "applied_at": _iso(p.applied_at),
                    "reported_at": _iso(p.reported_at),
                    "backup_recorded_at": _iso(p.backup_recorded_at),
                    "remedial_action": p.remedial_action,
                    "case": p.case.number if p.case else None}

        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "patches": [patch_json(p) for p in self.patches],
                "emergency_patches": [patch_json(p) for p in self.emergencies],
                "changes": [{"id": c.pk, "system": c.system.name, "summary": c.summary,
                             "rcs_reference": c.rcs_reference, "covers": c.covers,
                             "made_at": _iso(c.made_at),
                             "recorded_by": str(c.recorded_by or "")}
                            for c in self.changes]}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary(start: dt.date, end: dt.date) -> Summary:
    """Patches, emergency patches (with their cases) and configuration changes from
    `start` to `end`, both days included (UTC)."""
    if end < start:
        raise RuleViolation(f"the period ends ({end}) before it begins ({start})",
                            field="to")
    if (end - start).days > 3 * 366:
        raise RuleViolation("a summary covers at most three years", field="to")
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    found = list(patches_in(begin, finish))
    changes = list(ConfigurationChange.objects.filter(made_at__gte=begin, made_at__lt=finish)
                   .select_related("system", "recorded_by").order_by("made_at", "id"))
    return Summary(start, end, found, [p for p in found if p.emergency], changes)


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter before the one `today` is in: what a quarterly summary
    covers."""
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    previous_end = first - dt.timedelta(days=1)
    return dt.date(previous_end.year, 3 * ((previous_end.month - 1) // 3) + 1, 1), previous_end
