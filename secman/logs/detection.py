"""Examining the systems' messages with Sigma rules (SM 5.2's automated detectors).

Sigma is the field's rule format. pySigma parses the rules and pysigma-backend-sqlite
turns each into SQLite SQL, correlations (a brute force: N failures from one source within
T) included. secman runs that SQL on a small SQLite database in the ingest process's
memory, never on secman's own database: the same SQL then serves SQLite and PostgreSQL
installations alike, and the rules read only what they must.

- `batch` holds the batch being stored; every plain rule runs on it once per batch.
- `recent` holds the messages that matched a rule some correlation counts, for the longest
  correlation timespan; the correlations run on it. After a restart it is filled again
  from the anomalies' messages of that span, so a brute force across a restart of the
  ingest is still counted.

The events the rules see have these fields: timestamp, host, program, message, facility,
severity (numbers as syslog has them), sender (the address rsyslog received from), and,
read from sshd's and sudo's text, source_ip and user. A keyword (fieldless) detection is
refused: name the field (`message|contains`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

import yaml
from django.db.models import F
from django.utils import timezone
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

from secman.logs.models import Anomaly, AnomalyMessage, AnomalyStatus, DetectionRule, Message

FIELDS = ("timestamp", "host", "program", "message", "facility", "severity", "sender",
          "source_ip", "user")
_TABLE = ("CREATE TABLE {name} (id INTEGER PRIMARY KEY, timestamp TEXT, host TEXT COLLATE "
          "NOCASE, program TEXT COLLATE NOCASE, message TEXT COLLATE NOCASE, facility "
          "INTEGER, severity INTEGER, sender TEXT, source_ip TEXT COLLATE NOCASE, user TEXT "
          "COLLATE NOCASE)")
# sshd: "Failed password for invalid user bob from 192.0.2.7 port 4242 ssh2";
# sudo: "pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 ... user=bob".
_SSHD = re.compile(r" for (?:invalid user )?(\S+) from ([0-9A-Fa-f:.]+)")
_SSHD_INVALID = re.compile(r"^Invalid user (\S+) from ([0-9A-Fa-f:.]+)")
_SUDO_USER = re.compile(r"^\s*(\S+) : ")
# How many messages of one anomaly are linked as its evidence: the count goes on, the
# examiner reads the first ones and searches the rest.
EVIDENCE_LINKS = 200
# The most messages the correlations' window is filled from after a restart.
REFILL = 100_000


class RuleError(ValueError):
    """A Sigma rule secman cannot run, with pySigma's reason."""


