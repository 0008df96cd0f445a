"""Host agent tokens and reports (SP/SM 3.1, 3.2, 4.1.3): the only place that changes
them. docs/agent.md describes the agent, its report and what secman does with it.

A token is shown once, when it is issued, and stored as its SHA-256 only (with its
first characters, to tell tokens apart): one live token per system, issuing a new one
revokes the old. Issuing and revoking are Event Log entries that name the prefix, never
the token.

A report is refused whole (ReportRefused, with the HTTP status the endpoint answers)
and nothing is written when the token is unknown (401) or revoked or the report names
another system (403), the body is too large (413), or it is not UTF-8 JSON of the
agent's shape (400). A stored report is NOT an Event Log entry of its own: the report
row keeps it (with its SHA-256), and an hourly entry per system forever would bury the
log. An entry is written when the system's drift findings change (they appear or clear),
in the same transaction as the report: that is the grain people act on.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.api_input import MAX_JSON_DEPTH, json_depth
from secman.core.errors import NotAllowed, Refused
from secman.core.roles import Role
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator
from secman.systems import drift
from secman.systems.models import AgentReport, AgentToken, ConfigurationChange, System

TOKEN_PREFIX = "sma_"  # tells a secman agent token apart in a file or a leaked paste
PREFIX_LENGTH = 12  # "sma_" and 8 random characters: shown, stored, logged


class ReportRefused(Refused):
    """A report secman does not take; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str, *, section: str = "") -> None:
        super().__init__(message, section=section)
        self.status = status


def report_limit_bytes() -> int:
    """SECMAN_AGENT_REPORT_MAX_KB (default 1024): the largest report body taken."""
    return int(getattr(settings, "SECMAN_AGENT_REPORT_MAX_KB", 1024)) * 1024


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- tokens -------------------------------------------------------------------------------


def may_manage_tokens(person: Person | None) -> bool:
    """Issue and revoke agent tokens: Systems Administrators (None: the command line,
    whose operator already holds the server)."""
    return person is None or holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def may_see_agents(person: Person | None) -> bool:
    """Read what the agents report: Systems Administrators, the Board, auditors and the
    secman administrator (who reads the registers, as for the inventory)."""
    return person is None or is_administrator(person) or holds_any(
        person, Role.SYSTEMS_ADMINISTRATOR, Role.BOARD_MEMBER, Role.AUDITOR)


def _require_manager(actor: Person | None, what: str) -> None:
    if not may_manage_tokens(actor):
        raise NotAllowed(f"{what} is done by Systems Administrators", section="SP 3.2.2")


def live_token(system: System) -> AgentToken | None:
    return AgentToken.objects.filter(system=system, revoked_at__isnull=True).first()


def issue_token(*, actor: Person | None, system: System, authority: AuthorityLike) -> str:
    """A new token for `system`, returned once: secman keeps only its hash. The system's
    previous live token, if any, is revoked in the same transaction."""
    _require_manager(actor, "issuing an agent token")
    if system.retired_at is not None:
        raise Refused(f"{system} is retired: it reports nothing any more")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        now = timezone.now()
        old = AgentToken.objects.select_for_update().filter(
            system=system, revoked_at__isnull=True).first()
        if old is not None:
            old.revoked_at, old.revoked_by = now, actor
            old.save(update_fields=["revoked_at", "revoked_by"])
        issued = AgentToken.objects.create(system=system, token_hash=hash_token(token),
                                           prefix=token[:PREFIX_LENGTH], created_by=actor,
                                           created_at=now)
        record("systems.agent.token_issue", actor=actor, authority=authority_row,
               subject=system, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line",
               details={"system": system.name, "prefix": issued.prefix,
                        "replaces": old.prefix if old else ""})
    return token


def revoke_token(*, actor: Person | None, system: System,
                 authority: AuthorityLike) -> AgentToken:
    """Revoke the system's live token: its agent's reports are refused from now on."""
    _require_manager(actor, "revoking an agent token")
    with transaction.atomic():
        token = AgentToken.objects.select_for_update().filter(
            system=system, revoked_at__isnull=True).first()
        if token is None:
            raise Refused(f"{system} has no live agent token to revoke")
        authority_row = resolve_authority(authority)
        token.revoked_at, token.revoked_by = timezone.now(), actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record("systems.agent.token_revoke", actor=actor, authority=authority_row,
               subject=system, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line",
               details={"system": system.name, "prefix": token.prefix})
    return token


