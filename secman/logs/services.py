"""What people do with the systems' logs: search them (SM 4.2.2: Systems Administrators
only, each search an Event Log entry), examine the anomalies (SM 5.2), purge what is past
its retention (SM 4.2.1, keeping the leaf hashes and what a legal hold keeps, SM 4.4.2),
and export a bundle an auditor verifies offline."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, holds_any
from secman.eventlog.models import LegalHold, RetentionClass, RetentionPolicy
from secman.eventlog.services import record
from secman.logs import tree
from secman.logs.models import LOG_CLASSES, Anomaly, AnomalyStatus, Message, TreeCheckpoint
from secman.systems.selectors import retired_since

CLI = "secman command line"
SECTION = "SM 4.2.2"
MAX_TEXT_FILTER = 200
MAX_SPAN = dt.timedelta(days=366)


def may_read(person: Any) -> bool:
    """SM 4.2.2: "Access to logs is restricted to Systems Administrators". None is the
    operator at the command line, who holds the database."""
    return person is None or holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def require_reader(person: Any, what: str = "reading the systems' logs") -> None:
    if not may_read(person):
        raise NotAllowed(f"{what} is for Systems Administrators; others see the counts",
                         section=SECTION)


@dataclass(frozen=True)
class Search:
    host: str = ""
    log_class: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str = ""

    def checked(self) -> Search:
        if self.log_class and self.log_class not in dict(LOG_CLASSES):
            raise RuleViolation(f"{self.log_class!r} is not a class of SM 4.2.1",
                                field="log_class")
        if len(self.text) > MAX_TEXT_FILTER or len(self.host) > 255:
            raise RuleViolation(f"search for at most {MAX_TEXT_FILTER} characters",
                                field="text")
        if "\x00" in self.text + self.host:
            raise RuleViolation("the search holds a NUL character", field="text")
        if self.since and self.until and self.since > self.until:
            raise RuleViolation("the period ends before it starts", field="until")
        return self

    def as_details(self) -> dict[str, Any]:
        return {"host": self.host, "class": self.log_class, "text": self.text,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


def _filtered(search: Search) -> QuerySet[Message]:
    messages = Message.objects.all()
    if search.host:
        messages = messages.filter(host=search.host)
    if search.log_class:
        messages = messages.filter(log_class=search.log_class)
    if search.since:
        messages = messages.filter(received_at__gte=search.since)
    if search.until:
        messages = messages.filter(received_at__lt=search.until)
    if search.text:
        messages = messages.filter(text__icontains=search.text)
    return messages


def search(*, actor: Any, search: Search, page: int = 1,
           per_page: int = 100) -> tuple[list[Message], bool]:
    """One page of messages, newest first, and whether there is a next page. The search
    is recorded (who looked for what) before anything is read."""
    require_reader(actor)
    search = search.checked()
    if page < 1 or page > 10000:
        raise RuleViolation("pages are numbered from 1 to 10,000", field="page")
    with transaction.atomic():
        record("logs.search", actor=actor, actor_label="" if actor else CLI,
               authority=SECTION, retention_class=RetentionClass.LOGIN,
               details={**search.as_details(), "page": page})
    start = (page - 1) * per_page
    rows = list(_filtered(search).order_by("-received_at", "-seq")[start:start + per_page + 1])
    return rows[:per_page], len(rows) > per_page


def read_message(*, actor: Any, seq: int) -> Message:
    """One message, with its inclusion proof at hand (the page shows it); recorded."""
    require_reader(actor)
    message = Message.objects.filter(seq=seq).first()
    if message is None:
        raise RuleViolation(f"there is no message #{seq}", field="seq")
    with transaction.atomic():
        record("logs.read", actor=actor, actor_label="" if actor else CLI, authority=SECTION,
               retention_class=RetentionClass.LOGIN, subject=message,
               details={"seq": seq, "host": message.host})
    return message


def read_evidence(*, actor: Any, anomaly: Anomaly, limit: int = 200) -> list[Message]:
    """The messages that made an anomaly (the first `limit`); reading them is reading the
    logs, recorded like a search."""
    require_reader(actor)
    seqs = list(anomaly.links.order_by("message_id").values_list("message_id", flat=True)[:limit])
    with transaction.atomic():
        record("logs.read", actor=actor, actor_label="" if actor else CLI, authority=SECTION,
               retention_class=RetentionClass.LOGIN, subject=anomaly,
               details={"anomaly": anomaly.pk, "messages": len(seqs)})
    return list(Message.objects.filter(seq__in=seqs).order_by("seq"))


# --- anomalies ----------------------------------------------------------------------------


def may_examine(person: Any) -> bool:
    return person is not None and holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def examine(*, actor: Any, anomaly: Anomaly, outcome: str, reason: str,
            authority: AuthorityLike = "SM 5.2") -> Anomaly:
    """The monitor's decision on an anomaly: dismissed (with why it is harmless) or
    promoted to an incident (the incidents chapter takes it from there)."""
    if not may_examine(actor):
        raise NotAllowed("anomalies are examined by Systems Administrators (the primary log "
                         "monitor first)", section="SM 5.2")
    reason = " ".join((reason or "").split())
    if not reason:
        raise RuleViolation("say why: what the messages were, and why this outcome",
                            field="reason")
    if len(reason) > 500:
        raise RuleViolation("a reason takes at most 500 characters", field="reason")
    if outcome not in (AnomalyStatus.DISMISSED, AnomalyStatus.PROMOTED):
        raise RuleViolation("an anomaly is dismissed or promoted to an incident",
                            field="outcome")
    with transaction.atomic():
        locked = Anomaly.objects.select_for_update().select_related("rule").get(pk=anomaly.pk)
        if locked.status != AnomalyStatus.OPEN:
            raise RuleViolation(f"this anomaly was {locked.get_status_display().lower()} on "
                                f"{locked.examined_at:%Y-%m-%d}", field="outcome")
        authority_row = resolve_authority(authority)
        locked.status, locked.reason = outcome, reason
        locked.examined_by, locked.examined_at = actor, timezone.now()
        locked.save(update_fields=["status", "reason", "examined_by", "examined_at"])
        record(f"logs.anomaly.{'dismiss' if outcome == AnomalyStatus.DISMISSED else 'promote'}",
               actor=actor, authority=authority_row, subject=locked,
               retention_class=RetentionClass.INCIDENT if outcome == AnomalyStatus.PROMOTED
               else RetentionClass.SYSTEM,
               details={"rule": locked.rule.name, "host": locked.host,
                        "group": locked.group_key, "matches": locked.matches,
                        "first_seen": locked.first_seen, "last_seen": locked.last_seen,
                        "reason": reason})
    return locked


# --- retention ----------------------------------------------------------------------------


def _held() -> Q:
    """The messages some active legal hold keeps (SM 4.4.2). A hold of the Event Log's
    kind with an action prefix is about secman's own entries only; one naming a system
    (subject systems.system) keeps that system's messages."""
    condition = Q(pk__in=[])
    for hold in LegalHold.objects.filter(released_at__isnull=True, action_prefix=""):
        match = Q()
        if hold.retention_class:
            match &= Q(log_class=hold.retention_class)
        if hold.subject_type:
            if hold.subject_type != "systems.system":
                continue
            match &= Q(system_id=hold.subject_id)
        if hold.since:
            match &= Q(received_at__date__gte=hold.since)
        if hold.until:
            match &= Q(received_at__date__lte=hold.until)
        condition |= match
    return condition


