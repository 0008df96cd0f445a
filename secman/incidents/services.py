"""Every change an incident goes through, each with its Event Log entry in the same
transaction; a refusal writes nothing (SP/SM 5, 4.4.3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from secman.authority.arbitration import file_dispute
from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.authority.services import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.core.validation import LONG_TEXT_MAX, TEXT_MAX, check_free_text, check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.retention import place_hold
from secman.eventlog.services import record
from secman.incidents import checklists
from secman.incidents.choices import (
    INTRUSION_OR_WORSE,
    ISOLATE_FIRST,
    NEEDS_CASE,
    Audience,
    DetectionLevel,
    IncidentStatus,
    Severity,
    Source,
    TimelineKind,
)
from secman.incidents.models import (
    Custody,
    Evidence,
    Incident,
    Report,
    ResponseStep,
    TimelineEntry,
)
from secman.logs.models import Anomaly, AnomalyStatus
from secman.logs.services import examine
from secman.people import openpgp
from secman.people.models import Person
from secman.people.selectors import holds_any, leads, roles_of, team_leader
from secman.privileged.secrets_register import mark_compromised
from secman.systems.models import System
from secman.systems.notifications import systems_administration_team

SECTION = "SM 5.3"
_INCIDENT = RetentionClass.INCIDENT  # SM 4.4.3: kept indefinitely
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# --- who may -------------------------------------------------------------------------------


def may_see_incidents(person: Person | None) -> bool:
    """The incidents themselves are not secret (SM 5.6 "the event itself should not be
    kept secret"): everyone who holds a role sees the list, the severity and the report."""
    return bool(person is not None and roles_of(person))


def may_see_restricted(person: Person | None) -> bool:
    """The investigation log, the evidence and the report's appendix: the Systems
    Administrators who respond, the team leaders and the Board who manage, the
    Arbitrators and Case Managers who oversee, and the auditors."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.TEAM_LEADER, Role.BOARD_MEMBER,
                     Role.ARBITRATOR, Role.CASE_MANAGER, Role.AUDITOR)


def may_open(person: Person | None) -> bool:
    """Anyone in a critical team may report an incident (SM 9.1.6: a security bug is
    reported to the team leader and filed)."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.ACCESS_ENGINEER,
                     Role.SOFTWARE_ASSESSOR, Role.SUPPORT_ENGINEER, Role.TEAM_LEADER)


def may_respond(person: Person | None) -> bool:
    """Severity, isolation, checklists, evidence, the report: Systems Administrators
    (SM 5.5 "mitigation by system administration staff")."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def may_write_timeline(person: Person | None) -> bool:
    """The investigation log and follow-ups: the responders, the management (team
    leaders, Board) and the oversight (Arbitrators, Case Managers)."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR, Role.TEAM_LEADER, Role.BOARD_MEMBER,
                     Role.ARBITRATOR, Role.CASE_MANAGER)


def _require(predicate: Any, actor: Person | None, what: str, section: str) -> None:
    if not predicate(actor):
        raise NotAllowed(what, section=section)