def authenticate(token: str) -> AgentToken:
    """The live token this is, or the refusal (401 unknown, 403 revoked). The messages
    name the prefix at most, never the token."""
    if not token:
        raise ReportRefused(401, "send the system's agent token: Authorization: Bearer "
                                 "<token>")
    found = (AgentToken.objects.select_related("system")
             .filter(token_hash=hash_token(token)).first())
    if found is None:
        raise ReportRefused(401, "this agent token is not known to secman")
    if found.revoked_at is not None:
        raise ReportRefused(403, f"agent token {found.prefix}… was revoked on "
                                 f"{found.revoked_at:%Y-%m-%d %H:%M}; ask a Systems "
                                 "Administrator for a new one", section="SP 3.2.2")
    return found


# --- the report's shape ---------------------------------------------------------------------

STR, INT = "str", "int"
# Each key the agent sends: its type, and for lists the type of each item (a dict of
# field -> type for objects; ["str", "str"] for pairs). "json": any JSON (the nft and
# lsblk answers, whose shape belongs to those tools).
SHAPE: dict[str, Any] = {
    "agent_version": STR,
    "system": STR,
    "hostname": STR,
    "collected_at": STR,
    "unavailable": {"*": STR},
    "os_release": {"*": STR},
    "packages": [[STR, STR]],
    "security_updates": [{"package": STR, "installed": STR, "available": STR,
                          "origin": STR}],
    "listening": [{"protocol": STR, "address": STR, "port": INT, "process": STR}],
    "ruleset": "json",
    "sshd": {"*": STR},
    "sudoers": [{"path": STR, "content": STR}],
    "accounts": [{"user": STR, "uid": INT, "home": STR, "shell": STR}],
    "authorized_keys": [{"user": STR, "path": STR, "bits": STR, "fingerprint": STR,
                         "type": STR, "comment": STR, "error": STR}],
    "block_devices": "json",
}
REQUIRED = ("agent_version", "system", "collected_at")
# Keys an item may leave out (authorized_keys: a line is either a key or an error).
OPTIONAL_ITEM_KEYS = {"bits", "fingerprint", "type", "comment", "error"}