def purge(*, actor: Any = None, now: dt.datetime | None = None,
          chunk: int = 20000) -> dict[str, int]:
    """Empty the messages past their class's maximum (RetentionPolicy, the SM 4.2.1
    table), keeping seq, time, host, class and leaf hash, so the tree and every
    checkpoint still verify. Configuration changes are kept for the system's life and a
    year after (SM 4.2.1). Held messages stay. One Event Log entry says what went."""
    require_reader(actor, "purging the systems' logs")
    now = now or timezone.now()
    held = _held()
    purged: dict[str, int] = {}
    for policy in RetentionPolicy.objects.exclude(retention_class=RetentionClass.INCIDENT):
        candidates = Message.objects.filter(log_class=policy.retention_class,
                                            purged_at__isnull=True)
        if policy.retention_class == RetentionClass.CONFIGURATION and not policy.maximum_days:
            retired = retired_since(now - dt.timedelta(days=365))
            if not retired:
                continue
            candidates = candidates.filter(system_id__in=retired)
        elif policy.maximum_days:
            candidates = candidates.filter(
                received_at__lt=now - dt.timedelta(days=policy.maximum_days))
        else:
            continue
        candidates = candidates.exclude(held)
        count = 0
        while True:
            seqs = list(candidates.order_by("seq").values_list("seq", flat=True)[:chunk])
            if not seqs:
                break
            with transaction.atomic():
                count += Message.objects.filter(seq__in=seqs).update(
                    text="", program="", source_ip="", reported_at=None, purged_at=now)
        if count:
            purged[policy.retention_class] = count
    with transaction.atomic():
        record("logs.purge", actor=actor, actor_label="" if actor else CLI,
               authority="SM 4.2.1", retention_class=RetentionClass.CONFIGURATION,
               details={"purged": purged, "held_by": list(LegalHold.objects.filter(
                   released_at__isnull=True, action_prefix="").values_list("case__number",
                                                                          flat=True))})
    return purged


