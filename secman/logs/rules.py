"""The rules that classify the messages (SM 4.2.1) and the detection rules (SM 5.2): data,
changed only by Systems Administrators under an authority, each change an Event Log
entry of the configuration class. A class rule applies to the messages that arrive
after it changes: a stored message keeps the class its leaf was hashed with."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, holds_any
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.logs import detection
from secman.logs.models import LOG_CLASSES, ClassRule, DetectionRule

CLI = "secman command line"
DEFAULT_CLASS = RetentionClass.SYSTEM
SECTION_CLASSES = "SM 4.2.1"
SECTION_DETECTORS = "SM 5.2"


def may_change(person: Any) -> bool:
    """SM 4.2.2: the logs are the Systems Administrators'; so are their rules. None is the
    operator at the command line."""
    return person is None or holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def _require(person: Any, what: str) -> None:
    if not may_change(person):
        raise NotAllowed(f"{what} is for Systems Administrators", section="SM 4.2.2")


# --- classification -----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in text.split() if w]


def _compile(row: ClassRule) -> Callable[[Any], bool]:
    programs = {w.lower() for w in _words(row.programs)} or None
    facilities = {int(w) for w in _words(row.facilities)} or None
    hosts = _words(row.hosts)
    host_re = re.compile("|".join(fnmatch.translate(h.lower()) for h in hosts)) if hosts else None
    contains = row.text_contains.lower() or None

    def matches(item: Any) -> bool:
        return ((programs is None or item.program.lower() in programs)
                and (facilities is None or item.facility in facilities)
                and (host_re is None or host_re.match(item.host.lower()) is not None)
                and (contains is None or contains in item.text.lower()))

    return matches


_cache: tuple[Any, Callable[[Any], str]] | None = None


def classifier() -> Callable[[Any], str]:
    """A function giving a parsed message its class, from the enabled rules (compiled
    again when a rule changed: one small query per batch tells)."""
    global _cache
    stamp = tuple(ClassRule.objects.aggregate(last=Max("changed_at"), n=Max("id")).values())
    if _cache is not None and _cache[0] == stamp:
        return _cache[1]
    compiled = [(_compile(row), row.log_class)
                for row in ClassRule.objects.filter(enabled=True).order_by("position", "id")]

    def classify(item: Any) -> str:
        for matches, log_class in compiled:
            if matches(item):
                return log_class
        return DEFAULT_CLASS

    _cache = (stamp, classify)
    return classify


def _check_class_rule(values: dict[str, Any]) -> dict[str, Any]:
    clean = {key: " ".join(str(values.get(key) or "").split())
             for key in ("programs", "facilities", "hosts", "text_contains", "note")}
    log_class = str(values.get("log_class") or "")
    if log_class not in dict(LOG_CLASSES):
        raise RuleViolation(f"{log_class!r} is not a class of SM 4.2.1: one of "
                            f"{', '.join(dict(LOG_CLASSES))}", field="log_class")
    for word in _words(clean["facilities"]):
        if not word.isdigit() or int(word) > 23:
            raise RuleViolation(f"facility {word!r} is not a syslog facility number (0-23)",
                                field="facilities")
    if not any(clean[k] for k in ("programs", "facilities", "hosts", "text_contains")):
        raise RuleViolation("a rule names at least one program, facility, host or text: "
                            "a rule matching everything would hide every rule after it",
                            field="programs")
    check_text(ClassRule, clean)
    clean["log_class"] = log_class
    return clean


def add_class_rule(*, actor: Any, values: dict[str, Any], authority: AuthorityLike,
                   position: int | None = None) -> ClassRule:
    _require(actor, "changing how logs are classified")
    clean = _check_class_rule(values)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        if position is None:
            position = (ClassRule.objects.aggregate(p=Max("position"))["p"] or 0) + 10
        rule = ClassRule.objects.create(position=position, **clean)
        record("logs.class_rule.add", actor=actor, actor_label="" if actor else CLI,
               authority=authority_row, subject=rule,
               retention_class=RetentionClass.CONFIGURATION,
               details={"position": position, **clean})
    return rule


def change_class_rule(*, actor: Any, rule: ClassRule, values: dict[str, Any],
                      authority: AuthorityLike, enabled: bool | None = None) -> ClassRule:
    _require(actor, "changing how logs are classified")
    clean = _check_class_rule(values)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        locked = ClassRule.objects.select_for_update().get(pk=rule.pk)
        before = {key: getattr(locked, key) for key in (*clean, "enabled")}
        for key, value in clean.items():
            setattr(locked, key, value)
        if enabled is not None:
            locked.enabled = enabled
        after = {key: getattr(locked, key) for key in before}
        if after == before:
            raise RuleViolation("nothing changed", field="log_class")
        locked.changed_at = timezone.now()
        locked.save()
        record("logs.class_rule.change", actor=actor, actor_label="" if actor else CLI,
               authority=authority_row, subject=locked,
               retention_class=RetentionClass.CONFIGURATION,
               details={"before": before, "after": after})
    return locked


# --- detection rules ----------------------------------------------------------------------


def _rule_fields(yaml_text: str, others: list[DetectionRule]) -> dict[str, Any]:
    if len(yaml_text) > 20000:
        raise RuleViolation("a rule takes at most 20,000 characters", field="yaml")
    try:
        rule = detection.check_rule(yaml_text, others)
    except detection.RuleError as exc:
        raise RuleViolation(str(exc), field="yaml") from None
    name = str(getattr(rule, "name", "") or "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", name):
        raise RuleViolation("the rule needs a `name:` of lower-case letters, digits, - and _ "
                            "(correlations name the rules they count by it)", field="yaml")
    level = str(getattr(rule.level, "name", "") or "medium").lower()
    return {"name": name, "title": str(rule.title)[:200], "level": level,
            "correlation": isinstance(rule, detection.SigmaCorrelationRule)}


def add_detection_rule(*, actor: Any, yaml_text: str, authority: AuthorityLike) -> DetectionRule:
    """A new Sigma rule; it examines the messages that arrive from the next batch on."""
    _require(actor, "changing the detection rules")
    fields = _rule_fields(yaml_text, list(DetectionRule.objects.all()))
    with transaction.atomic():
        if DetectionRule.objects.filter(name=fields["name"]).exists():
            raise RuleViolation(f"a rule named {fields['name']} exists: change it instead",
                                field="yaml")
        authority_row = resolve_authority(authority)
        rule = DetectionRule.objects.create(yaml=yaml_text, **fields)
        record("logs.detection_rule.add", actor=actor, actor_label="" if actor else CLI,
               authority=authority_row, subject=rule,
               retention_class=RetentionClass.CONFIGURATION,
               details={**fields, "version": 1, "yaml": yaml_text})
    return rule


def change_detection_rule(*, actor: Any, rule: DetectionRule, authority: AuthorityLike,
                          yaml_text: str | None = None,
                          enabled: bool | None = None) -> DetectionRule:
    """A new version of a rule's text, or the rule disabled or enabled again."""
    _require(actor, "changing the detection rules")
    with transaction.atomic():
        locked = DetectionRule.objects.select_for_update().get(pk=rule.pk)
        details: dict[str, Any] = {"name": locked.name}
        if yaml_text is not None and yaml_text != locked.yaml:
            fields = _rule_fields(yaml_text, list(DetectionRule.objects.exclude(pk=locked.pk)))
            if fields["name"] != locked.name:
                raise RuleViolation(f"the rule's name is {locked.name}: a new name is a new "
                                    "rule", field="yaml")
            for key, value in fields.items():
                setattr(locked, key, value)
            locked.yaml = yaml_text
            details["yaml"] = yaml_text
        if enabled is not None and enabled != locked.enabled:
            if not enabled and DetectionRule.objects.filter(
                    enabled=True, correlation=True, yaml__contains=f"- {locked.name}").exclude(
                    pk=locked.pk).exists():
                raise RuleViolation(f"an enabled correlation counts {locked.name}: disable "
                                    "it first", field="enabled")
            locked.enabled = enabled
            details["enabled"] = enabled
        if len(details) == 1:
            raise RuleViolation("nothing changed", field="yaml")
        authority_row = resolve_authority(authority)
        locked.version += 1
        locked.changed_at = timezone.now()
        locked.save()
        details["version"] = locked.version
        record("logs.detection_rule.change", actor=actor, actor_label="" if actor else CLI,
               authority=authority_row, subject=locked,
               retention_class=RetentionClass.CONFIGURATION, details=details)
    return locked