def parse(yaml_text: str, others: list[str] | None = None) -> Any:
    """The one rule in `yaml_text` (a detection or a correlation), checked by pySigma. A
    correlation is read with the detection rules it may name (`others`, their YAML)."""
    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        raise RuleError(f"not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleError("not a Sigma rule: one YAML mapping (title, detection...) is expected")
    context = list(others or []) if "correlation" in data else []
    try:
        collection = SigmaCollection.from_yaml("\n---\n".join([*context, yaml_text]))
    except (SigmaError, ValueError, TypeError, AttributeError) as exc:
        raise RuleError(f"not a Sigma rule: {exc}") from None
    if collection.errors:
        raise RuleError(f"not a Sigma rule: {collection.errors[0]}")
    if len(collection.rules) != len(context) + 1:
        raise RuleError("one rule per entry")
    return collection.rules[-1]


def _convert(yaml_text: str, table: str) -> str:
    try:
        queries = sqliteBackend(table=table).convert(SigmaCollection.from_yaml(yaml_text))
    except (SigmaError, ValueError) as exc:
        raise RuleError(f"cannot be evaluated: {exc}") from None
    if len(queries) != 1 or not isinstance(queries[0], str):
        raise RuleError("cannot be evaluated: it does not convert to one query")
    return queries[0]


@dataclass(frozen=True)
class Compiled:
    rule_id: int
    query: str
    correlation: bool
    timespan: float = 0.0  # seconds, for correlations
    counted: tuple[int, ...] = ()  # the rules a correlation counts
    generate: bool = False  # whether those rules also raise anomalies of their own


def compile_rules(rows: list[DetectionRule]) -> list[Compiled]:
    """Every enabled rule as SQL. A correlation is converted together with the rules it
    names (by their Sigma `name`), which must be stored rules too."""
    by_name = {row.name: row for row in rows}
    compiled = []
    for row in rows:
        if not row.enabled:
            continue
        rule = parse(row.yaml, [r.yaml for r in rows if not r.correlation])
        if isinstance(rule, SigmaCorrelationRule):
            references = [str(ref.reference) for ref in rule.rules or []]
            counted = [by_name[name] for name in references if name in by_name]
            if len(counted) != len(references):
                raise RuleError(f"{row.name}: it counts rules that are not stored: "
                                f"{references}")
            text = "\n---\n".join([r.yaml for r in counted] + [row.yaml])
            compiled.append(Compiled(row.pk, _convert(text, "recent"), True,
                                     rule.timespan.seconds, tuple(r.pk for r in counted),
                                     bool(getattr(rule, "generate", False))))
        else:
            query = _convert(row.yaml, "batch")
            # The backend's SQL, run only on the in-memory tables, never on secman's own.
            compiled.append(Compiled(row.pk, f"SELECT id FROM ({query})", False))  # noqa: S608
    return compiled


def check_rule(yaml_text: str, others: list[DetectionRule]) -> Any:
    """Refuse a rule that pySigma cannot parse or the backend cannot convert (a keyword
    detection, an unknown modifier), or a correlation naming rules not stored."""
    rule = parse(yaml_text, [r.yaml for r in others if not r.correlation])
    if isinstance(rule, SigmaCorrelationRule):
        names = {row.name: row for row in others}
        references = [str(r.reference) for r in rule.rules or []]
        missing = [name for name in references if name not in names]
        if missing:
            raise RuleError(f"the correlation counts rules that are not stored: {missing}")
        _convert("\n---\n".join([names[name].yaml for name in references] + [yaml_text]),
                 "recent")
    else:
        _convert(yaml_text, "batch")
    return rule


def extract_fields(program: str, text: str) -> tuple[str | None, str | None]:
    if program == "sshd":
        found = _SSHD.search(text) or _SSHD_INVALID.search(text)
        if found:
            return found.group(2), found.group(1)
    elif program == "sudo":
        found = _SUDO_USER.search(text)
        if found:
            return None, found.group(1)
    return None, None


class Detector:
    """The rules compiled and the in-memory tables, kept by the ingest process between
    batches and rebuilt when a rule changes."""

    def __init__(self) -> None:
        self.version: tuple[Any, ...] | None = None
        self.rules: list[Compiled] = []
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.execute(_TABLE.format(name="batch"))
        self.db.execute(_TABLE.format(name="recent"))
        self.window = 0.0
        self.counted: set[int] = set()
        self.silent: set[int] = set()

    def refresh(self, now: dt.datetime) -> None:
        version = tuple(DetectionRule.objects.order_by("pk").values_list(
            "pk", "version", "enabled"))
        if version == self.version:
            return
        self.rules = compile_rules(list(DetectionRule.objects.order_by("pk")))
        self.version = version
        self.window = max((c.timespan for c in self.rules if c.correlation), default=0.0)
        self.counted = {pk for c in self.rules if c.correlation for pk in c.counted}
        # Sigma: a rule a correlation counts raises nothing of its own unless the
        # correlation says `generate: true`.
        self.silent = {pk for c in self.rules if c.correlation and not c.generate
                       for pk in c.counted}
        self._refill(now)

    def _refill(self, now: dt.datetime) -> None:
        """The correlations' window after a (re)start: the counted rules run again over
        the newest messages of the longest timespan (at most REFILL of them)."""
        self.db.execute("DELETE FROM recent")
        if not self.counted or not self.window:
            return
        since = now - dt.timedelta(seconds=self.window)
        rows = Message.objects.filter(received_at__gte=since, purged_at__isnull=True).order_by(
            "-seq").values_list("seq", "received_at", "host", "program", "text", "facility",
                                "severity", "source_ip")[:REFILL]
        self._load_batch([_event(*row) for row in rows])
        self._keep_counted(self._plain_matches(only=self.counted))

    def _load_batch(self, events: list[tuple[Any, ...]]) -> None:
        self.db.execute("DELETE FROM batch")
        self.db.executemany("INSERT INTO batch VALUES (?,?,?,?,?,?,?,?,?,?)", events)

    def _plain_matches(self, only: set[int] | None = None) -> dict[int, list[int]]:
        matches = {}
        for rule in self.rules:
            if rule.correlation or (only is not None and rule.rule_id not in only):
                continue
            found = [seq for (seq,) in self.db.execute(rule.query)]
            if found:
                matches[rule.rule_id] = found
        return matches

    def _keep_counted(self, matches: dict[int, list[int]]) -> list[int]:
        counted = sorted({seq for pk in self.counted for seq in matches.get(pk, ())})
        if counted:
            self.db.execute("INSERT OR IGNORE INTO recent SELECT * FROM batch WHERE id IN "
                            "(SELECT value FROM json_each(?))", (json.dumps(counted),))
        return counted

    def examine(self, rows: list[tuple[Any, ...]], now: dt.datetime) -> list[int]:
        """Run the rules on a batch being stored (its Message rows, in store()'s column
        order); record the matches as anomalies in the caller's transaction. Returns the
        ids of the anomalies this batch opened (they are mailed after the commit)."""
        self.refresh(now)
        if not self.rules:
            return []
        self._load_batch([_event(r[0], r[1], r[3], r[8], r[9], r[6], r[7], r[5])
                          for r in rows])
        first_new = rows[0][0]
        matches = self._plain_matches()
        counted = self._keep_counted(matches)
        by_seq = {r[0]: r for r in rows}
        opened = []
        for rule_id, seqs in matches.items():
            if rule_id in self.silent:
                continue
            for host, group in _by_host(seqs, by_seq).items():
                opened.extend(_join(rule_id, host, "", group, by_seq))
        if counted:
            opened.extend(self._correlations(first_new, by_seq))
            horizon = (now - dt.timedelta(seconds=self.window)).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")
            self.db.execute("DELETE FROM recent WHERE timestamp < ?", (horizon,))
        return opened

    def _correlations(self, first_new: int, by_seq: dict[int, tuple[Any, ...]]) -> list[int]:
        opened = []
        for rule in self.rules:
            if not rule.correlation:
                continue
            joined: dict[str, set[int]] = {}
            for row in self.db.execute(rule.query).fetchall():
                seqs = {int(e.split(":", 1)[1]) for e in json.loads(row[-2])}
                if max(seqs) < first_new:
                    continue  # a window the batches before already reported
                keys = json.loads(row[1])
                group = ",".join(f"{k}={v}" for k, v in sorted(keys.items()))
                joined.setdefault(group, set()).update(seqs)
            for group, seqs in joined.items():
                hosts = {host for (host,) in self.db.execute(
                    "SELECT DISTINCT host FROM recent WHERE id IN "
                    "(SELECT value FROM json_each(?))", (json.dumps(sorted(seqs)),))}
                host = hosts.pop() if len(hosts) == 1 else "(several hosts)"
                opened.extend(_join(rule.rule_id, host, group, sorted(seqs), by_seq))
        return opened


def _event(seq: int, received: dt.datetime, host: str, program: str, text: str,
           facility: int, severity: int, sender: str) -> tuple[Any, ...]:
    source_ip, user = extract_fields(program, text)
    return (seq, received.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), host, program, text, facility,
            severity, sender, source_ip, user)