# --- export -------------------------------------------------------------------------------


def export(*, actor: Any, directory: Path, search: Search | None = None) -> dict[str, Any]:
    """A bundle an auditor verifies offline (python -m secman.logs.verify DIR): every
    message (or those a search selects, with the inclusion proof of each) as JSON lines,
    the checkpoints, and the verifier key. Recorded like a search."""
    require_reader(actor, "exporting the systems' logs")
    search = (search or Search()).checked()
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise RuleViolation(f"{directory} is not empty", field="directory")
    newest = TreeCheckpoint.objects.select_related("key").order_by("-tree_size", "-id").first()
    if newest is None:
        raise RuleViolation("no checkpoint covers the systems' logs yet: run `secman logs "
                            "verify --checkpoint` first", field="directory")
    whole = search == Search()
    selected = Message.objects.filter(seq__lt=newest.tree_size) if whole else _filtered(
        search).filter(seq__lt=newest.tree_size)
    count = 0
    with (directory / "messages.jsonl").open("w", encoding="utf-8") as out:
        for message in selected.order_by("seq").iterator(chunk_size=5000):
            row: dict[str, Any] = {
                "seq": message.seq, "received": tree.time_text(message.received_at),
                "reported": tree.time_text(message.reported_at), "host": message.host,
                "source_ip": message.source_ip, "facility": message.facility,
                "severity": message.severity, "program": message.program,
                "class": message.log_class, "text": message.text,
                "leaf_hash": message.leaf_hash, "purged": message.purged_at is not None}
            if not whole:
                row["proof"] = [h.hex() for h in tree.inclusion(message.seq, newest.tree_size)]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    checkpoints = list(TreeCheckpoint.objects.select_related("key").order_by("tree_size", "id"))
    (directory / "checkpoints.json").write_text(json.dumps([c.note for c in checkpoints],
                                                           indent=1) + "\n")
    manifest = {"format": "secman-systems-logs/1", "whole": whole, "messages": count,
                "tree_size": newest.tree_size, "verifier_keys": sorted(
                    {tree.verifier_key(c) for c in checkpoints}),
                "search": search.as_details()}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    with transaction.atomic():
        record("logs.export", actor=actor, actor_label="" if actor else CLI,
               authority=SECTION, retention_class=RetentionClass.LOGIN,
               details={**search.as_details(), "messages": count,
                        "tree_size": newest.tree_size})
    return manifest