def _check(value: Any, shape: Any, where: str, optional: Any = OPTIONAL_ITEM_KEYS) -> None:
    """Refuse (400, naming where) what does not have the shape."""
    if shape == "json":
        return
    if shape == STR:
        if not isinstance(value, str):
            raise ReportRefused(400, f"{where} must be text")
        return
    if shape == INT:
        if not isinstance(value, int) or isinstance(value, bool) or not -2**31 <= value < 2**31:
            raise ReportRefused(400, f"{where} must be a whole number")
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise ReportRefused(400, f"{where} must be a list")
        item_shape = shape[0]
        for index, item in enumerate(value):
            if isinstance(item_shape, list):  # a fixed-length tuple of scalars
                if not isinstance(item, list) or len(item) != len(item_shape):
                    raise ReportRefused(400, f"{where}[{index}] must be a list of "
                                             f"{len(item_shape)} values")
                for position, (part, part_shape) in enumerate(zip(item, item_shape,
                                                                  strict=True)):
                    _check(part, part_shape, f"{where}[{index}][{position}]")
            else:
                _check(item, item_shape, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        raise ReportRefused(400, f"{where} must be an object")
    if "*" in shape:
        for key, item in value.items():
            _check(item, shape["*"], f"{where}.{key}")
        return
    unknown = sorted(set(value) - set(shape))
    if unknown:
        raise ReportRefused(400, f"{where} has unknown keys: {', '.join(unknown)[:200]}")
    for key, item_shape in shape.items():
        if key not in value:
            if key in optional:
                continue
            raise ReportRefused(400, f"{where} lacks {key}")
        _check(value[key], item_shape, f"{where}.{key}")


def _strings_storable(data: Any) -> None:
    """PostgreSQL's JSON refuses NUL characters and lone surrogates (which json.loads
    lets through from \\u escapes): refused here with a 400, not a database error."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise ReportRefused(400, "the report holds a NUL character (\\u0000)")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ReportRefused(400, "the report holds a lone surrogate (\\ud800 to "
                                         "\\udfff), which is not text") from None


def _no_constants(name: str) -> Any:
    raise ReportRefused(400, f"{name} is not a JSON number")


def check_size(size: int) -> None:
    """Refuse (413) a report of `size` bytes above SECMAN_AGENT_REPORT_MAX_KB."""
    limit = report_limit_bytes()
    if size > limit:
        raise ReportRefused(413, f"the report is {size / 1024:.0f} KB; secman takes "
                                 f"reports of up to {limit // 1024} KB "
                                 "(SECMAN_AGENT_REPORT_MAX_KB). Nothing was stored.")


def parse_report(body: bytes) -> dict[str, Any]:
    """The report in `body`, or the refusal saying what is wrong with it."""
    check_size(len(body))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportRefused(400, f"the report is not UTF-8 (byte {exc.start})") from None
    too_deep = ReportRefused(400, f"the report is nested deeper than {MAX_JSON_DEPTH} "
                                  "levels")
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise ReportRefused(400, f"the report is not JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    if not isinstance(data, dict):
        raise ReportRefused(400, "the report must be a JSON object")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise ReportRefused(400, f"the report lacks {', '.join(missing)}")
    # Every fact may be left out (the agent names it in "unavailable" instead).
    _check(data, SHAPE, "report", optional=set(SHAPE))
    _strings_storable(data)
    return data


def _collected_at(data: dict[str, Any]) -> Any:
    from django.utils.dateparse import parse_datetime

    try:
        value = parse_datetime(data["collected_at"])
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ReportRefused(400, "collected_at must be a date and time with its offset "
                                 "(ISO 8601: 2026-12-03T19:00:13+00:00)")
    return value


# --- receiving ------------------------------------------------------------------------------


def receive_report(token: str, body: bytes) -> AgentReport:
    """Store a report from the agent holding `token`; refuse it whole otherwise."""
    agent_token = authenticate(token)
    data = parse_report(body)
    system = agent_token.system
    if data["system"] != system.name:
        raise ReportRefused(403, f"this token is {system.name}'s; a report for "
                                 f"{data['system'][:63]!r} is not taken from it",
                            section="SP 3.2.2")
    collected_at = _collected_at(data)
    with transaction.atomic():
        # The token may have been revoked since it was read: check again under a lock.
        agent_token = AgentToken.objects.select_for_update().get(pk=agent_token.pk)
        if agent_token.revoked_at is not None:
            raise ReportRefused(403, f"agent token {agent_token.prefix}… was revoked")
        now = timezone.now()
        previous = AgentReport.objects.filter(system=system).order_by(
            "-received_at", "-id").first()
        changes = list(ConfigurationChange.objects.filter(system=system).only(
            "covers", "made_at"))
        report = AgentReport(system=system, token=agent_token, received_at=now,
                             collected_at=collected_at, facts=data, size=len(body),
                             sha256=hashlib.sha256(body).hexdigest())
        report.derived = drift.derive(data, now, previous, changes)
        report.save()
        agent_token.last_used_at = now
        agent_token.save(update_fields=["last_used_at"])
        _record_drift_change(system, report, previous)
    return report


def _record_drift_change(system: System, report: AgentReport,
                         previous: AgentReport | None) -> None:
    """An Event Log entry when the system's findings differ from those at its previous
    report (they appeared or cleared); their subjects are kept on the report."""
    current = drift.system_drift(system)
    subjects = sorted({f.subject for f in current.findings})
    report.derived["findings"] = subjects
    report.save(update_fields=["derived"])
    before = set(previous.derived.get("findings", [])) if previous is not None else set()
    if set(subjects) == before:
        return
    record("systems.agent.drift", actor=None, authority="SP 3.2.2", subject=system,
           retention_class=RetentionClass.SYSTEM,
           actor_label=f"host agent of {system.name} (token {report.token.prefix}…)",
           details={"system": system.name, "report": report.pk,
                    "appeared": sorted(set(subjects) - before),
                    "cleared": sorted(before - set(subjects)),
                    "findings": [f.message for f in current.findings][:50]})
