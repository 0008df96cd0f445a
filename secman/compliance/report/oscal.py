"""The audit report as an OSCAL 1.1 assessment-results document, for auditors' tools.

Validated in the tests against compliance-trestle's pydantic OSCAL models, which are
generated from NIST's JSON schema and forbid unknown fields (docs/compliance-report.md).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

from secman.core.controls import Status

if TYPE_CHECKING:
    from secman.compliance.report import AuditReport

OSCAL_VERSION = "1.1.3"
# Statuses a finding counts as met in OSCAL terms: the control holds (a warning or a duty
# due soon is not a failure yet).
SATISFIED = {Status.OK, Status.NOT_APPLICABLE, Status.WARNING, Status.DUE_SOON}


def _sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _control_id(number: str) -> str:
    return f"s{number}"


def render_oscal(report: AuditReport) -> str:
    return json.dumps(oscal(report), indent=2, ensure_ascii=False) + "\n"


def oscal(report: AuditReport) -> dict[str, Any]:
    """An OSCAL 1.1 assessment-results document: one result for the period; the SP/SM
    sections are the reviewed controls, each secman control is a finding whose target
    is the control's objective, and each section's evidence summary is an observation."""
    def make_uuid(*parts: object) -> str:
        return str(uuid.uuid5(report.uuid, "|".join(str(p) for p in parts)))

    ns = f"{report.site_url}/ns/oscal"
    observations = []
    observation_of: dict[str, str] = {}
    for section in report.sections:
        if not (section.has_evidence or section.results):
            continue
        observation_of[section.number] = make_uuid("observation", section.number)
        evidence = [{"href": report.link(s.url),
                     "description": f"Event Log entry #{s.seq}: {s.action} "
                                    f"({s.recorded_at:%Y-%m-%d %H:%M} UTC)"}
                    for s in section.event_samples]
        evidence += [{"href": report.link(s.url),
                      "description": f"{s.control_id} due {s.due_at:%Y-%m-%d}: {s.status}"
                                     + (f", evidence SHA-256 {s.evidence_sha256}"
                                        if s.evidence_sha256 else "")}
                     for s in section.occurrence_samples]
        observation: dict[str, Any] = {
            "uuid": observation_of[section.number],
            "title": f"Evidence for section {section.number} {section.title}".strip(),
            "description": (
                f"{report.period}: {section.events} Event Log entries cite section "
                f"{section.number} or concern its controls; duty occurrences {section.done} "
                f"done, {section.overdue} overdue, {section.skipped} skipped, {section.open} "
                f"not yet due; {section.attestations} attestations."),
            "methods": ["EXAMINE"] if section.has_evidence else ["TEST"],
            "collected": _stamp(report.generated_at),
            "props": [{"name": "event-count", "ns": ns, "value": str(section.events)}],
        }
        if evidence:
            observation["relevant-evidence"] = evidence
        observations.append(observation)

    findings = []
    for result in report.results:
        section_numbers = result.control.numbers
        related = [observation_of[n] for n in section_numbers if n in observation_of]
        lines = [f.message for f in result.findings]
        lines += [f"{f.message} (accepted: {a.get_kind_display()}, authority "
                  f"{a.authority.reference}"
                  + (f", expires {a.expires_at:%Y-%m-%d})" if a.expires_at else ")")
                  for f, a in result.accepted]
        target: dict[str, Any] = {
            "type": "objective-id",
            "target-id": result.control.id,
            "title": result.control.statement,
            "status": {"state": "satisfied" if result.status in SATISFIED
                       else "not-satisfied",
                       "reason": result.status.value.replace("_", "-")},
            "props": [{"name": "secman-status", "ns": ns, "value": result.status.value}],
        }
        finding: dict[str, Any] = {
            "uuid": make_uuid("finding", result.control.id),
            "title": f"{result.control.id} ({', '.join(result.control.sections)})",
            "description": "\n".join([result.control.statement,
                                      *(f"- {line}" for line in lines)])
            + (f"\n{result.summary}" if result.summary else ""),
            "target": target,
            "props": [{"name": "evaluated-at", "ns": ns,
                       "value": _stamp(result.evaluated_at)}],
        }
        if related:
            finding["related-observations"] = [{"observation-uuid": u} for u in related]
        findings.append(finding)

    controls = sorted({n for r in report.results for n in r.control.numbers}, key=_sort_key)
    checkpoint = report.checkpoint
    props = [{"name": "eventlog-head-size", "ns": ns, "value": str(report.head)},
             {"name": "eventlog-head-root-hash", "ns": ns, "value": report.head_root}]
    remarks = (f"Counts every Event Log entry up to #{report.head} (the log's head when the "
               f"report was made; Merkle root {report.head_root}). ")
    back_matter: dict[str, Any] = {}
    if checkpoint is None:
        remarks += "No Event Log checkpoint existed when this report was made."
    else:
        props += [{"name": "eventlog-tree-size", "ns": ns, "value": str(checkpoint.tree_size)},
                  {"name": "eventlog-root-hash", "ns": ns, "value": checkpoint.root_hash}]
        remarks += (f"The newest signed checkpoint, of tree size {checkpoint.tree_size}, root "
                    f"hash {checkpoint.root_hash}, "
                    + ("covers all of them" if report.covered else
                       f"covers entries up to #{checkpoint.tree_size}; the next one covers "
                       "the rest")
                    + "; its signed note is the back-matter resource 'Event Log checkpoint'. "
                    "Check it with `secman eventlog verify --checkpoint FILE` or, on an "
                    "export bundle, `python -m secman.eventlog.verify DIR`.")
        back_matter = {"resources": [{
            "uuid": make_uuid("checkpoint"), "title": "Event Log checkpoint",
            "description": checkpoint.note,
            "rlinks": [{"href": report.link(checkpoint.url), "media-type": "text/plain"}],
        }]}
    result_doc: dict[str, Any] = {
        "uuid": make_uuid("result"),
        "title": report.title,
        "description": (f"secman evaluated every control at {_stamp(report.generated_at)} and "
                        f"summarised the evidence recorded from {report.period.first} to "
                        f"{report.period.last} (UTC). SP: {report.sp_label}. "
                        f"SM: {report.sm_label}."),
        "start": _stamp(report.period.start),
        "end": _stamp(report.period.end),
        "reviewed-controls": {"control-selections": [
            {"include-controls": [{"control-id": _control_id(n)} for n in controls]}
            if controls else {"include-all": {}}]},
        "remarks": remarks,
    }
    result_doc["props"] = props
    if observations:
        result_doc["observations"] = observations
    if findings:
        result_doc["findings"] = findings
    document: dict[str, Any] = {
        "uuid": str(report.uuid),
        "metadata": {
            "title": f"secman {report.title}",
            "last-modified": _stamp(report.generated_at),
            "version": f"{report.period.first}..{report.period.last}@{report.head}",
            "oscal-version": OSCAL_VERSION,
        },
        "import-ap": {"href": f"{report.site_url}/compliance/",
                      "remarks": "secman keeps no OSCAL assessment plan: its controls are "
                                 "declared in code and listed on the compliance dashboard."},
        "results": [result_doc],
    }
    if back_matter:
        document["back-matter"] = back_matter
    return {"assessment-results": document}