def _by_host(seqs: list[int], by_seq: dict[int, tuple[Any, ...]]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for seq in seqs:
        grouped.setdefault(by_seq[seq][3], []).append(seq)
    return grouped


def _join(rule_id: int, host: str, group: str, seqs: list[int],
          by_seq: dict[int, tuple[Any, ...]]) -> list[int]:
    """Add matches to the open anomaly of (rule, host, group), or open one. Returns [id]
    when it opened one. Only messages not linked before count (a correlation's window
    holds messages of earlier batches)."""
    anomaly = (Anomaly.objects.select_for_update()
               .filter(status=AnomalyStatus.OPEN, rule_id=rule_id, host=host, group_key=group)
               .order_by("-pk").first())
    times = [by_seq[s][1] for s in seqs if s in by_seq]
    first_seen = min(times) if times else timezone.now()
    last_seen = max(times) if times else first_seen
    opened = anomaly is None
    if anomaly is None:
        anomaly = Anomaly.objects.create(rule_id=rule_id, host=host, group_key=group[:200],
                                         first_seen=first_seen, last_seen=last_seen)
        linked: set[int] = set()
    else:
        linked = set(AnomalyMessage.objects.filter(anomaly=anomaly, message_id__in=seqs)
                     .values_list("message_id", flat=True))
    new = [s for s in seqs if s not in linked]
    if not new:
        return []
    room = max(0, EVIDENCE_LINKS - anomaly.links.count()) if not opened else EVIDENCE_LINKS
    AnomalyMessage.objects.bulk_create(
        [AnomalyMessage(anomaly=anomaly, message_id=s) for s in new[:room]])
    Anomaly.objects.filter(pk=anomaly.pk).update(
        matches=F("matches") + len(new), last_seen=max(last_seen, anomaly.last_seen))
    return [anomaly.pk] if opened else []


_DETECTOR: Detector | None = None


def examine(rows: list[tuple[Any, ...]], now: dt.datetime) -> list[int]:
    """The ingest process's detector examines one batch (see Detector.examine)."""
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector()
    return _DETECTOR.examine(rows, now)


def reset() -> None:
    """Forget the compiled rules and the window (tests start from an empty database)."""
    global _DETECTOR
    _DETECTOR = None
