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
from secman.logs.tree import time_text

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
    group_by: tuple[str, ...] = ()  # the fields a correlation counts per value of


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
            compiled.append(Compiled(row.pk, _convert(text, f"recent_{row.pk}"), True,
                                     rule.timespan.seconds, tuple(r.pk for r in counted),
                                     bool(getattr(rule, "generate", False)),
                                     tuple(str(f) for f in rule.group_by or [])))
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


_FIELD = {name: index for index, name in enumerate(("id", *FIELDS))}
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class Detector:
    """The rules compiled and the in-memory tables, kept by the ingest process between
    batches and rebuilt when a rule changes.

    Each correlation has a window table of its own, `recent_<rule id>`, holding the
    matches of the rules it counts for its timespan, measured in the messages' received
    times (an ingest catching up on an old spool counts as the messages happened). Once a
    group (a source address) has an open anomaly, its further matches join it directly
    and leave the window: the window then holds only groups below the threshold, and the
    backend's correlation SQL, whose cost grows fast with the matches in a window, stays
    small however long a brute force goes on."""

    def __init__(self) -> None:
        self.version: tuple[Any, ...] | None = None
        self.rules: list[Compiled] = []
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.execute(_TABLE.format(name="batch"))
        self.events: dict[int, tuple[Any, ...]] = {}
        self.window = 0.0
        self.counted: set[int] = set()
        self.silent: set[int] = set()

    def refresh(self) -> None:
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
        for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                       "AND name LIKE 'recent_%'").fetchall():
            self.db.execute(f"DROP TABLE {name}")
        for rule in self.rules:
            if rule.correlation:
                self.db.execute(_TABLE.format(name=f"recent_{rule.rule_id}"))
        self._refill()

    def _refill(self) -> None:
        """The correlations' windows after a (re)start: the counted rules run again over
        the newest stored messages of the longest timespan (at most REFILL of them)."""
        if not self.counted or not self.window:
            return
        newest = Message.objects.order_by("-seq").values_list("received_at", flat=True).first()
        if newest is None:
            return
        since = newest - dt.timedelta(seconds=self.window)
        rows = Message.objects.filter(received_at__gte=since, purged_at__isnull=True).order_by(
            "-seq").values_list("seq", "received_at", "host", "program", "text", "facility",
                                "severity", "source_ip")[:REFILL]
        self._load_batch([_event(*row) for row in rows])
        matches = self._plain_matches(only=self.counted)
        self._correlate(matches, OpenAnomalies([c.rule_id for c in self.rules if c.correlation]),
                        join=False)

    def _load_batch(self, events: list[tuple[Any, ...]]) -> None:
        self.db.execute("DELETE FROM batch")
        self.db.executemany("INSERT INTO batch VALUES (?,?,?,?,?,?,?,?,?,?)", events)
        self.events = {event[0]: event for event in events}

    def _plain_matches(self, only: set[int] | None = None) -> dict[int, list[int]]:
        matches = {}
        for rule in self.rules:
            if rule.correlation or (only is not None and rule.rule_id not in only):
                continue
            found = [seq for (seq,) in self.db.execute(rule.query)]
            if found:
                matches[rule.rule_id] = found
        return matches

    def examine(self, rows: list[tuple[Any, ...]]) -> list[int]:
        """Run the rules on a batch being stored (its Message rows, in store()'s column
        order); record the matches as anomalies in the caller's transaction. Returns the
        ids of the anomalies this batch opened (they are mailed after the commit)."""
        self.refresh()
        if not self.rules:
            return []
        self._load_batch([_event(r[0], r[1], r[3], r[8], r[9], r[6], r[7], r[5])
                          for r in rows])
        matches = self._plain_matches()
        anomalies = OpenAnomalies([c.rule_id for c in self.rules])
        opened = []
        for rule_id, seqs in matches.items():
            if rule_id in self.silent:
                continue
            for host, group in self._by_host(seqs).items():
                opened.extend(anomalies.join(rule_id, host, "", group, self.events))
        if self.counted and any(pk in matches for pk in self.counted):
            opened.extend(self._correlate(matches, anomalies, join=True))
        return opened

    def _by_host(self, seqs: list[int]) -> dict[str, list[int]]:
        grouped: dict[str, list[int]] = {}
        for seq in seqs:
            grouped.setdefault(self.events[seq][_FIELD["host"]], []).append(seq)
        return grouped

    def _group(self, rule: Compiled, seq: int) -> str | None:
        """The group of an event as the correlation names it ("source_ip=192.0.2.7");
        None when a field is missing (Sigma then leaves the event out)."""
        event = self.events[seq]
        parts = []
        for name in sorted(rule.group_by):
            value = event[_FIELD[name]] if name in _FIELD else None
            if value is None:
                return None
            parts.append(f"{name}={str(value).lower()}")
        return ",".join(parts)

    def _correlate(self, matches: dict[int, list[int]], anomalies: OpenAnomalies,
                   *, join: bool) -> list[int]:
        opened: list[int] = []
        for rule in self.rules:
            if not rule.correlation:
                continue
            seqs = sorted({s for pk in rule.counted for s in matches.get(pk, ())})
            table = f"recent_{rule.rule_id}"
            # The window's name is recent_<rule id>, an integer: nothing from outside.
            waiting: list[tuple[Any, ...]] = []
            direct: dict[str, list[int]] = {}
            for seq in seqs:
                group = self._group(rule, seq)
                if group is None:
                    continue
                if (rule.rule_id, group) in anomalies.by_group:
                    direct.setdefault(group, []).append(seq)
                else:
                    waiting.append(self.events[seq])
            self.db.executemany(
                f"INSERT OR IGNORE INTO {table} VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                waiting)
            if not join:
                continue
            for group, group_seqs in direct.items():
                anomalies.join(rule.rule_id, "", group, group_seqs, self.events, any_host=True)
            if waiting:
                opened.extend(self._fire(rule, table, anomalies))
            newest = max((e[1] for e in waiting), default=None)
            if newest is not None:
                horizon = (dt.datetime.strptime(newest, _TIME)
                           - dt.timedelta(seconds=rule.timespan)).strftime(_TIME)
                self.db.execute(f"DELETE FROM {table} WHERE timestamp < ?",  # noqa: S608
                                (horizon,))
        return opened

    def _fire(self, rule: Compiled, table: str, anomalies: OpenAnomalies) -> list[int]:
        """Run the correlation on its window; each group over the threshold joins (or
        opens) its anomaly with the window's events, which then leave the window."""
        joined: dict[str, set[int]] = {}
        for row in self.db.execute(rule.query).fetchall():
            seqs = {int(e.split(":", 1)[1]) for e in json.loads(row[-2])}
            keys = json.loads(row[1])
            group = ",".join(f"{k}={str(v).lower()}" for k, v in sorted(keys.items()))
            joined.setdefault(group, set()).update(seqs)
        opened = []
        for group, seqs in joined.items():
            events = {row[0]: row for row in self.db.execute(
                f"SELECT * FROM {table} WHERE id IN "  # noqa: S608
                "(SELECT value FROM json_each(?))", (json.dumps(sorted(seqs)),))}
            hosts = {event[_FIELD["host"]] for event in events.values()}
            host = hosts.pop() if len(hosts) == 1 else "(several hosts)"
            opened.extend(anomalies.join(rule.rule_id, host, group, sorted(events), events,
                                         any_host=True))
            self.db.execute(f"DELETE FROM {table} WHERE id IN "  # noqa: S608
                            "(SELECT value FROM json_each(?))", (json.dumps(sorted(events)),))
        return opened


def _event(seq: int, received: dt.datetime, host: str, program: str, text: str,
           facility: int, severity: int, sender: str) -> tuple[Any, ...]:
    source_ip, user = extract_fields(program, text)
    return (seq, time_text(received), host, program, text, facility, severity, sender,
            source_ip, user)


class OpenAnomalies:
    """The open anomalies of the rules at hand, read once per batch: a match joins one
    without a query to find it, and its evidence room follows from its count (each
    matching message is counted once, and linked while fewer than EVIDENCE_LINKS are)."""

    def __init__(self, rule_ids: list[int]) -> None:
        self.by_key: dict[tuple[int, str, str], tuple[int, int, dt.datetime]] = {}
        self.by_group: dict[tuple[int, str], tuple[int, int, dt.datetime]] = {}
        for pk, rule_id, host, group, matches, last_seen in Anomaly.objects.filter(
                status=AnomalyStatus.OPEN, rule_id__in=rule_ids).order_by("pk").values_list(
                "pk", "rule_id", "host", "group_key", "matches", "last_seen"):
            self.by_key[(rule_id, host, group)] = (pk, matches, last_seen)
            self.by_group[(rule_id, group)] = (pk, matches, last_seen)

    def join(self, rule_id: int, host: str, group: str, seqs: list[int],
             events: dict[int, tuple[Any, ...]], *, any_host: bool = False) -> list[int]:
        """Add matches to the open anomaly of (rule, host, group), or of (rule, group)
        for a correlation (`any_host`), or open one on `host`. Returns [id] when it opened
        one."""
        group = group[:200]
        times = [dt.datetime.strptime(events[s][1], _TIME).replace(tzinfo=dt.UTC)
                 for s in seqs if s in events] or [timezone.now()]
        found = self.by_group.get((rule_id, group)) if any_host else self.by_key.get(
            (rule_id, host, group))
        # Examined (by a person) since the batch began: the update finds no open row.
        if found is not None and not Anomaly.objects.filter(
                pk=found[0], status=AnomalyStatus.OPEN).update(
                matches=F("matches") + len(seqs), last_seen=max(max(times), found[2])):
            found = None
        if found is None:
            pk = Anomaly.objects.create(rule_id=rule_id, host=host[:255], group_key=group,
                                        first_seen=min(times), last_seen=max(times),
                                        matches=len(seqs)).pk
            linked, opened = 0, [pk]
        else:
            pk, linked, opened = found[0], min(found[1], EVIDENCE_LINKS), []
        room = EVIDENCE_LINKS - linked
        if room > 0:
            AnomalyMessage.objects.bulk_create(
                [AnomalyMessage(anomaly_id=pk, message_id=s) for s in seqs[:room]],
                ignore_conflicts=True)
        entry = (pk, linked + len(seqs) if found is None else found[1] + len(seqs),
                 max(times) if found is None else max(max(times), found[2]))
        self.by_key[(rule_id, host, group)] = entry
        self.by_group[(rule_id, group)] = entry
        return opened


_DETECTOR: Detector | None = None


def examine(rows: list[tuple[Any, ...]]) -> list[int]:
    """The ingest process's detector examines one batch (see Detector.examine)."""
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector()
    return _DETECTOR.examine(rows)


def reset() -> None:
    """Forget the compiled rules and the window (tests start from an empty database)."""
    global _DETECTOR
    _DETECTOR = None