def _require_open(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status != IncidentStatus.OPEN:
        raise RuleViolation(f"incident {locked.pk} is closed")
    return locked


# --- the warning list (SM 5.3.2) -------------------------------------------------------------


def warning_list() -> list[str]:
    """SECMAN_INCIDENT_WARNING_LIST; when empty, the Systems Administration team."""
    if settings.SECMAN_INCIDENT_WARNING_LIST:
        return list(settings.SECMAN_INCIDENT_WARNING_LIST)
    return systems_administration_team()


def _clean_cc(cc: Iterable[str]) -> list[str]:
    addresses = []
    for raw in cc:
        address = raw.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise RuleViolation(f"{address!r} is not an email address", field="cc") from None
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > 20:
        raise RuleViolation("at most 20 addresses in the CC", field="cc")
    return addresses


# --- opening ---------------------------------------------------------------------------------


def _case_for(actor: Person, title: str, severity: str, case: ArbitrationCase | None,
              file_case: bool, circumstances: str) -> ArbitrationCase | None:
    if case is not None and file_case:
        raise RuleViolation("link a case or file a dispute, not both", field="case")
    if case is not None and case.status == CaseStatus.WITHDRAWN:
        raise RuleViolation(f"case {case.number} was withdrawn", field="case")
    if file_case:
        case = file_dispute(actor=actor, title=f"Incident: {title}"[:200],
                            circumstances=circumstances)
    if severity in NEEDS_CASE and case is None:
        raise RuleViolation(
            f"{Severity(severity).label} means data may be compromised: Arbitration is "
            "required (SM 5.3.3). Link its case or file a dispute with it", field="case")
    return case


def open_incident(*, actor: Person, title: str, description: str, detection_level: str,
                  severity: str, systems: Iterable[System], source: str = Source.BY_HAND,
                  anomaly: Anomaly | None = None, bug_reference: str = "",
                  cc: Iterable[str] = (), war_room: str = "",
                  case: ArbitrationCase | None = None, file_case: bool = False) -> Incident:
    """Open an incident: from an anomaly (which is promoted to it), a security bug report
    or by hand. The initial warning is mailed at once to the warning list and the CC the
    person on the spot chose (SM 5.3.2), after the transaction commits."""
    _require(may_open, actor, "incidents are reported by the members of the critical teams",
             "SM 5.3.2")
    title, description = " ".join(title.split()), description.strip()
    bug_reference, war_room = bug_reference.strip(), war_room.strip()
    if not title:
        raise RuleViolation("an incident needs a title", field="title")
    if not description:
        raise RuleViolation("say what was detected", field="description")
    check_free_text(description, label="the description", limit=TEXT_MAX, multiline=True,
                    field="description")
    check_text(Incident, {"title": title, "bug_reference": bug_reference,
                          "war_room": war_room})
    if source not in Source.values:
        raise RuleViolation(f"{source!r} is not a source", field="source")
    if detection_level not in DetectionLevel.values:
        raise RuleViolation("say at which level it was detected (SM 5.1)",
                            field="detection_level")
    if severity not in Severity.values:
        raise RuleViolation("classify its severity (SM 5.3.1)", field="severity")
    if (source == Source.ANOMALY) != (anomaly is not None):
        raise RuleViolation("an incident from an anomaly names the anomaly", field="anomaly")
    if source == Source.SECURITY_BUG and not bug_reference:
        raise RuleViolation("name the security bug (its number or address, SM 9.1.6)",
                            field="bug_reference")
    systems = list(systems)
    if not systems:
        raise RuleViolation("name the systems concerned", field="systems")
    cc = _clean_cc(cc)
    with transaction.atomic():
        if anomaly is not None:
            anomaly = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
            if anomaly.status != AnomalyStatus.OPEN:
                raise RuleViolation(f"anomaly {anomaly.pk} was "
                                    f"{anomaly.get_status_display().lower()} already",
                                    field="anomaly")
            examine(actor=actor, anomaly=anomaly, outcome=AnomalyStatus.PROMOTED,
                    reason=f"Promoted to an incident: {title}"[:500])
        case = _case_for(actor, title, severity, case, file_case,
                         f"Incident reported by {actor}: {title}\n\n{description}")
        authority = resolve_authority(case if case is not None else SECTION)
        incident = Incident.objects.create(
            title=title, description=description, detection_level=detection_level,
            severity=severity, source=source, anomaly=anomaly, bug_reference=bug_reference,
            war_room=war_room, warning_cc=cc, case=case, opened_by=actor)
        incident.systems.set(systems)
        if severity in NEEDS_CASE:
            _compromised(actor, incident, case)
        # SM 9.1.6: a security bug is "reported to team leader": the leaders of the teams
        # that fix it (systems, software) get the warning too.
        leaders = sorted({leader.email for leader in (
            team_leader(TeamKind.SYSTEMS_ADMINISTRATION),
            team_leader(TeamKind.SOFTWARE_ASSESSMENT)) if leader is not None and leader.email}
        ) if source == Source.SECURITY_BUG else []
        record("incidents.incident.open", actor=actor, authority=authority, subject=incident,
               retention_class=_INCIDENT,
               details={"title": title, "severity": severity, "source": source,
                        "detection_level": detection_level,
                        # The labels too: the warning mail and the log's readers read them.
                        "severity_label": Severity(severity).label,
                        "detection_label": DetectionLevel(detection_level).label,
                        "systems": [s.name for s in systems],
                        "anomaly": anomaly.pk if anomaly else None,
                        "bug": bug_reference, "case": case.number if case else "",
                        "warning_to": warning_list(), "team_leaders": leaders, "cc": cc,
                        "war_room": war_room})
    return incident


# --- severity, isolation, escalation -------------------------------------------------------


def _compromised(actor: Person, incident: Incident, case: ArbitrationCase | None) -> None:
    """A compromise or a breach: the recovery checklist (SM 5.5.6), and every secret used
    on the systems concerned due for rotation (privileged's suspected-compromise mark,
    SM 4.1.1), under the case."""
    _add_checklist(incident, "recovery")
    if not may_respond(actor):  # reported by someone outside the SA team: they mark it
        return
    for system in incident.systems.all():
        mark_compromised(actor=actor, system=system, authority=case or SECTION,
                         reason=f"incident {incident.pk}: {Severity(incident.severity).label}")


def change_severity(*, actor: Person, incident: Incident, severity: str, reason: str,
                    case: ArbitrationCase | None = None, file_case: bool = False) -> Incident:
    _require(may_respond, actor, "the severity is classified by Systems Administrators",
             "SM 5.3.1")
    reason = " ".join(reason.split())
    if severity not in Severity.values:
        raise RuleViolation("classify its severity (SM 5.3.1)", field="severity")
    if not reason:
        raise RuleViolation("say why the severity changes", field="reason")
    check_free_text(reason, label="the reason", limit=500, multiline=False, field="reason")
    with transaction.atomic():
        incident = _require_open(incident)
        if incident.severity == severity:
            raise RuleViolation(f"the severity is {Severity(severity).label} already",
                                field="severity")
        if incident.case is not None and (case is not None or file_case):
            raise RuleViolation(f"the incident is under case {incident.case.number} "
                                "already", field="case")
        new_case = _case_for(actor, incident.title, severity, incident.case or case,
                             file_case and incident.case is None,
                             f"Incident {incident.pk} ({incident.title}) is now "
                             f"{Severity(severity).label}: {reason}")
        before = incident.severity
        incident.severity, incident.case = severity, new_case
        incident.save(update_fields=["severity", "case"])
        if severity in NEEDS_CASE and before not in NEEDS_CASE:
            _compromised(actor, incident, new_case)
        record("incidents.incident.severity", actor=actor,
               authority=resolve_authority(new_case or SECTION), subject=incident,
               retention_class=_INCIDENT,
               details={"from": before, "to": severity, "reason": reason,
                        "case": new_case.number if new_case else ""})
    return incident


def record_isolation(*, actor: Person, incident: Incident, how: str) -> Incident:
    """SM 5.3.1: "compromised services must be isolated immediately upon detection". Ticks
    the isolation steps of its checklists."""
    _require(may_respond, actor, "isolation is recorded by Systems Administrators",
             "SM 5.3.1")
    how = " ".join(how.split())
    if not how:
        raise RuleViolation("say how the services were isolated", field="how")
    check_free_text(how, label="how", limit=500, multiline=False, field="how")
    with transaction.atomic():
        incident = _require_open(incident)
        if incident.isolated_at:
            raise RuleViolation(f"isolated already, {incident.isolated_at:%Y-%m-%d %H:%M}",
                                field="how")
        now = timezone.now()
        incident.isolated_at, incident.isolated_by, incident.isolation = now, actor, how
        incident.save(update_fields=["isolated_at", "isolated_by", "isolation"])
        incident.steps.filter(isolation=True, done_at__isnull=True).update(
            done_at=now, done_by=actor, note=how)
        record("incidents.incident.isolate", actor=actor, authority=resolve_authority(
            "SM 5.3.1"), subject=incident, retention_class=_INCIDENT,
            details={"how": how, "systems": [s.name for s in incident.systems.all()]})
    return incident


def escalate(*, actor: Person, incident: Incident, case: ArbitrationCase | None = None,
             file_case: bool = False) -> Incident:
    """SM 5.3.3: oversight by the Arbitrator: link the case, or file a dispute now."""
    _require(may_respond, actor, "escalation is recorded by Systems Administrators",
             "SM 5.3.3")
    if case is None and not file_case:
        raise RuleViolation("choose the case, or file a dispute", field="case")
    with transaction.atomic():
        incident = _require_open(incident)
        if incident.case is not None:
            raise RuleViolation(f"the incident is under case {incident.case.number} already",
                                field="case")
        overseen = _case_for(actor, incident.title, incident.severity, case, file_case,
                             f"Incident {incident.pk} ({incident.title}), "
                             f"{Severity(incident.severity).label}: separated "
                             "oversight and authority (SM 5.3.3).")
        if overseen is None:  # cannot happen: a case was given or filed (checked above)
            raise RuleViolation("choose the case, or file a dispute", field="case")
        incident.case = overseen
        incident.save(update_fields=["case"])
        record("incidents.incident.escalate", actor=actor,
               authority=resolve_authority(overseen), subject=incident,
               retention_class=_INCIDENT, details={"case": overseen.number, "filed": file_case})
    return incident


def bring_in_management(*, actor: Person, incident: Incident, person: Person,
                        reason: str = "") -> Incident:
    """SM 5.3.3: the team leader is brought into the loop; if not available, or as the
    team leader decides, the Board's designated member."""
    _require(may_respond, actor, "management is brought in by Systems Administrators",
             "SM 5.3.3")
    reason = " ".join(reason.split())
    check_free_text(reason, label="the reason", limit=500, multiline=False, field="reason")
    is_leader = leads(person, TeamKind.SYSTEMS_ADMINISTRATION)
    if not is_leader and not holds_any(person, Role.BOARD_MEMBER):
        raise RuleViolation(f"{person} is neither the Systems Administration team leader "
                            "nor a Board member", field="person")
    if not is_leader and not reason:
        raise RuleViolation("say why the Board's member rather than the team leader "
                            "(unavailable, or the team leader decided so)", field="reason")
    with transaction.atomic():
        incident = _require_open(incident)
        incident.management, incident.management_at = person, timezone.now()
        incident.save(update_fields=["management", "management_at"])
        record("incidents.incident.management", actor=actor,
               authority=resolve_authority("SM 5.3.3"), subject=incident,
               retention_class=_INCIDENT,
               details={"person": str(person), "as": "team leader" if is_leader else "Board",
                        "reason": reason})
    return incident


def set_war_room(*, actor: Person, incident: Incident, war_room: str) -> Incident:
    _require(may_write_timeline, actor, "the war room is recorded by its supporters",
             "SM 5.3.2")
    war_room = war_room.strip()
    check_text(Incident, {"war_room": war_room})
    with transaction.atomic():
        incident = _require_open(incident)
        before, incident.war_room = incident.war_room, war_room
        incident.save(update_fields=["war_room"])
        record("incidents.incident.war_room", actor=actor,
               authority=resolve_authority("SM 5.3.2"), subject=incident,
               retention_class=_INCIDENT, details={"from": before, "to": war_room})
    return incident


# --- the investigation log, evidence, legal hold ------------------------------------------


def write_timeline(*, actor: Person, incident: Incident, kind: str, text: str) -> TimelineEntry:
    _require(may_write_timeline, actor, "the investigation log is written by the "
             "responders, the management and the oversight", "SM 5.4")
    text = text.strip()
    if kind not in TimelineKind.values:
        raise RuleViolation(f"{kind!r} is not a kind of entry", field="kind")
    if not text:
        raise RuleViolation("write what happened or was found", field="text")
    check_free_text(text, label="the entry", limit=TEXT_MAX, multiline=True, field="text")
    with transaction.atomic():
        incident = _require_open(incident)
        entry = TimelineEntry.objects.create(incident=incident, kind=kind, text=text,
                                             written_by=actor)
        # The text itself is in the entry: the investigation log is as tamper-evident
        # as the rest (the incident class is restricted to the incident's readers).
        record("incidents.timeline.write", actor=actor,
               authority=resolve_authority("SM 5.4"), subject=incident,
               retention_class=_INCIDENT, details={"kind": kind, "text": text})
    return entry


def add_evidence(*, actor: Person, incident: Incident, label: str, description: str,
                 sha256: str, location: str, size: int | None = None) -> Evidence:
    """SM 5.4: evidence preserved as close to pristine as possible: its SHA-256 when
    collected; the collector holds it first."""
    _require(may_respond, actor, "evidence is collected by Systems Administrators", "SM 5.4")
    label, description, location = label.strip(), description.strip(), location.strip()
    sha256 = sha256.strip().lower()
    if not label or not description or not location:
        raise RuleViolation("an item of evidence needs a label, a description and where it "
                            "is kept", field="label")
    if not SHA256_RE.match(sha256):
        raise RuleViolation("the SHA-256 is 64 hexadecimal digits (sha256sum FILE)",
                            field="sha256")
    if size is not None and size < 0:
        raise RuleViolation("a size is not negative", field="size")
    check_text(Evidence, {"label": label, "description": description, "location": location})
    with transaction.atomic():
        incident = _require_open(incident)
        if incident.evidence.filter(label=label).exists():
            raise RuleViolation(f"the incident has an item labelled {label!r} already",
                                field="label")
        item = Evidence.objects.create(incident=incident, label=label,
                                       description=description, sha256=sha256, size=size,
                                       location=location, collected_by=actor, holder=actor)
        record("incidents.evidence.collect", actor=actor,
               authority=resolve_authority("SM 5.4"), subject=incident,
               retention_class=_INCIDENT,
               details={"evidence": item.pk, "label": label, "sha256": sha256, "size": size,
                        "location": location, "holder": str(actor)})
    return item


def hand_over(*, actor: Person, evidence: Evidence, to: Person, location: str, reason: str,
              sha256_checked: bool) -> Custody:
    """The chain of custody: only the holder hands an item over, to someone else who may
    read the incident's restricted record."""
    location, reason = location.strip(), " ".join(reason.split())
    if not location or not reason:
        raise RuleViolation("say where the item goes and why", field="reason")
    check_text(Custody, {"location": location, "reason": reason})
    if not may_see_restricted(to):
        raise RuleViolation(f"{to} may not hold the incident's evidence (responders, "
                            "management, oversight and auditors only)", field="to")
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().select_related("holder").get(
            pk=evidence.pk)
        _require_open(evidence.incident)
        if evidence.holder_id != actor.pk:
            raise NotAllowed(f"{evidence.label} is held by {evidence.holder}: only the "
                             "holder hands it over", section="SM 5.4")
        if to.pk == actor.pk:
            raise RuleViolation("you hold it already", field="to")
        custody = Custody.objects.create(evidence=evidence, from_person=actor, to_person=to,
                                         location=location, reason=reason,
                                         sha256_checked=sha256_checked)
        evidence.holder, evidence.location = to, location
        evidence.save(update_fields=["holder", "location"])
        record("incidents.evidence.hand_over", actor=actor,
               authority=resolve_authority("SM 5.4"), subject=evidence.incident,
               retention_class=_INCIDENT,
               details={"evidence": evidence.pk, "label": evidence.label,
                        "from": str(actor), "to": str(to), "location": location,
                        "reason": reason, "sha256_checked": sha256_checked})
    return custody


def archive_logs(*, actor: Person, incident: Incident, since: dt.date,
                 until: dt.date | None = None) -> list[Any]:
    """SM 5.4 "any related log data archived": a legal hold, under the incident's case, on
    the systems' log messages and the Event Log entries of each system concerned, for the
    period (until empty: until the hold is released)."""
    _require(may_respond, actor, "the related logs are archived by Systems Administrators",
             "SM 5.4")
    if until is not None and since > until:
        raise RuleViolation("the period ends before it starts", field="until")
    if since > timezone.localdate():
        raise RuleViolation("the period starts in the future", field="since")
    with transaction.atomic():
        incident = _require_open(incident)
        if incident.case is None:
            raise RuleViolation("a legal hold is kept under an Arbitration case: escalate the "
                                "incident to one first (SM 4.4.2, 5.3.3)", field="since")
        holds = [place_hold(actor=actor, case=incident.case, subject_type="systems.system",
                            subject_id=str(system.pk), since=since, until=until,
                            preserving_evidence=True)
                 for system in incident.systems.all()]
        record("incidents.incident.archive_logs", actor=actor,
               authority=resolve_authority(incident.case), subject=incident,
               retention_class=_INCIDENT,
               details={"case": incident.case.number, "since": since, "until": until,
                        "holds": [hold.pk for hold in holds],
                        "systems": [s.name for s in incident.systems.all()]})
    return holds


# --- response checklists (SM 5.5) ----------------------------------------------------------


def _add_checklist(incident: Incident, name: str) -> bool:
    if incident.steps.filter(checklist=name).exists():
        return False
    checklist = checklists.declared()[name]
    done = incident.isolated_at
    ResponseStep.objects.bulk_create([ResponseStep(
        incident=incident, checklist=name, checklist_title=checklist.title,
        section=checklist.section, position=position, key=step.key, text=step.text,
        isolation=step.isolation, register_check=step.check,
        done_at=done if step.isolation and done else None,
        done_by=incident.isolated_by if step.isolation and done else None,
        note=incident.isolation if step.isolation and done else "")
        for position, step in enumerate(checklist.steps, 1)])
    return True


def choose_checklist(*, actor: Person, incident: Incident, name: str) -> Incident:
    _require(may_respond, actor, "the response is chosen by Systems Administrators",
             "SM 5.5")
    if name not in dict(checklists.choices()):
        raise RuleViolation(f"{name!r} is not a response checklist of SM 5.5",
                            field="checklist")
    with transaction.atomic():
        incident = _require_open(incident)
        if not _add_checklist(incident, name):
            raise RuleViolation("the incident has this checklist already", field="checklist")
        record("incidents.checklist.add", actor=actor,
               authority=resolve_authority(checklists.declared()[name].section),
               subject=incident, retention_class=_INCIDENT,
               details={"checklist": name,
                        "steps": [s.key for s in checklists.declared()[name].steps]})
    return incident


def complete_step(*, actor: Person, step: ResponseStep, note: str = "") -> ResponseStep:
    """Tick a step. An intrusion's other steps wait for the isolation (SM 5.3.1); a step
    that names a check is ticked only when the registers show it done."""
    _require(may_respond, actor, "response steps are done by Systems Administrators",
             "SM 5.5")
    note = " ".join(note.split())
    check_free_text(note, label="the note", limit=500, multiline=False, field="note")
    with transaction.atomic():
        step = ResponseStep.objects.select_for_update().get(pk=step.pk)
        incident = _require_open(step.incident)
        if step.done_at:
            raise RuleViolation(f"done already, {step.done_at:%Y-%m-%d %H:%M} by "
                                f"{step.done_by}", field="note")
        if step.isolation:
            raise RuleViolation("record the isolation itself (how it was done): it ticks "
                                "this step", field="note")
        if incident.severity in ISOLATE_FIRST and not incident.isolated_at:
            raise RuleViolation("isolate first: compromised services are isolated "
                                "immediately upon detection (SM 5.3.1)", field="note")
        missing = (checklists.CHECKS[step.register_check](incident) if step.register_check
                   else "")
        if missing:
            raise RuleViolation(f"not yet: {missing}", field="note")
        step.done_at, step.done_by, step.note = timezone.now(), actor, note
        step.save(update_fields=["done_at", "done_by", "note"])
        record("incidents.step.done", actor=actor, authority=resolve_authority(step.section),
               subject=incident, retention_class=_INCIDENT,
               details={"checklist": step.checklist, "step": step.key, "text": step.text,
                        "note": note, "check": step.register_check})
    return step


# --- report and closing (SM 5.6, 4.4.3) ---------------------------------------------------


def appendix_readers() -> list[Person]:
    """Who a sensitive appendix is encrypted to: everyone who may read it and has an
    OpenPGP key on record."""
    return [person for person in Person.objects.exclude(openpgp_fingerprint="")
            .order_by("name") if may_see_restricted(person)]


def publish_report(*, actor: Person, incident: Incident, summary: str,
                   audience: Iterable[str], appendix: str = "", sensitive: bool = False,
                   embargoed: bool = False) -> Report:
    """The final report: its public summary, the SM 5.6 audience, and a restricted
    appendix, encrypted with GnuPG to its readers' keys when sensitive (SM 4.4.3).
    Details are embargoed only under an Arbitration case (SM 5.6 "secrecy")."""
    _require(may_respond, actor, "the final report is written by Systems Administrators",
             "SM 5.6")
    summary, appendix = summary.strip(), appendix.strip()
    audience = list(dict.fromkeys(audience))
    if not summary:
        raise RuleViolation("the report needs its public summary: what happened, the "
                            "impact, what was done", field="summary")
    check_free_text(summary, label="the summary", limit=LONG_TEXT_MAX, multiline=True,
                    field="summary")
    check_free_text(appendix, label="the appendix", limit=LONG_TEXT_MAX, multiline=True,
                    field="appendix")
    unknown = [a for a in audience if a not in Audience.values]
    if unknown:
        raise RuleViolation(f"unknown audience {unknown}", field="audience")
    for needed in (Audience.SYSADMINS, Audience.BOARD):
        if needed not in audience:
            raise RuleViolation(f"the report goes to the {Audience(needed).label} (SM 5.6)",
                                field="audience")
    if sensitive and not appendix:
        raise RuleViolation("a sensitive report keeps its sensitive data in the appendix: "
                            "write it", field="appendix")
    with transaction.atomic():
        incident = _require_open(incident)
        if Report.objects.filter(incident=incident).exists():
            raise RuleViolation("the report is published already", field="summary")
        if incident.severity == Severity.BREACH and Audience.AFFECTED_USERS not in audience:
            raise RuleViolation("a breach is notified to the affected users (SM 5.5.3, 5.6)",
                                field="audience")
        if embargoed and incident.case is None:
            raise RuleViolation("details are embargoed only under the Arbitrator: the "
                                "incident needs its case (SM 5.6)", field="embargoed")
        encrypted, recipients = "", []
        if sensitive:
            readers = appendix_readers()
            if not readers:
                raise RuleViolation("nobody who may read the appendix has an OpenPGP key "
                                    "on record: the sensitive appendix cannot be kept "
                                    "encrypted (SM 4.4.3)", field="sensitive")
            encrypted = openpgp.encrypt(appendix.encode(),
                                        [p.openpgp_key for p in readers]).decode("ascii")
            recipients = [p.openpgp_fingerprint for p in readers]
        report = Report.objects.create(
            incident=incident, summary=summary, audience=audience,
            appendix="" if sensitive else appendix, sensitive=sensitive,
            appendix_encrypted=encrypted, appendix_recipients=recipients,
            embargoed=embargoed, published_by=actor)
        record("incidents.report.publish", actor=actor,
               authority=resolve_authority(incident.case if embargoed and incident.case
                                           else "SM 5.6"),
               subject=incident, retention_class=_INCIDENT,
               details={"audience": audience, "embargoed": embargoed, "sensitive": sensitive,
                        "summary_sha256": hashlib.sha256(summary.encode()).hexdigest(),
                        "appendix_sha256": hashlib.sha256(appendix.encode()).hexdigest()
                        if appendix else "", "appendix_recipients": recipients})
    return report


def why_not_close(incident: Incident) -> list[str]:
    """What stops the incident closing, in the words of the page."""
    reasons = []
    if not Report.objects.filter(incident=incident).exists():
        reasons.append("its final report is not published (SM 5.6)")
    if incident.severity in INTRUSION_OR_WORSE:
        if incident.case_id is None:
            reasons.append("an intrusion or worse is under an Arbitration case (SM 5.3.3)")
        if incident.management_id is None:
            reasons.append("the team leader (or the Board's member) was not brought in "
                           "(SM 5.3.3)")
        if incident.severity in ISOLATE_FIRST and not incident.isolated_at:
            reasons.append("the isolation is not recorded (SM 5.3.1)")
        if not incident.steps.exclude(checklist="recovery").exists():
            reasons.append("no response checklist was chosen (SM 5.5)")
        open_steps = incident.steps.filter(done_at__isnull=True).count()
        if open_steps:
            reasons.append(f"{open_steps} response step{'s' if open_steps != 1 else ''} "
                           "not done (SM 5.5)")
    return reasons


def close(*, actor: Person, incident: Incident) -> Incident:
    _require(may_respond, actor, "incidents are closed by Systems Administrators", "SM 5.6")
    with transaction.atomic():
        incident = _require_open(incident)
        reasons = why_not_close(incident)
        if reasons:
            raise RuleViolation("not closed: " + "; ".join(reasons))
        incident.status, incident.closed_at, incident.closed_by = (
            IncidentStatus.CLOSED, timezone.now(), actor)
        incident.save(update_fields=["status", "closed_at", "closed_by"])
        record("incidents.incident.close", actor=actor,
               authority=resolve_authority(incident.case or "SM 5.6"), subject=incident,
               retention_class=_INCIDENT,
               details={"severity": incident.severity,
                        "steps": incident.steps.count(), "evidence": incident.evidence.count()})
    return incident
