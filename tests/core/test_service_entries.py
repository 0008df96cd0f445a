"""Every state change writes its entry (issue 12, item 4): one table, one row per public
state-changing function of every app's services module, checked by generic tests.

Each row says how to call the service so that it succeeds (a builder that makes what the
call needs from the test organisation and returns the keyword arguments), the Event Log
actions a success appends (exactly those, counted), and how to call it so that it is
refused (the wrong person or bad input). The checks are the same for every row, as in
NetBox's generic view test cases: a success appends exactly its entries, naming the
actor; a refusal raises, appends nothing and changes no row of any table.

A meta-test finds every public function of every services module and fails when one is
neither in the table nor in NOT_A_STATE_CHANGE (with the reason), so a new service
cannot be forgotten.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import inspect
import pkgutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone

import secman
from secman.authority import arbitration
from secman.authority import services as authority
from secman.authority.signoff import TASK, dual_control
from secman.backups import services as backups
from secman.backups.models import BackupJob
from secman.compliance import evaluation
from secman.compliance import services as compliance
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.compliance.report import Period
from secman.compliance.report import services as report_jobs
from secman.core.controls import control
from secman.core.errors import Refused
from secman.core.roles import Role, TeamKind
from secman.documents import services as documents
from secman.documents.models import Document
from secman.eventlog import checkpoints, retention
from secman.eventlog.models import Event
from secman.incidents import services as incidents
from secman.logs import rules as log_rules
from secman.logs import services as logs
from secman.people import accounts
from secman.people import services as people
from secman.people.models import Membership, Person
from secman.physical import imports as physical_imports
from secman.physical import services as physical
from secman.privileged import accounts as privileged_accounts
from secman.privileged import checklists, removals
from secman.privileged import grants as privileged_grants
from secman.privileged import keys as privileged_keys
from secman.privileged import schemes as privileged_schemes
from secman.privileged import secrets_register as privileged_secrets
from secman.recovery import services as recovery
from secman.software import services as software
from secman.support import services as support
from secman.systems import agents, patches
from secman.systems import diagram as systems_diagram
from secman.systems import imports as systems_imports
from secman.systems import services as systems
from secman.systems.infradocs import parse_text as parse_infradocs
from secman.systems.models import System
from secman.visits import devices
from secman.visits import services as visits
from tests.conftest import PASSWORD, Org

pytestmark = pytest.mark.django_db

Kwargs = dict[str, Any]
Builder = Callable[[Org], Kwargs]


@dataclass(frozen=True)
class Row:
    service: Callable[..., Any]
    writes: tuple[str, ...]  # the actions one successful call appends, each counted
    ok: Builder  # makes what the call needs; returns the call's keyword arguments
    refused: Builder | None  # a call the service must refuse (None: see `because`)
    case: str = ""  # tells several rows of one service apart
    # Why a row writes no entry, or has no refusal: required for either.
    because: str = ""

    @property
    def name(self) -> str:
        return f"{self.service.__module__}.{self.service.__name__}"

    @property
    def id(self) -> str:
        short = self.name.removeprefix("secman.").replace(".services.", ".")
        return f"{short}[{self.case}]" if self.case else short


# --- what the calls need -------------------------------------------------------------------

NOW = timezone.now
REVIEW = "logs.automated_review"  # daily duty, Systems Administration
MONITOR = "logs.anomaly_examination"  # weekly, designated
ESCROW = "keys.escrow_check"  # quarterly, four eyes
MANUAL = (b"# Security Manual\n\n## 4. Logical Security\n\nThis section is managed by the "
          b"Critical System Administration team.\n\n### 4.2 Logging\n\nLogs are kept.\n\n"
          b"#### 4.2.3 Automated logs\n\nLogs are reviewed daily.\n")


def today() -> dt.date:
    return timezone.localdate()


def approve(org: Org, kind: str, person: Person) -> None:
    proposal = people.propose_list_change(actor=org.bea, access_list=org.lists[kind],
                                          person=person, change="add", reason="test")
    people.approve_proposal(actor=org.tom, proposal=proposal, decision=org.decision)


def proposal(org: Org) -> Any:
    return people.propose_list_change(actor=org.bea, access_list=org.lists["ssh_access"],
                                      person=org.sid, change="add", reason="on call")


def case(org: Org, *, ruled: bool = False) -> Any:
    filed = arbitration.file_case(actor=org.cora, number=f"a{today():%Y%m%d}.1", title="A case",
                                filed_on=today(), arbitrator=org.arne, case_manager=org.cora)
    return rule(org, filed) if ruled else filed


def rule(org: Org, filed: Any) -> Any:
    return arbitration.update_case(actor=org.arne, case=filed, status="ruled",
                                 arbitrator=org.arne, case_manager=org.cora,
                                 ruled_on=today(), ruling_summary="Allowed.")


def task(org: Org) -> Any:
    return authority.request_signoff(actor=org.sam, action=TASK, title="Replace a disk",
                                     requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
                                     authority="SP 1.2")


def duties() -> dict[str, Duty]:
    started = NOW() - dt.timedelta(days=10)
    compliance.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    compliance.generate_occurrences()
    return {duty.control_id: duty for duty in Duty.objects.all()}


def overdue(control_id: str) -> Occurrence:
    duties()
    return Occurrence.objects.filter(duty__control_id=control_id, due_at__lte=NOW(),
                                     status=OccurrenceStatus.OPEN).order_by("due_at").first()


def escrow_occurrence() -> Occurrence:
    duties()
    occurrence = Occurrence.objects.filter(duty__control_id=ESCROW).order_by("due_at").first()
    occurrence.period_start = NOW() - dt.timedelta(days=1)
    occurrence.save()
    return occurrence


def escrow_waiting(org: Org) -> Occurrence:
    return compliance.complete_occurrence(actor=org.sam, occurrence=escrow_occurrence(),
                                          note="Envelopes seen, seals intact.")


def acceptance(org: Org) -> Any:
    return compliance.accept(actor=org.bea, control_id=REVIEW, kind="exception",
                             reason="server moved", authority=org.decision,
                             expires_on=today() + dt.timedelta(days=30))


def manual(org: Org) -> Document:
    documents.import_document(actor=None, data=MANUAL, filename="sm.md",
                              name="Security Manual", kind="manual")
    return Document.objects.get(name="Security Manual")


def draft(org: Org) -> Any:
    return documents.save_draft(actor=org.sam, document=manual(org), number="4.2.3",
                                title="Automated logs", text="Logs are reviewed twice a day.")


def submitted(org: Org) -> Any:
    drafted = draft(org)
    return drafted, documents.submit_draft(actor=org.sam, draft=drafted, authority="SP 1.4.2")


def system(org: Org, name: str = "web", *, status: str = "in_service",
           critical: bool = False) -> Any:
    """A system of the register, recorded by a Systems Administrator."""
    return systems.add_system(actor=org.sue, name=name, kind="physical", status=status,
                              criticality="critical" if critical else "infrastructure",
                              authority=org.decision if critical else "SP 3.2.2")


def flow(org: Org, *, approved: bool = False) -> Any:
    requested = systems.request_flow(actor=org.sue, system=system(org), direction="ingress",
                                     port=443, peer="ANY", purpose="the web site")
    return systems.decide_flow(actor=org.sam, flow=requested,
                               approve=True) if approved else requested
def infradocs_system(name: str) -> Any:
    """A system's document of the infrastructure documentation, parsed."""
    return parse_infradocs(f"{'=' * len(name)}\n{name}\n{'=' * len(name)}\n\n"
                           "Listening services\n------------------\n\n"
                           "+--------+---------+--------+---------+\n"
                           "| Port   | Service | Origin | Purpose |\n"
                           "+========+=========+========+=========+\n"
                           "| 22/tcp | ssh     | ANY    | admin   |\n"
                           "+--------+---------+--------+---------+\n",
                           source=f"infradocs/systems/{name}.rst")


def computer(org: Org, tag: str = "CA-0001", *, status: str = "in_service") -> Any:
    made = physical.create_computer(
        actor=org.axel, authority="SP 2.2.1.1", asset_tag=tag, nickname=f"n-{tag}",
        vendor="Acme", model="R1", serial_number=f"SN-{tag}",
        maintenance_contact="Acme support", rack_location="Rack 3, U12",
        intended_use="signing server", acquisition_notes="Sealed box from stock.")
    if status == "acquired":
        return made
    physical.inventory_computer(actor=org.axel, computer=made)
    if status == "inventoried":
        return made
    return physical.put_in_service(actor=org.axel, computer=made, legal_owner="Hosting Fdn")


def maintenance(org: Org) -> Any:
    request = physical.request_maintenance(actor=org.axel, computer=computer(org),
                                           work="replace a fan")
    authority.sign(actor=org.axel, request=request, slot="executor")
    return request


def media(org: Org, *, critical: bool) -> Any:
    return physical.register_media(
        actor=org.sam, serial_number="M-1", media_type="ssd", capacity_gb=500,
        location="safe", present=[org.sam, org.sue], steps_taken="erased, reformatted",
        erased_and_reformatted=True, critical_data=critical)


def store_step(org: Org, medium: Any, **changes: Any) -> Kwargs:
    return {"actor": org.sam, "media": medium, "to_status": "stored",
            "present": [org.sam, org.sue], "steps_taken": "erased and bagged",
            "location": "safe", "erased": True, **changes}


def media_signing(org: Org) -> Any:
    request = physical.change_media_status(**store_step(org, media(org, critical=True)))
    authority.sign(actor=org.sam, request=request)
    return request


def lists(org: Org) -> Org:
    """The physical lists: axel and abby control access, sam and sue may access."""
    for login in ("axel", "abby"):
        approve(org, "physical_control", org.people[login])
    for login in ("sam", "sue"):
        approve(org, "physical_access", org.people[login])
    return org


def visit(org: Org, *, stage: str = "authorised") -> Any:
    lists(org)
    requested = visits.request_visit(actor=org.sam, purpose="Replace a disk",
                                     systems="signer1",
                                     window_start=NOW() - dt.timedelta(hours=1),
                                     window_end=NOW() + dt.timedelta(hours=3))
    if stage == "requested":
        return requested
    authorised = visits.authorise_visit(actor=org.axel, visit=requested, reference="MoU B")
    if stage == "authorised":
        return authorised
    visits.check_in(actor=org.axel, visit=authorised, people=[org.axel, org.sam])
    if stage == "on_site":
        return authorised
    visits.check_out(actor=org.axel, visit=authorised, people=[org.axel, org.sam])
    if stage == "left":
        return authorised
    visits.file_report(actor=org.sam, visit=authorised, kind="accessor", text="Disk done.")
    if stage == "one_report":
        return authorised
    visits.file_report(actor=org.axel, visit=authorised, kind="access_engineer",
                       text="Watched the disk swap.")
    return authorised


def emergency(org: Org) -> Kwargs:
    lists(org)
    return {"actor": org.sam, "purpose": "Power failure", "systems": "signer1",
            "circumstances": "The signer was down and could not wait.",
            "started_at": NOW() - dt.timedelta(hours=2),
            "ended_at": NOW() - dt.timedelta(hours=1), "people": [org.sam, org.axel]}


def linking(org: Org, *, ruled: bool) -> Kwargs:
    """An emergency access, its dispute assigned to the Arbitrator, ruled or not yet."""
    made = visits.record_emergency(**emergency(org))
    dispute = arbitration.update_case(actor=org.cora, case=made.case, status="running",
                                    arbitrator=org.arne, case_manager=org.cora)
    return {"actor": org.arne, "visit": made, "case": rule(org, dispute) if ruled else dispute}


def device(org: Org) -> Any:
    lists(org)
    return devices.register_device(actor=org.axel, kind="rack_key", label="Rack key 1",
                                  controlling_party="Hosting Fdn")


def holding(org: Org) -> Any:
    return devices.issue_device(actor=org.axel, device=device(org), holder=org.sam,
                               reference="MoU B")


def decision_kwargs(org: Org, actor: Person) -> Kwargs:
    return {"actor": actor, "minute_id": f"m{today():%Y%m%d}.7", "decided_on": today(),
            "title": "Hosting", "text": "The Board approves the hosting contract.",
            "votes": {org.bea: "aye", org.tom: "aye"}}


def report_job(org: Org) -> Any:
    return report_jobs.request_job(actor=org.bea, period=Period(today(), today()),
                                   format="oscal")


def synced() -> Kwargs:
    compliance.sync_duties(now=NOW() - dt.timedelta(days=10))
    return {}


def with_duties() -> Kwargs:
    duties()
    return {}


def lapsed(org: Org) -> Kwargs:
    """A four-eyes occurrence whose request expired before the second person signed."""
    request = escrow_waiting(org).signoff
    type(request).objects.filter(pk=request.pk).update(
        expires_at=NOW() - dt.timedelta(minutes=1))
    return {}


def sign_first(org: Org, request: Any) -> Any:
    authority.sign(actor=org.sam, request=request)
    return request


# --- the table -----------------------------------------------------------------------------

@functools.wraps(patches.report_patch)
def report_patch_to_the_list(**kwargs: Any) -> Any:
    """report_patch with the Systems Administration list configured (mail goes to
    Django's test outbox)."""
    with override_settings(SECMAN_SYSADMIN_LIST="sysadmins@example.org"):
        return patches.report_patch(**kwargs)


NO_ONE_TO_REFUSE = "it records what happened (a sign-in); there is no one to refuse"
ROUND = "run by the duties round, as nobody; there is no one to refuse"


def agent_system(*, token: bool = False) -> Any:
    system = System.objects.create(name="web", kind="vm")
    if token:
        agents.issue_token(actor=None, system=system, authority="SP 3.2.2")
    return system


def agent_report(system: str) -> bytes:
    # 443 listening and not documented: the first report's drift appears (one entry).
    return (b'{"agent_version": "1", "system": "%s", "collected_at": '
            b'"2026-12-03T10:00:00+00:00", "listening": [{"protocol": "tcp", "address": '
            b'"0.0.0.0", "port": 443, "process": "nginx"}]}' % system.encode())


def agent_token() -> str:
    return agents.issue_token(actor=None, system=agent_system(), authority="SP 3.2.2")


TABLE: list[Row] = [
    # people
    Row(people.create_person, ("people.person.create",),
        lambda o: {"actor": o.bea, "authority": "SP 9.1.3", "name": "Neu",
                   "email": "neu@example.org"},
        lambda o: {"actor": o.sue, "authority": "SP 9.1.3", "name": "Neu",
                   "email": "neu@example.org"}),
    Row(people.update_person, ("people.person.update",),
        lambda o: {"actor": o.bea, "person": o.sue, "authority": "SP 9.1.3",
                   "name": "Susanne"},
        lambda o: {"actor": o.sid, "person": o.sue, "authority": "SP 9.1.3", "name": "X"}),
    Row(people.add_member, ("people.team.join",),
        lambda o: {"actor": o.bea, "team": o.teams[TeamKind.SUPPORT], "person": o.nobody,
                   "authority": o.decision},
        lambda o: {"actor": o.sam, "team": o.teams[TeamKind.SUPPORT], "person": o.nobody,
                   "authority": o.decision}),
    # Leaving a critical team opens the SM 9.1.7 checklist (secman.privileged.checklists).
    Row(people.end_membership, ("people.team.leave", "privileged.checklist.open"),
        lambda o: {"actor": o.bea, "membership": Membership.objects.active().get(person=o.pim),
                   "authority": o.decision, "reason": "resigned"},
        lambda o: {"actor": o.sid, "membership": Membership.objects.active().get(person=o.pim),
                   "authority": o.decision, "reason": "resigned"}),
    Row(people.appoint_leader, ("people.team.appoint_leader",),
        lambda o: {"actor": o.bea, "team": o.teams[TeamKind.SUPPORT], "person": o.pim,
                   "authority": o.decision},
        lambda o: {"actor": o.pia, "team": o.teams[TeamKind.SUPPORT], "person": o.pim,
                   "authority": o.decision}),
    Row(people.propose_list_change, ("people.list.propose",),
        lambda o: {"actor": o.bea, "access_list": o.lists["ssh_access"], "person": o.sid,
                   "change": "add", "reason": "on call"},
        lambda o: {"actor": o.sue, "access_list": o.lists["ssh_access"], "person": o.sid,
                   "change": "add", "reason": "on call"}),
    Row(people.approve_proposal, ("people.list.approve",),
        lambda o: {"actor": o.tom, "proposal": proposal(o), "decision": o.decision},
        lambda o: {"actor": o.sam, "proposal": proposal(o), "decision": o.decision}),
    Row(people.reject_proposal, ("people.list.reject",),
        lambda o: {"actor": o.tom, "proposal": proposal(o), "decision": o.decision},
        lambda o: {"actor": o.sam, "proposal": proposal(o), "decision": o.decision}),
    Row(people.withdraw_proposal, ("people.list.withdraw",),
        lambda o: {"actor": o.bea, "proposal": proposal(o), "reason": "not needed"},
        lambda o: {"actor": o.sue, "proposal": proposal(o), "reason": "not needed"}),
    Row(accounts.issue_api_token, ("people.api_token.issue",),
        lambda o: {"actor": o.sue},
        lambda o: {"actor": people.create_person(actor=None, authority="SP 9.1.3",
                                                 name="No Login", email="nl@example.org")}),
    Row(accounts.record_login, ("login.succeeded",),
        lambda o: {"user": o.sue.user, "address": "127.0.0.1"}, None,
        because=NO_ONE_TO_REFUSE),
    Row(accounts.record_failed_login, ("login.failed",),
        lambda o: {"typed": "sue", "address": "127.0.0.1"}, None,
        because="it records a refused sign-in; there is no one to refuse"),
    Row(accounts.record_logout, ("logout",),
        lambda o: {"user": o.sue.user, "address": "127.0.0.1"}, None,
        because=NO_ONE_TO_REFUSE),
    Row(accounts.change_own_password, ("login.password_change",),
        lambda o: {"user": o.sue.user, "current": PASSWORD, "new": "a-new-long-phrase-2026"},
        lambda o: {"user": o.sue.user, "current": "not it", "new": "a-new-long-phrase-2026"}),
    Row(accounts.reset_password, ("login.password_reset",),
        lambda o: {"login": "sue", "new": "a-new-long-phrase-2026", "by_label": "operator"},
        lambda o: {"login": "nosuch", "new": "a-new-long-phrase-2026", "by_label": "x"}),
    # authority
    Row(authority.record_board_decision, ("authority.decision.record",),
        lambda o: decision_kwargs(o, o.bea), lambda o: decision_kwargs(o, o.sam)),
    Row(authority.confirm_board_decision, ("authority.decision.confirm",),
        lambda o: {"actor": o.tom,
                   "decision": authority.record_board_decision(**decision_kwargs(o, o.bea))},
        lambda o: {"actor": o.bea,
                   "decision": authority.record_board_decision(**decision_kwargs(o, o.bea))}),
    Row(arbitration.file_case, ("authority.case.file",),
        lambda o: {"actor": o.cora, "number": f"a{today():%Y%m%d}.1", "title": "A case",
                   "filed_on": today(), "arbitrator": o.arne, "case_manager": o.cora},
        lambda o: {"actor": o.sam, "number": f"a{today():%Y%m%d}.1", "title": "A case",
                   "filed_on": today()}),
    Row(arbitration.file_dispute, ("authority.case.file",),
        lambda o: {"actor": o.sam, "title": "A dispute", "circumstances": "what happened"},
        lambda o: {"actor": o.aud, "title": "A dispute", "circumstances": "what happened"}),
    Row(arbitration.update_case, ("authority.case.rule",),
        lambda o: {"actor": o.arne, "case": case(o), "status": "ruled", "arbitrator": o.arne,
                   "case_manager": o.cora, "ruled_on": today(), "ruling_summary": "Allowed."},
        lambda o: {"actor": o.cora, "case": case(o), "status": "ruled", "arbitrator": o.arne,
                   "case_manager": o.cora, "ruled_on": today(), "ruling_summary": "Allowed."},
        case="rule"),
    Row(arbitration.update_case, ("authority.case.update",),
        lambda o: {"actor": o.cora, "case": case(o), "status": "withdrawn",
                   "arbitrator": o.arne, "case_manager": o.cora},
        lambda o: {"actor": o.cora, "case": case(o, ruled=True), "status": "withdrawn",
                   "arbitrator": o.arne, "case_manager": o.cora},
        case="move"),
    Row(authority.request_signoff, ("signoff.request",),
        lambda o: {"actor": o.sam, "action": TASK, "title": "Replace a disk",
                   "requirement": dual_control(Role.SYSTEMS_ADMINISTRATOR),
                   "authority": "SP 1.2"},
        lambda o: {"actor": o.aud, "action": TASK, "title": "Replace a disk",
                   "requirement": dual_control(Role.SYSTEMS_ADMINISTRATOR),
                   "authority": "SP 1.2"}),
    Row(authority.sign, ("signoff.sign",),
        lambda o: {"actor": o.sam, "request": task(o)},
        lambda o: {"actor": o.axel, "request": task(o)}, case="first slot"),
    Row(authority.sign, ("signoff.sign", "signoff.complete"),
        lambda o: {"actor": o.sue, "request": sign_first(o, task(o))},
        lambda o: {"actor": o.sam, "request": sign_first(o, task(o))}, case="last slot"),
    Row(authority.withdraw_signoff, ("signoff.withdraw",),
        lambda o: {"actor": o.sam, "request": task(o), "reason": "done otherwise"},
        lambda o: {"actor": o.axel, "request": task(o), "reason": "done otherwise"}),
    # eventlog
    Row(checkpoints.change_origin, ("eventlog.origin.change",),
        lambda o: {"new": "ca.example.net/log", "authority": "SM 4.2.2", "actor": o.sam},
        lambda o: {"new": "ca.example.net/log", "authority": "SM 4.2.2", "actor": o.axel}),
    Row(checkpoints.rotate_key, ("eventlog.key.rotate",), lambda o: {}, None,
        because="the operator's command (secman eventlog keys rotate), as nobody; its one "
                "refusal is configuration (SECMAN_EVENTLOG_KEY_FILE), see tests/eventlog"),
    Row(checkpoints.write_checkpoint, (),
        lambda o: {"actor": o.sam}, lambda o: {"actor": o.axel},
        because="a checkpoint signs the log's head; an entry for it would move the head it "
                "signs (checkpoints are listed, verified and mailed on their own)"),
    Row(checkpoints.checkpoint_if_due, (), lambda o: {}, None,
        because="the scheduler's checkpoint (see write_checkpoint); " + ROUND),
    Row(checkpoints.import_checkpoint, (),
        lambda o: {"note_text": checkpoints.write_checkpoint().note, "source": "mail",
                   "actor": o.sam},
        lambda o: {"note_text": checkpoints.write_checkpoint().note, "source": "mail",
                   "actor": o.aud},
        because="a witness's copy checked against the log; the result is kept with it, "
                "and the log is not changed by reading it"),
    Row(retention.update_retention, ("eventlog.retention.update",),
        lambda o: {"actor": o.sam, "retention_class": "login", "minimum_days": 180,
                   "maximum_days": 365, "rule": "6 to 12 months", "restricted": True,
                   "authority": "SM 4.2.1"},
        lambda o: {"actor": o.axel, "retention_class": "login", "minimum_days": 180,
                   "maximum_days": 365, "rule": "6 to 12 months", "restricted": True,
                   "authority": "SM 4.2.1"}),
    Row(retention.place_hold, ("eventlog.hold.place",),
        lambda o: {"actor": o.arne, "case": case(o), "action_prefix": "visits."},
        lambda o: {"actor": o.sam, "case": case(o), "action_prefix": "visits."}),
    Row(retention.release_hold, ("eventlog.hold.release",),
        lambda o: {"actor": o.arne, "hold": retention.place_hold(actor=o.arne, case=case(o),
                                                                action_prefix="visits.")},
        lambda o: {"actor": o.cora, "hold": retention.place_hold(actor=o.arne, case=case(o),
                                                                action_prefix="visits.")}),
    Row(retention.purge, ("eventlog.purge",),
        lambda o: {"now": NOW() + dt.timedelta(days=3 * 366)},
        lambda o: {"before": NOW()}),
    # compliance
    Row(compliance.sync_duties, (), lambda o: {}, None,
        because="Duty rows mirror the duties declared in code; a change of schedule or "
                "performer is set_schedule or designate, with an entry. " + ROUND),
    Row(compliance.generate_occurrences, (), lambda o: synced(), None,
        because="occurrences follow from a duty's recorded schedule; completing, skipping "
                "and reopening them are entries. " + ROUND),
    Row(compliance.refresh_procedures, (), lambda o: with_duties(), None,
        because="copies the published manual text (published with an entry) into "
                "occurrences not yet due. " + ROUND),
    Row(compliance.set_schedule, ("compliance.duty.schedule",),
        lambda o: {"actor": o.sam, "duty": duties()[REVIEW], "schedule": "weekly",
                   "authority": "SM 4.2.3"},
        lambda o: {"actor": o.sue, "duty": duties()[REVIEW], "schedule": "weekly",
                   "authority": "SM 4.2.3"}),
    Row(compliance.designate, ("compliance.duty.designate",),
        lambda o: {"actor": o.sam, "duty": duties()[MONITOR], "person": o.sue,
                   "authority": "SM 5.2"},
        lambda o: {"actor": o.sue, "duty": duties()[MONITOR], "person": o.sue,
                   "authority": "SM 5.2"}),
    Row(compliance.complete_occurrence, ("compliance.duty.complete",),
        lambda o: {"actor": o.sam, "occurrence": overdue(REVIEW), "note": "all reviewed"},
        lambda o: {"actor": o.sam, "occurrence": overdue(REVIEW), "note": "  "},
        case="one person"),
    Row(compliance.complete_occurrence,
        ("signoff.request", "compliance.duty.perform", "signoff.sign"),
        lambda o: {"actor": o.sam, "occurrence": escrow_occurrence(), "note": "seals intact"},
        lambda o: {"actor": o.axel, "occurrence": escrow_occurrence(), "note": "seals intact"},
        case="four eyes"),
    Row(authority.sign, ("signoff.sign", "compliance.duty.complete", "signoff.complete"),
        lambda o: {"actor": o.sue, "request": escrow_waiting(o).signoff},
        lambda o: {"actor": o.axel, "request": escrow_waiting(o).signoff},
        case="completes a four-eyes duty"),
    Row(compliance.reopen_expired_signoffs, ("compliance.duty.reopen",),
        lambda o: lapsed(o), None, because=ROUND),
    Row(compliance.skip_occurrence, ("compliance.duty.skip",),
        lambda o: {"actor": o.sam, "occurrence": overdue(REVIEW), "reason": "server moved",
                   "authority": o.decision},
        lambda o: {"actor": o.sam, "occurrence": overdue(REVIEW), "reason": "server moved",
                   "authority": "SM 4.2.3"}),
    Row(compliance.attest, ("compliance.attest",),
        lambda o: {"actor": o.arne, "control_id": "staffing.background_checks",
                   "statement": "files reviewed", "authority": "SP 9.1.4"},
        lambda o: {"actor": o.bea, "control_id": "staffing.background_checks",
                   "statement": "files reviewed", "authority": "SP 9.1.4"}),
    Row(compliance.accept, ("compliance.accept",),
        lambda o: {"actor": o.bea, "control_id": REVIEW, "kind": "exception",
                   "reason": "server moved", "authority": o.decision,
                   "expires_on": today() + dt.timedelta(days=30)},
        lambda o: {"actor": o.sam, "control_id": REVIEW, "kind": "exception",
                   "reason": "server moved", "authority": o.decision,
                   "expires_on": today() + dt.timedelta(days=30)}),
    Row(compliance.withdraw_acceptance, ("compliance.accept.withdraw",),
        lambda o: {"actor": o.bea, "acceptance": acceptance(o), "authority": o.decision},
        lambda o: {"actor": o.sam, "acceptance": acceptance(o), "authority": o.decision}),
    Row(compliance.record_statuses, (),
        lambda o: {"results": evaluation.evaluate([control(REVIEW)])}, None,
        because="the day's status of each control, derived from records that are entries "
                "(kept for the trends). " + ROUND),
    Row(compliance.create_calendar_feed, ("compliance.calendar.create",),
        lambda o: {"actor": o.sam, "team": TeamKind.SYSTEMS_ADMINISTRATION},
        lambda o: {"actor": o.axel, "team": TeamKind.SYSTEMS_ADMINISTRATION}),
    Row(compliance.revoke_calendar_feed, ("compliance.calendar.revoke",),
        lambda o: {"actor": o.sam, "feed": compliance.create_calendar_feed(actor=o.sam)[0]},
        lambda o: {"actor": o.sue, "feed": compliance.create_calendar_feed(actor=o.sam)[0]}),
    # compliance: report jobs
    Row(report_jobs.request_job, (),
        lambda o: {"actor": o.bea, "period": Period(today(), today()), "format": "oscal"},
        lambda o: {"actor": o.sid, "period": Period(today(), today()), "format": "oscal"},
        because="a report is a read; its job row is a work queue item, deleted after a "
                "while (report_jobs.KEEP), not a record of the organisation"),
    Row(report_jobs.run_job, (),
        lambda o: {"job_id": report_job(o).pk},
        lambda o: {"job_id": report_job(o).pk + 1000},
        because="makes the file of a queued read (see request_job)"),
    Row(report_jobs.clean, (),
        lambda o: {"now": NOW() + report_jobs.KEEP + dt.timedelta(days=1)}
        if report_job(o) else {}, None,
        because="deletes old report jobs (see request_job). " + ROUND),
    # documents
    Row(documents.import_document, ("documents.import",),
        lambda o: {"actor": o.sam, "data": MANUAL, "filename": "sm.md",
                   "name": "Security Manual", "kind": "manual"},
        lambda o: {"actor": o.sue, "data": MANUAL, "filename": "sm.md",
                   "name": "Security Manual", "kind": "manual"}),
    Row(documents.save_draft, ("documents.draft.save",),
        lambda o: {"actor": o.sam, "document": manual(o), "number": "4.2.3",
                   "title": "Automated logs", "text": "Twice a day."},
        lambda o: {"actor": o.axel, "document": manual(o), "number": "4.2.3",
                   "title": "Automated logs", "text": "Twice a day."}),
    Row(documents.submit_draft, ("signoff.request", "documents.draft.submit", "signoff.sign"),
        lambda o: {"actor": o.sam, "draft": draft(o), "authority": "SP 1.4.2"},
        lambda o: {"actor": o.sue, "draft": draft(o), "authority": "SP 1.4.2"}),
    Row(authority.sign, ("signoff.sign", "documents.publish", "signoff.complete"),
        lambda o: {"actor": o.sue, "request": submitted(o)[1]},
        lambda o: {"actor": o.pim, "request": submitted(o)[1]},
        case="publishes a draft"),
    Row(documents.withdraw_draft, ("signoff.withdraw", "documents.draft.withdraw"),
        lambda o: {"actor": o.sam, "draft": submitted(o)[0]},
        lambda o: {"actor": o.sue, "draft": submitted(o)[0]}),
    Row(documents.delegate_editing, ("documents.delegate",),
        lambda o: {"actor": o.sam, "team": TeamKind.SYSTEMS_ADMINISTRATION, "person": o.sue},
        lambda o: {"actor": o.sue, "team": TeamKind.SYSTEMS_ADMINISTRATION, "person": o.sue}),
    Row(documents.revoke_delegation, ("documents.delegate.revoke",),
        lambda o: {"actor": o.sam, "delegation": documents.delegate_editing(
            actor=o.sam, team=TeamKind.SYSTEMS_ADMINISTRATION, person=o.sue)},
        lambda o: {"actor": o.sid, "delegation": documents.delegate_editing(
            actor=o.sam, team=TeamKind.SYSTEMS_ADMINISTRATION, person=o.sue)}),
    # physical
    Row(physical.record_facility, ("physical.facility.record",),
        lambda o: {"actor": o.axel, "name": "Main site", "authority": "SP 2.1",
                   "hosting_provider": "HostCo", "contract_references": "MoU 2026"},
        lambda o: {"actor": o.sue, "name": "Main site", "authority": "SP 2.1",
                   "hosting_provider": "HostCo", "contract_references": "MoU 2026"}),
    Row(physical.create_computer, ("physical.computer.acquire",),
        lambda o: {"actor": o.axel, "authority": "SP 2.2.1.1", "asset_tag": "CA-0002"},
        lambda o: {"actor": o.bea, "authority": "SP 2.2.1.1", "asset_tag": "CA-0002"}),
    Row(physical_imports.import_computers,
        ("physical.computer.acquire", "physical.computer.acquire", "physical.computer.import"),
        lambda o: {"actor": o.axel, "authority": "SP 2.2.1",
                   "rows": [(2, {"asset_tag": "CA-0002"}), (3, {"asset_tag": "CA-0003"})]},
        lambda o: {"actor": o.axel, "authority": "SP 2.2.1",
                   "rows": [(2, {"asset_tag": "CA-0002"}), (3, {"asset_tag": "CA-0002"})]}),
    Row(physical_imports.import_media, ("physical.media.provision", "physical.media.import"),
        lambda o: {"actor": o.sam, "present": [o.sam], "rows": [(2, {
            "serial_number": "M-1", "media_type": "ssd", "capacity_gb": 500,
            "description": "", "location": "safe", "critical_data": True})]},
        lambda o: {"actor": o.bea, "present": [o.sam], "rows": [(2, {
            "serial_number": "M-1", "media_type": "ssd", "capacity_gb": 500,
            "description": "", "location": "safe", "critical_data": True})]}),
    Row(physical.update_computer, ("physical.computer.update",),
        lambda o: {"actor": o.axel, "computer": computer(o), "authority": "SM 2.2.1",
                   "nickname": "renamed"},
        lambda o: {"actor": o.bea, "computer": computer(o), "authority": "SM 2.2.1",
                   "nickname": "renamed"}),
    Row(physical.inventory_computer, ("physical.computer.inventory",),
        lambda o: {"actor": o.axel, "computer": computer(o, status="acquired")},
        lambda o: {"actor": o.bea, "computer": computer(o, status="acquired")}),
    Row(physical.put_in_service, ("physical.computer.in_service",),
        lambda o: {"actor": o.axel, "computer": computer(o, status="inventoried"),
                   "legal_owner": "Hosting Fdn"},
        lambda o: {"actor": o.axel, "computer": computer(o, status="inventoried"),
                   "legal_owner": " "}),
    Row(physical.request_maintenance, ("signoff.request",),
        lambda o: {"actor": o.axel, "computer": computer(o), "work": "replace a fan"},
        lambda o: {"actor": o.axel, "computer": computer(o), "work": ""}),
    Row(authority.sign, ("signoff.sign", "physical.computer.maintenance", "signoff.complete"),
        lambda o: {"actor": o.sam, "request": maintenance(o)},
        lambda o: {"actor": o.bea, "request": maintenance(o)},
        case="starts maintenance"),
    Row(physical.record_service_risk, ("physical.computer.service_risk",),
        lambda o: {"actor": o.axel, "computer": computer(o), "reason": "remote service"},
        lambda o: {"actor": o.axel, "computer": computer(o), "reason": ""}),
    Row(physical.retire_computer, ("physical.computer.retire",),
        lambda o: {"actor": o.axel, "computer": computer(o), "reason": "end of life"},
        lambda o: {"actor": o.bea, "computer": computer(o), "reason": "end of life"}),
    Row(physical.register_media, ("physical.media.provision",),
        lambda o: {"actor": o.sam, "serial_number": "M-1", "media_type": "ssd",
                   "capacity_gb": 500, "location": "safe", "present": [o.sam, o.sue],
                   "steps_taken": "erased", "erased_and_reformatted": True},
        lambda o: {"actor": o.sam, "serial_number": "M-1", "media_type": "ssd",
                   "capacity_gb": 500, "location": "safe", "present": [o.sam, o.sue],
                   "steps_taken": "erased", "erased_and_reformatted": False}),
    Row(physical.change_media_status, ("physical.media.step",),
        lambda o: store_step(o, media(o, critical=False)),
        lambda o: store_step(o, media(o, critical=False), erased=False),
        case="no critical data"),
    Row(physical.change_media_status, ("signoff.request",),
        lambda o: store_step(o, media(o, critical=True)),
        lambda o: store_step(o, media(o, critical=True), actor=o.bea),
        case="critical data"),
    Row(authority.sign, ("signoff.sign", "physical.media.step", "signoff.complete"),
        lambda o: {"actor": o.sue, "request": media_signing(o)},
        lambda o: {"actor": o.axel, "request": media_signing(o)},
        case="completes a media step"),
    # systems (the register, SP 1.1, 1.2, 3.2; flows, SM 3.1.2, SP 3.1.1)
    Row(systems.add_system, ("systems.system.add",),
        lambda o: {"actor": o.sue, "name": "signer", "kind": "physical",
                   "criticality": "critical", "authority": o.decision},
        lambda o: {"actor": o.sue, "name": "signer", "kind": "physical",
                   "criticality": "critical", "authority": "SP 3.2.2"}),
    Row(systems.update_system, ("systems.system.update",),
        lambda o: {"actor": o.sue, "system": system(o), "authority": "SP 3.2.2",
                   "purpose": "web"},
        lambda o: {"actor": o.bea, "system": system(o), "authority": "SP 3.2.2",
                   "purpose": "web"}),
    Row(systems.set_administrators, ("systems.system.administrators",),
        lambda o: {"actor": o.sue, "system": system(o), "primary": o.sue, "secondary": o.sid,
                   "authority": "SP 1.2"},
        lambda o: {"actor": o.sue, "system": system(o), "primary": o.sue, "secondary": o.sue,
                   "authority": "SP 1.2"}),
    Row(systems.set_addresses, ("systems.system.addresses",),
        lambda o: {"actor": o.sue, "system": system(o), "authority": "SM 3.1.2",
                   "addresses": [{"network": "internal", "address": "10.0.0.1"}]},
        lambda o: {"actor": o.sue, "system": system(o), "authority": "SM 3.1.2",
                   "addresses": [{"network": "internal", "address": "10.0.0.300"}]}),
    Row(systems.set_dns_records, ("systems.system.dns",),
        lambda o: {"actor": o.sue, "system": system(o), "authority": "SM 3.1.2",
                   "records": [{"name": "www.example.org", "rtype": "A",
                                "content": "192.0.2.1"}]},
        lambda o: {"actor": o.sue, "system": system(o, critical=True), "authority": "SM 3.1.2",
                   "records": [{"name": "www.example.org", "rtype": "A",
                                "content": "192.0.2.1"}]}),
    Row(systems.record_installation, ("systems.system.install",),
        lambda o: {"actor": o.sue, "system": system(o, status="planned"),
                   "build_document": "web.rst", "disk_encryption": "enabled"},
        lambda o: {"actor": o.sue, "system": system(o, status="installed"),
                   "build_document": "web.rst", "disk_encryption": "enabled"}),
    Row(systems.record_inspection, ("systems.system.inspect",),
        lambda o: {"actor": o.sid, "system": system(o, status="installed"),
                   "notes": "only sshd listens"},
        lambda o: {"actor": o.sid, "system": system(o, status="planned"),
                   "notes": "only sshd listens"}),
    Row(systems.retire_system, ("systems.system.retire",),
        lambda o: {"actor": o.sue, "system": system(o), "reason": "replaced",
                   "authority": "SP 1.1"},
        lambda o: {"actor": o.sue, "system": system(o, critical=True), "reason": "replaced",
                   "authority": "SP 1.1"}),
    Row(systems.request_flow, ("systems.flow.request",),
        lambda o: {"actor": o.sue, "system": system(o), "direction": "egress", "port": 53,
                   "protocol": "udp", "peer": "10.0.0.1", "purpose": "DNS"},
        lambda o: {"actor": o.aud, "system": system(o), "direction": "egress", "port": 53,
                   "protocol": "udp", "peer": "10.0.0.1", "purpose": "DNS"}),
    Row(systems.decide_flow, ("systems.flow.approve",),
        lambda o: {"actor": o.sam, "flow": flow(o), "approve": True},
        lambda o: {"actor": o.sue, "flow": flow(o), "approve": True}, case="approve"),
    Row(systems.decide_flow, ("systems.flow.refuse",),
        lambda o: {"actor": o.sam, "flow": flow(o), "approve": False, "reason": "not needed"},
        lambda o: {"actor": o.sam, "flow": flow(o), "approve": False}, case="refuse"),
    Row(systems.end_flow, ("systems.flow.end",),
        lambda o: {"actor": o.sid, "flow": flow(o, approved=True), "reason": "moved"},
        lambda o: {"actor": o.aud, "flow": flow(o, approved=True), "reason": "moved"},
        case="end"),
    Row(systems.end_flow, ("systems.flow.withdraw",),
        lambda o: {"actor": o.sue, "flow": flow(o), "reason": "not needed"},
        lambda o: {"actor": o.sue, "flow": flow(o), "reason": ""}, case="withdraw"),
    # visits
    Row(visits.request_visit, ("visits.visit.request",),
        lambda o: {"actor": lists(o).sam, "purpose": "Replace a disk", "systems": "signer1",
                   "window_start": NOW(), "window_end": NOW() + dt.timedelta(hours=2)},
        lambda o: {"actor": lists(o).sid, "purpose": "Replace a disk", "systems": "signer1",
                   "window_start": NOW(), "window_end": NOW() + dt.timedelta(hours=2)}),
    Row(visits.authorise_visit, ("visits.visit.authorise",),
        lambda o: {"actor": o.axel, "visit": visit(o, stage="requested"), "reference": "B"},
        lambda o: {"actor": o.sam, "visit": visit(o, stage="requested"), "reference": "B"}),
    Row(visits.check_in, ("visits.visit.check_in",),
        lambda o: {"actor": o.axel, "visit": visit(o), "people": [o.axel, o.sam]},
        lambda o: {"actor": o.axel, "visit": visit(o), "people": [o.axel]}),
    Row(visits.check_out, ("visits.visit.check_out",),
        lambda o: {"actor": o.axel, "visit": visit(o, stage="on_site"),
                   "people": [o.axel, o.sam]},
        lambda o: {"actor": o.axel, "visit": visit(o, stage="on_site"), "people": [o.axel]}),
    Row(visits.file_report, ("visits.visit.report",),
        lambda o: {"actor": o.sam, "visit": visit(o, stage="left"), "kind": "accessor",
                   "text": "Disk done."},
        lambda o: {"actor": o.axel, "visit": visit(o, stage="left"), "kind": "accessor",
                   "text": "Disk done."}),
    Row(visits.close_visit, ("visits.visit.close",),
        lambda o: {"actor": o.axel, "visit": visit(o, stage="reported")},
        lambda o: {"actor": o.axel, "visit": visit(o, stage="one_report")}),
    Row(visits.record_emergency, ("authority.case.file", "visits.visit.emergency"),
        emergency, lambda o: {**emergency(o), "actor": o.pia}),
    Row(visits.link_ruling, ("visits.visit.link_ruling",),
        lambda o: linking(o, ruled=True), lambda o: linking(o, ruled=False)),
    Row(devices.register_device, ("visits.device.register",),
        lambda o: {"actor": lists(o).axel, "kind": "rack_key", "label": "Rack key 1",
                   "controlling_party": "Hosting Fdn"},
        lambda o: {"actor": lists(o).sue, "kind": "rack_key", "label": "Rack key 1",
                   "controlling_party": "Hosting Fdn"}),
    Row(devices.issue_device, ("visits.device.issue",),
        lambda o: {"actor": o.axel, "device": device(o), "holder": o.sam, "reference": "B"},
        lambda o: {"actor": o.axel, "device": device(o), "holder": o.sid, "reference": "B"}),
    Row(devices.return_device, ("visits.device.return",),
        lambda o: {"actor": o.axel, "holding": holding(o)},
        lambda o: {"actor": o.sid, "holding": holding(o)}),
    # systems
    Row(systems_imports.import_systems,
        ("systems.system.import", "systems.system.import", "systems.import"),
        lambda o: {"actor": o.sam, "parsed": [infradocs_system("web"),
                                              infradocs_system("infra02")]},
        lambda o: {"actor": o.sam, "parsed": [infradocs_system("web"),
                                              infradocs_system("web")]}),
    # systems: the network diagram (SP 3.1.1); auditors only read it
    Row(systems_diagram.draw_if_changed, ("systems.diagram.revise",),
        lambda o: {"actor": o.sam, "reason": "flow 1 approved"},
        lambda o: {"actor": o.aud, "reason": "flow 1 approved"}),
    Row(systems_diagram.redraw_after_change, ("systems.diagram.revise",),
        lambda o: {"reason": "flow 1 approved"}, None,
        because="secman itself draws, after a change has committed: nobody to refuse, and "
        "a drawing that fails is logged (the diagram control then reports it stale)"),
    # systems: the host agents
    Row(agents.issue_token, ("systems.agent.token_issue",),
        lambda o: {"actor": o.sam, "system": agent_system(), "authority": "SP 3.2.2"},
        lambda o: {"actor": o.pia, "system": agent_system(), "authority": "SP 3.2.2"}),
    Row(agents.revoke_token, ("systems.agent.token_revoke",),
        lambda o: {"actor": o.sam, "system": agent_system(token=True),
                   "authority": "SP 3.2.2"},
        lambda o: {"actor": o.pia, "system": agent_system(token=True),
                   "authority": "SP 3.2.2"}),
    Row(agents.receive_report, ("systems.agent.drift",),
        lambda o: {"token": agent_token(), "body": agent_report("web")},
        lambda o: {"token": agent_token(), "body": agent_report("forged")}),
    # privileged access: keys, accounts and admin origins (SM 3.4.3, 4.1.1, 9.1.7);
    # builders at the end of the file
    Row(privileged_keys.add_key, ("privileged.key.add",),
        lambda o: {"actor": o.sam, "person": o.sid, "public_key": SPARE_KEY,
                   "authority": "SM 3.4.3"},
        lambda o: {"actor": o.sam, "person": o.sid, "public_key": SPARE_KEY[:30],
                   "authority": "SM 3.4.3"}),
    Row(privileged_keys.block_key, ("privileged.key.block",),
        lambda o: {"actor": o.sam, "key": ssh_key(o), "reason": "left",
                   "authority": "SM 9.1.7"},
        lambda o: {"actor": o.aud, "key": ssh_key(o), "reason": "left",
                   "authority": "SM 9.1.7"}),
    Row(privileged_accounts.add_account, ("privileged.account.add",),
        lambda o: {"actor": o.sam, "system": patched_system(), "username": "sid",
                   "kind": "personal", "person": o.sid, "authority": "SM 3.4.3"},
        lambda o: {"actor": o.sam, "system": patched_system(), "username": "sid",
                   "kind": "service", "person": o.sid, "authority": "SM 3.4.3"}),
    Row(privileged_accounts.remove_account, ("privileged.account.remove",),
        lambda o: {"actor": o.sam, "account": account(o), "reason": "left",
                   "authority": "SM 3.4.3"},
        lambda o: {"actor": o.sam, "account": account(o), "reason": " ",
                   "authority": "SM 3.4.3"}),
    Row(privileged_accounts.add_origin, ("privileged.origin.add",),
        lambda o: {"actor": o.sam, "network": "192.0.2.0/28", "description": "office",
                   "authority": "SM 3.4.3"},
        lambda o: {"actor": o.sam, "network": "192.0.2.1/28", "description": "office",
                   "authority": "SM 3.4.3"}),
    Row(privileged_accounts.end_origin, ("privileged.origin.end",),
        lambda o: {"actor": o.sam, "origin": origin(o), "reason": "moved",
                   "authority": "SM 3.4.3"},
        lambda o: {"actor": o.bea, "origin": origin(o), "reason": "moved",
                   "authority": "SM 3.4.3"}),
    # systems: patches and configuration changes (SP 3.2.3, 3.2.3.1, SM 4.1.3); builders
    # at the end of the file
    Row(patches.propose_patch, ("systems.patch.propose",),
        lambda o: patch_kwargs(o), lambda o: {**patch_kwargs(o), "actor": o.bea}),
    Row(patches.approve_patch, ("systems.patch.approve",),
        lambda o: {"actor": o.sam, "patch": proposed_patch(o)},
        lambda o: {"actor": o.sue, "patch": proposed_patch(o)}),
    Row(patches.approve_patch, ("authority.case.file", "systems.patch.approve"),
        lambda o: {"actor": o.sam, "patch": applied_patch(o, emergency=True)},
        lambda o: {"actor": o.sid, "patch": applied_patch(o, emergency=True)},
        case="emergency"),
    Row(patches.instruct_remedial_action, ("authority.case.file", "systems.patch.remedial"),
        lambda o: {"actor": o.sam, "patch": applied_patch(o, emergency=True),
                   "instruction": "Roll back."},
        lambda o: {"actor": o.sam, "patch": proposed_patch(o), "instruction": "Roll back."}),
    Row(patches.withdraw_patch, ("systems.patch.withdraw",),
        lambda o: {"actor": o.sue, "patch": proposed_patch(o), "reason": "superseded"},
        lambda o: {"actor": o.sid, "patch": proposed_patch(o), "reason": "superseded"}),
    Row(patches.start_application, ("signoff.request", "signoff.sign"),
        lambda o: {"actor": o.sue, "patch": patches.approve_patch(
            actor=o.sam, patch=proposed_patch(o))},
        lambda o: {"actor": o.sue, "patch": proposed_patch(o)}),
    Row(report_patch_to_the_list, ("systems.patch.report",),
        lambda o: {"actor": o.sue, "patch": applied_patch(o)},
        lambda o: {"actor": o.bea, "patch": applied_patch(o)}),
    Row(patches.record_backup_after_patch, ("systems.patch.backup",),
        lambda o: {"actor": o.sue, "patch": applied_patch(o), "reference": "restic 4f2a"},
        lambda o: {"actor": o.sue, "patch": proposed_patch(o), "reference": "restic 4f2a"}),
    Row(patches.record_change, ("systems.change.record",),
        lambda o: {"actor": o.sue, "system": patched_system(), "summary": "sshd hardened",
                   "rcs_reference": "cacert-infra@4e1f0c2"},
        lambda o: {"actor": o.bea, "system": patched_system(), "summary": "sshd hardened",
                   "rcs_reference": "cacert-infra@4e1f0c2"}),
    # privileged access: schemes (SP 3.4.3), temporary grants (SP 4.1.1.1), secrets (SM 4.1.1)
    Row(privileged_schemes.document_scheme, ("privileged.scheme.document",),
        lambda o: scheme_kwargs(o), lambda o: scheme_kwargs(o, actor=o.aud)),
    Row(privileged_schemes.end_scheme, ("privileged.scheme.end",),
        lambda o: {"actor": o.sue, "scheme": a_scheme(o), "reason": "console removed",
                   "authority": "SP 3.4.3"},
        lambda o: {"actor": o.aud, "scheme": a_scheme(o), "reason": "console removed",
                   "authority": "SP 3.4.3"}),
    Row(privileged_grants.grant_access, ("privileged.grant.add",),
        lambda o: grant_kwargs(o), lambda o: grant_kwargs(o, actor=o.sue)),
    Row(privileged_grants.record_past_grant, ("privileged.grant.record_past",),
        lambda o: grant_kwargs(o, starts_at=timezone.now() - dt.timedelta(days=3),
                               ends_at=timezone.now() - dt.timedelta(days=1)),
        lambda o: grant_kwargs(o, starts_at=timezone.now() - dt.timedelta(days=3))),
    Row(privileged_grants.revoke_grant, ("privileged.grant.revoke",),
        lambda o: {"actor": o.sam, "grant": privileged_grants.grant_access(**grant_kwargs(o)),
                   "reason": "done", "authority": "SP 4.1.1.1"},
        lambda o: {"actor": o.sue, "grant": privileged_grants.grant_access(**grant_kwargs(o)),
                   "reason": "done", "authority": "SP 4.1.1.1"}),
    Row(privileged_secrets.register_secret, ("privileged.secret.add",),
        lambda o: {"actor": o.sue, "name": "web db password", "kind": "service_password",
                   "authority": "SM 4.1.1"},
        lambda o: {"actor": o.sue, "name": "db password=hunter2", "kind": "service_password",
                   "authority": "SM 4.1.1"}),
    Row(privileged_secrets.add_holder, ("privileged.secret.holder_add",),
        lambda o: {"actor": o.sue, "secret": a_secret(o), "person": o.sid,
                   "authority": "SM 4.1.1"},
        lambda o: {"actor": o.aud, "secret": a_secret(o), "person": o.sid,
                   "authority": "SM 4.1.1"}),
    Row(privileged_secrets.end_holding, ("privileged.secret.holder_end",),
        lambda o: {"actor": o.sue, "holding": a_holding(o), "reason": "moved team",
                   "authority": "SM 9.1.7"},
        lambda o: {"actor": o.aud, "holding": a_holding(o), "reason": "moved team",
                   "authority": "SM 9.1.7"}),
    Row(privileged_secrets.rotate_secret, ("privileged.secret.rotate",),
        lambda o: {"actor": o.sue, "secret": a_secret(o), "reason": "turnover",
                   "authority": "SM 4.1.1"},
        lambda o: {"actor": o.sue, "secret": a_secret(o), "reason": "whim",
                   "authority": "SM 4.1.1"}),
    Row(privileged_secrets.retire_secret, ("privileged.secret.retire",),
        lambda o: {"actor": o.sue, "secret": a_secret(o), "reason": "signer replaced",
                   "authority": "SM 4.1.1"},
        lambda o: {"actor": o.aud, "secret": a_secret(o), "reason": "signer replaced",
                   "authority": "SM 4.1.1"}),
    Row(privileged_secrets.mark_compromised, ("privileged.system.compromised",),
        lambda o: {"actor": o.sue, "system": system(o), "reason": "odd logins",
                   "authority": "SM 4.1.1"},
        lambda o: {"actor": o.aud, "system": system(o), "reason": "odd logins",
                   "authority": "SM 4.1.1"}),
    # privileged: removals of access and termination checklists (SM 3.4.4, 9.1.7); builders
    # at the end of the file
    Row(removals.remove_access, ("privileged.key.block", "people.list.propose",
                                 "privileged.checklist.open", "privileged.access.remove"),
        lambda o: removal_kwargs(o), lambda o: {**removal_kwargs(o), "actor": o.sue}),
    Row(removals.remove_access, ("privileged.checklist.open", "privileged.access.remove",
                                 "privileged.access.permanent"),
        lambda o: {"actor": o.pia, "person": o.pim, "event": "termination",
                   "reason": "Left.", "authority": "SM 3.4.4"},
        lambda o: {"actor": o.pia, "person": o.pim, "event": "termination",
                   "reason": " ", "authority": "SM 3.4.4"}, case="on no list"),
    Row(checklists.open_checklist, ("privileged.checklist.open",),
        lambda o: {"actor": o.pia, "person": o.pim, "team": o.teams["support"],
                   "trigger": "membership_ended"}, None,
        because="opened by secman itself from people's signals and from a removal, inside "
        "their transactions: the change it follows was allowed, nobody to refuse"),
    Row(checklists.complete_step, ("privileged.checklist.step",),
        lambda o: {"actor": o.pia, "step": leaver_step(o, 3), "evidence": "Analysed."},
        lambda o: {"actor": o.pia, "step": leaver_step(o, 3), "evidence": "  "}),
    Row(checklists.complete_keys_step_from_reports, ("privileged.checklist.step",),
        lambda o: {"actor": o.sue, "step": leaver_step(o, 1, reported=True)},
        lambda o: {"actor": o.sue, "step": leaver_step(o, 1)}),
    Row(checklists.close_checklist, ("privileged.checklist.close",),
        lambda o: {"actor": o.pia, "checklist": leaver_step(o, 1, all_done=True).checklist},
        lambda o: {"actor": o.pia, "checklist": leaver_step(o, 1).checklist}),
    # The systems' logs (SM 4.2.2): reading is for Systems Administrators, and recorded.
    Row(logs.search, ("logs.search",),
        lambda o: {"actor": o.sue, "search": logs.Search(host="web1")},
        lambda o: {"actor": o.bea, "search": logs.Search(host="web1")}),
    Row(logs.read_message, ("logs.read",),
        lambda o: {"actor": o.sue, "seq": log_message()},
        lambda o: {"actor": o.bea, "seq": log_message()}),
    Row(logs.read_evidence, ("logs.read",),
        lambda o: {"actor": o.sue, "anomaly": log_anomaly()},
        lambda o: {"actor": o.bea, "anomaly": log_anomaly()}),
    Row(logs.examine, ("logs.anomaly.dismiss",),
        lambda o: {"actor": o.sue, "anomaly": log_anomaly(), "outcome": "dismissed",
                   "reason": "bob mistyped his password"},
        lambda o: {"actor": o.ola, "anomaly": log_anomaly(), "outcome": "dismissed",
                   "reason": "not mine to examine"}),
    Row(logs.export, ("logs.export",),
        lambda o: {"actor": o.sue, "directory": export_directory(log_message())},
        lambda o: {"actor": o.bea, "directory": export_directory(log_message())}),
    Row(logs.purge, ("logs.purge",), lambda o: {"actor": o.sue}, lambda o: {"actor": o.bea}),
    # Their rules (SM 4.2.1, 5.2): data, changed by Systems Administrators under authority.
    Row(log_rules.add_class_rule, ("logs.class_rule.add",),
        lambda o: {"actor": o.sue, "values": {"log_class": "application", "programs": "myapp"},
                   "authority": "SM 4.2.1"},
        lambda o: {"actor": o.sue, "values": {"log_class": "application"},
                   "authority": "SM 4.2.1"}),
    Row(log_rules.change_class_rule, ("logs.class_rule.change",),
        lambda o: {"actor": o.sue, "rule": class_rule(), "authority": "SM 4.2.1",
                   "values": {"log_class": "application", "programs": "kernel"}},
        lambda o: {"actor": o.ola, "rule": class_rule(), "authority": "SM 4.2.1",
                   "values": {"log_class": "application", "programs": "kernel"}}),
    Row(log_rules.add_detection_rule, ("logs.detection_rule.add",),
        lambda o: {"actor": o.sue, "yaml_text": NEW_SIGMA_RULE, "authority": "SM 5.2"},
        lambda o: {"actor": o.sue, "yaml_text": "title: no detection", "authority": "SM 5.2"}),
    Row(log_rules.change_detection_rule, ("logs.detection_rule.change",),
        lambda o: {"actor": o.sue, "rule": detection_rule(), "authority": "SM 5.2",
                   "enabled": False},
        lambda o: {"actor": o.ola, "rule": detection_rule(), "authority": "SM 5.2",
                   "enabled": False}),
    # The backup register (SP/SM 4.3): jobs, sets made and verified by two, checks.
    Row(backups.add_job, ("backups.job.add",),
        lambda o: {"actor": o.sue, "system": patched_system(), "name": "database",
                   "kind": "operational", "frequency_days": 1, "authority": "SP 4.3.2"},
        lambda o: {"actor": o.pia, "system": patched_system(), "name": "database",
                   "kind": "operational", "frequency_days": 1, "authority": "SP 4.3.2"}),
    Row(backups.change_schedule, ("backups.job.schedule",),
        lambda o: {"actor": o.sue, "job": backup_job(o), "frequency_days": 30,
                   "authority": "SP 4.3.2"},
        lambda o: {"actor": o.sue, "job": backup_job(o), "frequency_days": 30,
                   "authority": "because"}),
    Row(backups.record_set, ("backups.set.record", "signoff.request", "signoff.sign"),
        lambda o: {"actor": o.sue, "job": backup_job(o), "label": "DR-1",
                   "methods": ["filesystem", "openpgp"]},
        lambda o: {"actor": o.sue, "job": backup_job(o), "label": "DR-1",
                   "methods": ["rot13"]}),
    Row(backups.start_verification, ("backups.set.verification", "signoff.request",
                                     "signoff.sign"),
        lambda o: {"actor": o.sue, "backup_set": made_set(o)},
        lambda o: {"actor": o.sue, "backup_set": made_set(o, second=False)}),
    Row(backups.store_set, ("backups.set.store",),
        lambda o: {"actor": o.sue, "backup_set": verified_set(o), "location": "rack 3"},
        lambda o: {"actor": o.sue, "backup_set": made_set(o), "location": "rack 3"}),
    Row(backups.check_openpgp, ("backups.set.openpgp_check",),
        lambda o: {"actor": o.sue, "backup_set": made_set(o), "sample": plain_sample()},
        lambda o: {"actor": o.pia, "backup_set": made_set(o), "sample": plain_sample()}),
    Row(backups.seal_envelope, ("backups.envelope.seal",),
        lambda o: {"actor": o.sue, "label": "keys", "seal": "A6, tape",
                   "secrets": [a_secret(o)], "custodian": o.bea, "location": "safe"},
        lambda o: {"actor": o.sue, "label": "keys", "seal": "A6, tape",
                   "secrets": [a_secret(o)], "custodian": o.sid, "location": "safe"}),
    Row(backups.check_envelope, ("backups.envelope.check",),
        lambda o: {"actor": o.bea, "envelope": an_envelope(o), "intact": True},
        lambda o: {"actor": o.pia, "envelope": an_envelope(o), "intact": True}),
    Row(backups.open_envelope, ("backups.envelope.open",),
        lambda o: {"actor": o.bea, "envelope": an_envelope(o), "authority": o.decision},
        lambda o: {"actor": o.bea, "envelope": an_envelope(o), "authority": "SM 4.3.7"}),
    Row(backups.open_examination, ("backups.examination.open",),
        lambda o: {"actor": o.sue, "backup_set": made_set(o), "case": running_case(o),
                   "purpose": "p", "extracted": "/etc", "extracted_to": "/tmp/x"},
        lambda o: {"actor": o.sue, "backup_set": made_set(o), "purpose": "p",
                   "extracted": "/etc", "extracted_to": "/tmp/x"}),
    Row(backups.open_examination, ("backups.examination.open", "authority.case.file"),
        lambda o: {"actor": o.sue, "backup_set": made_set(o), "emergency": True,
                   "purpose": "p", "extracted": "/etc", "extracted_to": "/tmp/x"},
        None, case="emergency", because="the refusal is the row above"),
    Row(backups.mark_cleaned, ("backups.examination.clean",),
        lambda o: {"actor": o.sue, "examination": an_examination(o), "cleaning": "shredded"},
        lambda o: {"actor": o.sue, "examination": an_examination(o), "cleaning": " "}),
    Row(backups.record_retention_decision, ("backups.retention.direct",),
        lambda o: {"actor": o.arne, "case": arbitrated_case(o), "account": "4711",
                   "direction": "delete"},
        lambda o: {"actor": o.cora, "case": arbitrated_case(o), "account": "4711",
                   "direction": "delete"}),
    Row(backups.carry_out_retention, ("backups.retention.carry_out",),
        lambda o: {"actor": o.pim, "decision": a_direction(o), "note": "deleted"},
        lambda o: {"actor": o.aud, "decision": a_direction(o), "note": "deleted"}),
    Row(backups.run_check, ("backups.check.failed",),
        lambda o: {"actor": o.sue, "job": backup_job(o, restic=True)},
        lambda o: {"actor": o.sue, "job": backup_job(o)}, case="no repository there"),
]


def backup_job(org: Org, restic: bool = False) -> Any:
    return backups.add_job(
        actor=org.sue, system=patched_system(), name=f"db{BackupJob.objects.count()}",
        kind="operational" if restic else "disaster_recovery", frequency_days=7,
        authority="SP 4.3.2",
        **({"restic_repository": "/nonexistent/repo",
            "restic_password_file": "/nonexistent/password"} if restic else {}))


def made_set(org: Org, second: bool = True) -> Any:
    from secman.authority.services import sign as sign_slot

    made = backups.record_set(actor=org.sam, job=backup_job(org), label="DR-1",
                              methods=["filesystem", "openpgp"])
    if second:
        sign_slot(actor=org.sid, request=made.made_signoff, slot="person 2")
    made.refresh_from_db()
    return made


def verified_set(org: Org) -> Any:
    from secman.authority.services import sign as sign_slot

    made = made_set(org)
    # A reference set: its storage needs no second encryption method.
    BackupJob.objects.filter(pk=made.job_id).update(kind="reference")
    started = backups.start_verification(actor=org.sam, backup_set=made)
    sign_slot(actor=org.sid, request=started.verify_signoff, slot="person 2")
    started.refresh_from_db()
    return started


def an_envelope(org: Org) -> Any:
    return backups.seal_envelope(actor=org.sue, label=f"keys {BackupJob.objects.count()}",
                                 seal="A6", secrets=[a_secret(org)], custodian=org.bea,
                                 location="safe")


def running_case(org: Org) -> Any:
    return arbitration.file_dispute(actor=org.sue, title="Read a backup",
                                    circumstances="An examination of a backup.")


def arbitrated_case(org: Org) -> Any:
    case = running_case(org)
    return arbitration.update_case(actor=org.cora, case=case, status="running",
                                   arbitrator=org.arne, case_manager=org.cora)


def a_direction(org: Org) -> Any:
    return backups.record_retention_decision(actor=org.arne, case=arbitrated_case(org),
                                             account="4711", direction="delete")


def an_examination(org: Org) -> Any:
    return backups.open_examination(actor=org.sue, backup_set=made_set(org),
                                    case=running_case(org), purpose="p", extracted="/etc",
                                    extracted_to="/tmp/x")


def plain_sample() -> Path:
    from django.conf import settings

    sample = Path(settings.DATA_DIR) / "sample.bin"
    sample.write_bytes(b"not an OpenPGP message\n")
    return sample

NEW_SIGMA_RULE = """title: su to root failed
name: su_failure
logsource: {product: linux}
detection:
  selection:
    program: su
    message|contains: FAILED SU
  condition: selection
level: medium
"""


def class_rule() -> Any:
    from secman.logs.models import ClassRule

    return ClassRule.objects.order_by("position").first()


def detection_rule() -> Any:
    from secman.logs.models import DetectionRule

    return DetectionRule.objects.get(name="sudo_failure")


def log_message() -> int:
    """One stored message (its batch signs the first checkpoint); its seq."""
    from secman.logs import ingest
    from tests.logs.support import line

    return ingest.store_lines([line("Accepted publickey for sue from 10.0.0.5")]).first_seq


def log_anomaly() -> Any:
    from secman.logs import ingest
    from secman.logs.models import Anomaly
    from tests.logs.support import line

    ingest.store_lines([line("3 incorrect password attempts", program="sudo")])
    return Anomaly.objects.order_by("-pk").first()


def export_directory(_seq: int) -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="secman-logs-export-")) / "bundle"

# Public functions of the services modules that are not in the table, each with why it is
# not a state change of its own. Reads and predicates answer without writing; a step
# changes state only inside a service of the table, whose row covers its entry.
NOT_A_STATE_CHANGE: dict[str, str] = {
    **{f"secman.authority.services.{name}": "a read or a predicate" for name in (
        "citable_decisions", "may_confirm_decision", "decisions_to_confirm", "open_slots",
        "slots_for", "signoff_summary", "may_withdraw_signoff")},
    "secman.authority.services.resolve_authority":
        "a step: makes the Authority row of a reference on its first citation, inside the "
        "citing service's transaction, whose entry names the reference",
    **{f"secman.compliance.services.{name}": "a read or a predicate" for name in (
        "may_perform", "may_plan", "may_skip", "may_accept", "evidence_path", "evidence_for",
        "feed_for_token")},
    **{f"secman.compliance.report.services.{name}": "a read or a predicate" for name in (
        "may_read_report", "may_see_job", "download_name", "job_file", "stalled")},
    "secman.compliance.report.services.reports_dir":
        "makes the reports directory if missing; no database row",
    "secman.compliance.report.services.start":
        "a step of request_job (run when it commits): starts run_job's process",
    **{f"secman.documents.services.{name}": "a read or a predicate" for name in (
        "may_import", "effective_owner", "is_delegate", "may_edit", "requirement_for",
        "section_to_tree", "version_to_tree")},
    "secman.documents.services.store_sections":
        "a step of import_document and of publishing (authority.sign), whose entries "
        "cover the sections it writes",
    "secman.eventlog.services.record": "writes the entry itself: what every row checks",
    "secman.eventlog.services.record_batch": "writes entries themselves, like record",
    "secman.eventlog.services.leaf_hex": "a hash",
    **{f"secman.eventlog.checkpoints.{name}": "a predicate (the second raises its refusal)"
       for name in ("may_store_witness", "require_witness_keeper")},
    **{f"secman.eventlog.retention.{name}": "a predicate" for name in (
        "may_set_retention", "may_place_hold", "may_release_hold")},
    **{f"secman.people.services.{name}": "a read or a check" for name in (
        "on_list", "check_can_join")},
    **{f"secman.physical.services.{name}": "a read or a predicate" for name in (
        "may_see_inventory", "sealed_past_expiry")},
    **{f"secman.visits.services.{name}": "a read or a check" for name in (
        "check_on_site",)},
    **{f"secman.systems.diagram.{name}": "a read: the register drawn, or the newest revision"
       for name in ("current_revision", "digest_of", "dot_source", "render_svg")},
    **{f"secman.systems.agents.{name}": "a read, a check or a hash" for name in (
        "report_limit_bytes", "hash_token", "live_token", "authenticate", "check_size",
        "parse_report")},
}

# --- incidents (SP/SM 5) and people's OpenPGP keys ----------------------------------------


def an_incident(org: Org, *, severity: str = "directed_probe", case: bool = False,
                reported: bool = False) -> Any:
    incident = incidents.open_incident(
        actor=org.sam, title=f"incident {Event.objects.count()}", description="seen",
        detection_level="application", severity=severity, systems=[patched_system()],
        file_case=case)
    if reported:
        incidents.publish_report(actor=org.sam, incident=incident, summary="s",
                                 audience=["sysadmins", "board"])
    return incident


def an_evidence_item(org: Org) -> Any:
    return incidents.add_evidence(actor=org.sam, incident=an_incident(org), label="disk",
                                  description="image", sha256="c" * 64, location="safe")


def a_response_step(org: Org, key: str) -> Any:
    incident = an_incident(org)
    incidents.choose_checklist(actor=org.sam, incident=incident, name="os_compromise")
    return incident.steps.get(key=key)


@functools.cache
def a_public_key() -> str:
    import tempfile

    import gnupg

    home = tempfile.mkdtemp(prefix="sk", dir="/tmp")
    keyring = gnupg.GPG(gnupghome=home)
    key = keyring.gen_key(keyring.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real="Key person", name_email="key@example.org", no_protection=True,
        expire_date=0))
    return str(keyring.export_keys(key.fingerprint))


TABLE += [
    Row(people.set_openpgp_key, ("people.person.openpgp_key",),
        lambda o: {"actor": o.sue, "person": o.sue, "armoured": a_public_key()},
        lambda o: {"actor": o.sue, "person": o.sue, "armoured": "not a key"}),
    Row(incidents.open_incident, ("incidents.incident.open",),
        lambda o: {"actor": o.sam, "title": "probe", "description": "seen",
                   "detection_level": "application", "severity": "directed_probe",
                   "systems": [patched_system()]},
        lambda o: {"actor": o.aud, "title": "probe", "description": "seen",
                   "detection_level": "application", "severity": "directed_probe",
                   "systems": [patched_system()]}),
    Row(incidents.open_incident, ("incidents.incident.open", "authority.case.file",
                                  "privileged.system.compromised"),
        lambda o: {"actor": o.sam, "title": "root", "description": "seen",
                   "detection_level": "application", "severity": "compromise",
                   "systems": [patched_system()], "file_case": True},
        lambda o: {"actor": o.sam, "title": "root", "description": "seen",
                   "detection_level": "application", "severity": "compromise",
                   "systems": [patched_system()]}, case="compromise"),
    Row(incidents.change_severity, ("incidents.incident.severity",),
        lambda o: {"actor": o.sam, "incident": an_incident(o), "severity": "automated_probe",
                   "reason": "a scanner"},
        lambda o: {"actor": o.sam, "incident": an_incident(o), "severity": "directed_probe",
                   "reason": "the same"}),
    Row(incidents.record_isolation, ("incidents.incident.isolate",),
        lambda o: {"actor": o.sam, "incident": an_incident(o), "how": "port shut"},
        lambda o: {"actor": o.sam, "incident": an_incident(o), "how": " "}),
    Row(incidents.escalate, ("incidents.incident.escalate", "authority.case.file"),
        lambda o: {"actor": o.sam, "incident": an_incident(o), "file_case": True},
        lambda o: {"actor": o.sam, "incident": an_incident(o)}),
    Row(incidents.bring_in_management, ("incidents.incident.management",),
        lambda o: {"actor": o.sue, "incident": an_incident(o), "person": o.sam},
        lambda o: {"actor": o.sue, "incident": an_incident(o), "person": o.sid}),
    Row(incidents.set_war_room, ("incidents.incident.war_room",),
        lambda o: {"actor": o.bea, "incident": an_incident(o), "war_room": "#room"},
        lambda o: {"actor": o.pim, "incident": an_incident(o), "war_room": "#room"}),
    Row(incidents.write_timeline, ("incidents.timeline.write",),
        lambda o: {"actor": o.arne, "incident": an_incident(o), "kind": "decision",
                   "text": "go"},
        lambda o: {"actor": o.arne, "incident": an_incident(o), "kind": "decision",
                   "text": " "}),
    Row(incidents.add_evidence, ("incidents.evidence.collect",),
        lambda o: {"actor": o.sue, "incident": an_incident(o), "label": "log",
                   "description": "auth.log", "sha256": "d" * 64, "location": "safe"},
        lambda o: {"actor": o.sue, "incident": an_incident(o), "label": "log",
                   "description": "auth.log", "sha256": "xyz", "location": "safe"}),
    Row(incidents.hand_over, ("incidents.evidence.hand_over",),
        lambda o: {"actor": o.sam, "evidence": an_evidence_item(o), "to": o.arne,
                   "location": "safe", "reason": "case", "sha256_checked": True},
        lambda o: {"actor": o.sam, "evidence": an_evidence_item(o), "to": o.pim,
                   "location": "safe", "reason": "case", "sha256_checked": True}),
    Row(incidents.archive_logs, ("incidents.incident.archive_logs", "eventlog.hold.place"),
        lambda o: {"actor": o.sue, "incident": an_incident(o, case=True),
                   "since": timezone.localdate()},
        lambda o: {"actor": o.sue, "incident": an_incident(o),
                   "since": timezone.localdate()}),
    Row(incidents.choose_checklist, ("incidents.checklist.add",),
        lambda o: {"actor": o.sue, "incident": an_incident(o), "name": "user_data"},
        lambda o: {"actor": o.sue, "incident": an_incident(o), "name": "recovery"}),
    Row(incidents.complete_step, ("incidents.step.done",),
        lambda o: {"actor": o.sue, "step": a_response_step(o, "vector"), "note": "ssh"},
        lambda o: {"actor": o.sue, "step": a_response_step(o, "isolate")}),
    Row(incidents.publish_report, ("incidents.report.publish",),
        lambda o: {"actor": o.sue, "incident": an_incident(o), "summary": "all well",
                   "audience": ["sysadmins", "board"]},
        lambda o: {"actor": o.sue, "incident": an_incident(o), "summary": "all well",
                   "audience": ["sysadmins"]}),
    Row(incidents.close, ("incidents.incident.close",),
        lambda o: {"actor": o.sue, "incident": an_incident(o, reported=True)},
        lambda o: {"actor": o.sue, "incident": an_incident(o)}),
]
def a_process(org: Org) -> Any:
    return recovery.record_process(
        actor=org.bea, name=f"process {Event.objects.count()}", description="d", core=True,
        max_outage_hours=48, rto_hours=27, authority=org.decision)


def an_exercise_step(org: Org) -> Any:
    if recovery.current_plan() is None:
        recovery.adopt_plan(actor=org.bea, steps=["notify", "recover"], authority=org.decision)
    exercise = recovery.start_exercise(actor=org.sam, processes=[a_process(org)],
                                       scenario="fire")
    return exercise.steps.get(position=1)


def a_key_person_designation(org: Org) -> Any:
    return recovery.designate_key_person(actor=org.bea, person=org.sid, role="sysadmin",
                                         authority=org.decision)


def key_persons_directory(org: Org, with_keys: bool = True) -> Kwargs:
    import tempfile

    designation = a_key_person_designation(org)
    if with_keys:
        people.set_openpgp_key(actor=org.sid, person=designation.person,
                               armoured=a_public_key())
    return {"actor": org.bea, "directory": Path(tempfile.mkdtemp(prefix="kp"))}


TABLE += [
    Row(recovery.record_process, ("recovery.process.record",),
        lambda o: {"actor": o.bea, "name": "Revocation", "description": "OCSP", "core": True,
                   "max_outage_hours": 48, "rto_hours": 27, "authority": o.decision},
        lambda o: {"actor": o.bea, "name": "Revocation", "description": "OCSP", "core": True,
                   "max_outage_hours": 48, "rto_hours": 27, "authority": "SM 6.2"}),
    Row(recovery.change_objectives, ("recovery.process.objectives",),
        lambda o: {"actor": o.bea, "process": a_process(o), "max_outage_hours": 30,
                   "rto_hours": 24, "authority": o.decision},
        lambda o: {"actor": o.bea, "process": a_process(o), "max_outage_hours": 20,
                   "rto_hours": 24, "authority": o.decision}),
    Row(recovery.adopt_plan, ("recovery.plan.adopt",),
        lambda o: {"actor": o.bea, "steps": ["notify", "converge"], "authority": o.decision},
        lambda o: {"actor": o.sam, "steps": ["notify", "converge"], "authority": o.decision}),
    Row(recovery.start_exercise, ("recovery.exercise.start",),
        lambda o: {"actor": o.sam, "processes": [an_exercise_step(o).exercise.processes
                                                 .get()], "scenario": "flood"},
        lambda o: {"actor": o.pim, "processes": [a_process(o)], "scenario": "fire"}),
    Row(recovery.complete_exercise_step, ("recovery.exercise.step",),
        lambda o: {"actor": o.sam, "step": an_exercise_step(o), "note": "all called"},
        lambda o: {"actor": o.pim, "step": an_exercise_step(o)}),
    Row(recovery.designate_key_person, ("recovery.key_person.designate",),
        lambda o: {"actor": o.bea, "person": o.sam, "role": "SA leader",
                   "authority": o.decision},
        lambda o: {"actor": o.sam, "person": o.sam, "role": "SA leader",
                   "authority": o.decision}),
    Row(recovery.end_designation, ("recovery.key_person.end",),
        lambda o: {"actor": o.bea, "designation": a_key_person_designation(o),
                   "authority": o.decision},
        lambda o: {"actor": o.bea, "designation": a_key_person_designation(o),
                   "authority": "SM 6.4"}),
    Row(recovery.export_key_persons, ("recovery.key_persons.export",),
        key_persons_directory,
        lambda o: key_persons_directory(o, with_keys=False)),
]
NOT_A_STATE_CHANGE.update({
    f"secman.recovery.services.{name}": "a read" for name in (
        "current_plan", "outcomes", "key_persons", "latest_contact_change", "list_context")})


def _git(path: Path, *args: str) -> None:
    import subprocess

    env = {"PATH": "/usr/bin:/bin", "HOME": str(path), "GIT_AUTHOR_NAME": "Dev",
           "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.org"}
    subprocess.run(["git", "-C", str(path), *args], env=env, check=True)


def a_git_repository() -> Path:
    """A real git repository: a baseline commit and a developer's commit after it."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="repo"))
    _git(path, "init", "-q", "-b", "main")
    for name in ("README", "fix.php"):
        (path / name).write_text(name, encoding="utf-8")
        _git(path, "add", name)
        _git(path, "commit", "-qm", name)
    return path


def code_host() -> Any:
    from secman.systems.models import System as _System

    return _System.objects.get_or_create(name="code", defaults={"kind": "vm"})[0]


def a_repository(org: Org) -> Any:
    return software.add_repository(actor=org.ola, name=f"repo{Event.objects.count()}",
                                   location=str(a_git_repository()), system=code_host(),
                                   baseline="HEAD~1")


def a_change(org: Org, *, stage: str = "submitted") -> Any:
    change = software.submit_change(actor=org.otto, repository=a_repository(org),
                                    title="fix", description="d", risk="low",
                                    base="HEAD~1", head="HEAD")
    if stage in ("assessed", "tested"):
        software.assess(actor=org.otto, change=change, guidelines_followed=True,
                        test_instructions="apply")
    if stage == "tested":
        software.review(actor=org.ola, change=change, commit=change.head)
        software.record_test(actor=org.otto, change=change, result="passed")
    return change


def a_release(org: Org) -> Any:
    change = a_change(org, stage="tested")
    return software.create_release(actor=org.otto, repository=change.repository, name="v1",
                                   commit=change.head)


TABLE += [
    Row(software.add_repository, ("software.repository.add",),
        lambda o: {"actor": o.ola, "name": "cacert", "location": str(a_git_repository()),
                   "system": code_host()},
        lambda o: {"actor": o.otto, "name": "cacert", "location": "/nonexistent",
                   "system": patched_system()}),
    Row(software.set_review_rule, ("software.review_rule.set",),
        lambda o: {"actor": o.ola, "risk": "high", "reviews": 3, "authority": "SP 7"},
        lambda o: {"actor": o.ola, "risk": "high", "reviews": 9, "authority": "SP 7"}),
    Row(software.submit_change, ("software.change.submit",),
        lambda o: {"actor": o.otto, "repository": a_repository(o), "title": "t",
                   "description": "d", "risk": "low", "base": "HEAD~1", "head": "HEAD"},
        lambda o: {"actor": o.otto, "repository": a_repository(o), "title": "t",
                   "description": "d", "risk": "low", "base": "HEAD", "head": "HEAD"}),
    Row(software.update_head, ("software.change.head",),
        lambda o: {"actor": o.otto, "change": _moved_change(o), "head": "HEAD"},
        lambda o: {"actor": o.otto, "change": a_change(o), "head": "HEAD"}),
    Row(software.review, ("software.change.review",),
        lambda o: {"actor": o.ola, "change": (c := a_change(o)), "commit": c.head},
        lambda o: {"actor": o.ola, "change": a_change(o), "commit": "0" * 40}),
    Row(software.assess, ("software.change.assess",),
        lambda o: {"actor": o.otto, "change": a_change(o), "guidelines_followed": True,
                   "test_instructions": "apply"},
        lambda o: {"actor": o.otto, "change": a_change(o), "guidelines_followed": True,
                   "test_instructions": ""}),
    Row(software.record_test, ("software.change.test",),
        lambda o: {"actor": o.otto, "change": a_change(o, stage="assessed"),
                   "result": "passed"},
        lambda o: {"actor": o.otto, "change": a_change(o), "result": "passed"}),
    Row(software.create_release, ("software.release.create",),
        lambda o: {"actor": o.otto, "repository": (c := a_change(o, stage="tested"))
                   .repository, "name": "v1", "commit": c.head},
        lambda o: {"actor": o.otto, "repository": (c := a_change(o, stage="assessed"))
                   .repository, "name": "v1", "commit": c.head}),
    Row(software.hand_over, ("software.release.hand_over", "signoff.request",
                             "signoff.sign"),
        lambda o: {"actor": o.otto, "release": a_release(o), "target": patched_system()},
        lambda o: {"actor": o.sam, "release": a_release(o), "target": patched_system()}),
]
TABLE += [
    Row(software.decide_test_account, ("software.test_account.grant",),
        lambda o: {"actor": o.otto, "system": code_host(), "member_name": "Mia",
                   "member_email": "mia@example.org", "assurer": True,
                   "checked": "100 points", "grant": True},
        lambda o: {"actor": o.otto, "system": code_host(), "member_name": "Mia",
                   "member_email": "mia@example.org", "assurer": False,
                   "checked": "asked", "grant": True}),
    Row(software.decide_test_account, ("software.test_account.refuse",),
        lambda o: {"actor": o.otto, "system": code_host(), "member_name": "Mia",
                   "member_email": "mia@example.org", "assurer": False,
                   "checked": "no points", "grant": False},
        None, case="refused", because="the refusal is the row above"),
]
NOT_A_STATE_CHANGE.update({
    f"secman.software.services.{name}": "a read" for name in (
        "reviews_needed", "reviews_of_head", "ready", "unreviewed_commits")})


def _moved_change(org: Org) -> Any:
    """A change whose head is one commit behind the repository's."""
    change = a_change(org)
    _git(Path(change.repository.location), "commit", "-q", "--allow-empty", "-m", "more")
    return change


def a_support_case(org: Org) -> Any:
    return arbitration.file_case(actor=org.cora, number=f"a20261201.{Event.objects.count()}",
                                 title="support", filed_on=dt.date(2026, 12, 1),
                                 arbitrator=org.arne, case_manager=org.cora)


def a_support_channel(org: Org) -> Any:
    return support.record_channel(actor=org.pia, name=f"support {Event.objects.count()}",
                                  kind="mail", address="support@example.org", logged=True,
                                  logging="archive")


def a_query(org: Org, approved: bool = False) -> Any:
    query = support.request_query(actor=org.pim, purpose="count", query="SELECT 1",
                                  case=a_support_case(org))
    if approved:
        support.decide_query(actor=org.arne, query=query, approve=True)
    return query


def a_triage_member(org: Org) -> Any:
    return support.appoint_triage(actor=org.pia, name="Tia", email="tia@example.org",
                                  assurer=True, agreed_at=dt.date(2026, 11, 1))


TABLE += [
    Row(support.record_channel, ("support.channel.record",),
        lambda o: {"actor": o.pia, "name": "support@", "kind": "mail",
                   "address": "support@example.org", "logged": True, "logging": "archive"},
        lambda o: {"actor": o.pim, "name": "support@", "kind": "mail",
                   "address": "support@example.org", "logged": True, "logging": "archive"}),
    Row(support.issue_instruction, ("support.instruction.issue",),
        lambda o: {"actor": o.arne, "case": a_support_case(o), "member": "m@example.org",
                   "instruction": "lock the account"},
        lambda o: {"actor": o.arne, "case": a_support_case(o), "member": " ",
                   "instruction": "lock the account"}),
    Row(support.perform_action, ("support.action",),
        lambda o: {"actor": o.pim, "member": "m@example.org", "kind": "lookup",
                   "authority_kind": "member_request", "channel": a_support_channel(o),
                   "message_reference": "ticket 1", "interface": "admin console"},
        lambda o: {"actor": o.pim, "member": "m@example.org", "kind": "lookup",
                   "authority_kind": "", "interface": "admin console"}),
    Row(support.perform_action, ("support.action",),
        lambda o: {"actor": o.pim, "member": "m@example.org", "kind": "role_grant",
                   "role": "lock_login", "authority_kind": "arbitrator",
                   "token": support.issue_instruction(
                       actor=o.arne, case=a_support_case(o), member="m@example.org",
                       instruction="lock").token, "interface": "admin console"},
        lambda o: {"actor": o.pim, "member": "m@example.org", "kind": "role_grant",
                   "role": "code_signing", "authority_kind": "member_request",
                   "channel": a_support_channel(o), "message_reference": "ticket 1",
                   "interface": "admin console"}, case="arbitrator"),
    Row(support.appoint_triage, ("support.triage.appoint",),
        lambda o: {"actor": o.pia, "name": "Tia", "email": "tia@example.org",
                   "assurer": True, "agreed_at": dt.date(2026, 11, 1)},
        lambda o: {"actor": o.pia, "name": "Tia", "email": "tia@example.org",
                   "assurer": False, "agreed_at": dt.date(2026, 11, 1)}),
    Row(support.end_triage, ("support.triage.end",),
        lambda o: {"actor": o.pia, "member": a_triage_member(o)},
        lambda o: {"actor": o.pim, "member": a_triage_member(o)}),
    Row(support.request_query, ("support.query.request",),
        lambda o: {"actor": o.pim, "purpose": "count", "query": "SELECT 1",
                   "case": a_support_case(o)},
        lambda o: {"actor": o.aud, "purpose": "count", "query": "SELECT 1",
                   "case": a_support_case(o)}),
    Row(support.decide_query, ("support.query.approve",),
        lambda o: {"actor": o.arne, "query": a_query(o), "approve": True},
        lambda o: {"actor": o.cora, "query": a_query(o), "approve": True}),
    Row(support.decide_query, ("support.query.refuse",),
        lambda o: {"actor": o.arne, "query": a_query(o), "approve": False},
        None, case="refused", because="the refusal is the row above"),
    Row(support.record_query_run, ("support.query.run",),
        lambda o: {"actor": o.sam, "query": a_query(o, approved=True), "rows": 3,
                   "result_handling": "mailed, deleted"},
        lambda o: {"actor": o.sam, "query": a_query(o), "rows": 3,
                   "result_handling": "mailed, deleted"}),
    Row(support.record_filing, ("support.filing",),
        lambda o: {"actor": o.pim, "request_reference": "ticket 1", "decision": "not_file",
                   "reason": "withdrawn"},
        lambda o: {"actor": o.pim, "request_reference": "ticket 1", "decision": "maybe",
                   "reason": "withdrawn"}),
]
NOT_A_STATE_CHANGE.update({
    "secman.incidents.services.warning_list": "a read: the addresses of the warning",
    "secman.incidents.services.appendix_readers": "a read: who a sensitive appendix is "
                                                  "encrypted to"})


def watched(model: Any) -> bool:
    """secman's own tables, and the logins and API tokens its services change."""
    config = model._meta.app_config
    return config.name.startswith("secman.") or config.label in {"auth", "authtoken"}


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table secman (and its logins) keeps, to compare before and
    after a refusal: a refusal changes nothing, not only the tables it is about."""
    return {model._meta.label: list(model._default_manager.order_by("pk").values_list())
            for model in apps.get_models() if watched(model)}


def appended_since(seq: int) -> list[Event]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


# --- the generic checks ----------------------------------------------------------------------


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
def test_a_success_writes_exactly_its_entries(org, row):
    kwargs = row.ok(org)
    before = last_seq()
    row.service(**kwargs)
    written = appended_since(before)
    assert Counter(e.action for e in written) == Counter(row.writes), row.id
    actor = kwargs.get("actor")
    if isinstance(actor, Person) and written:
        # The person who asked is named: at least by the entry of their own step.
        assert actor.pk in {e.actor_id for e in written}, row.id


@pytest.mark.parametrize("row", [r for r in TABLE if r.refused],
                         ids=[r.id for r in TABLE if r.refused])
def test_a_refusal_writes_nothing_and_changes_nothing(org, row):
    assert row.refused is not None
    kwargs = row.refused(org)
    before = every_row()
    # Refused: the services' own refusal; ValueError: a witness's note that is no note.
    with pytest.raises((Refused, ValueError)):
        row.service(**kwargs)
    after = every_row()
    assert after["eventlog.Event"] == before["eventlog.Event"], f"{row.id} wrote an entry"
    changed = sorted(label for label in before if before[label] != after[label])
    assert not changed, f"{row.id} was refused but changed {changed}"


def test_every_row_that_writes_nothing_or_refuses_nothing_says_why():
    for row in TABLE:
        if not row.writes or row.refused is None:
            assert row.because.strip(), f"{row.id}: say why (because=...)"
        else:
            assert not row.because, f"{row.id}: `because` is for rows without entries or " \
                                    "refusals"


# --- the meta-test: no service forgotten ---------------------------------------------------


# State changes split out of an app's services.py by size: the Event Log's checkpoints and
# keys, its retention, holds and purge; people's logins, passwords and API tokens; the
# visits app's register of codes and devices; Arbitration cases; the inventory's bulk
# import; the systems register's import of the infrastructure documentation, the network
# diagram's revisions, the host agents' tokens and reports, patches and changes.
SPLIT_SERVICES = {"secman.eventlog.checkpoints", "secman.eventlog.retention",
                  "secman.people.accounts", "secman.visits.devices",
                  "secman.authority.arbitration", "secman.physical.imports",
                  "secman.systems.imports", "secman.systems.diagram",
                  "secman.systems.agents", "secman.systems.patches",
                  "secman.privileged.keys", "secman.privileged.accounts",
                  "secman.privileged.schemes", "secman.privileged.grants",
                  "secman.privileged.secrets_register",
                  "secman.privileged.removals", "secman.privileged.checklists",
                  "secman.logs.rules"}


def services_modules() -> list[Any]:
    """Every module called `services` in secman, found by walking the package."""
    found = []
    for info in pkgutil.walk_packages(secman.__path__, prefix="secman."):
        if info.name.rsplit(".", 1)[-1] == "services" or info.name in SPLIT_SERVICES:
            found.append(importlib.import_module(info.name))
    return found


def public_functions() -> set[str]:
    names = set()
    for module in services_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            # Only the module's own functions: an imported one is counted where it is made.
            if not name.startswith("_") and function.__module__ == module.__name__:
                names.add(f"{module.__name__}.{name}")
    return names


def test_the_services_modules_are_the_ones_expected():
    """The walk finds every app's services (a broken walk would pass everything)."""
    assert {m.__name__ for m in services_modules()} >= {
        f"secman.{app}.services" for app in ("people", "authority", "eventlog", "compliance",
                                             "documents", "physical", "visits")
    } | {"secman.compliance.report.services"} | SPLIT_SERVICES


def test_every_public_service_is_in_the_table_or_said_not_to_change_state():
    in_table = {row.name for row in TABLE}
    public = public_functions()
    # Predicates (may_*, why_not_*: one per rule, asked by services and pages) read only.
    forgotten = sorted(name for name in public - in_table - set(NOT_A_STATE_CHANGE)
                       if not name.rsplit(".", 1)[-1].startswith(("may_", "why_not_")))
    assert not forgotten, (
        "services neither in TABLE nor in NOT_A_STATE_CHANGE (add a row: how to call it, "
        f"the entries it writes, how it is refused): {forgotten}")
    both = sorted(in_table & set(NOT_A_STATE_CHANGE))
    assert not both, f"in the table and said not to change state: {both}"
    stale = sorted((in_table | set(NOT_A_STATE_CHANGE)) - public)
    assert not stale, f"no longer public services: {stale}"


# --- builders for the systems rows (patches and configuration changes) ----------------------

NOT_A_STATE_CHANGE.update({
    f"secman.systems.patches.{name}": "a read or a check" for name in (
        "report_text", "patches_in", "summary", "last_quarter", "application_waiting")})


def patched_system() -> Any:
    from secman.systems.models import System

    return System.objects.get_or_create(name="webdb", defaults={"kind": "vm"})[0]


def patch_kwargs(org: Org, **extra: Any) -> Kwargs:
    return {"actor": org.sue, "advisory": "DSA-5678-1", "title": "openssl",
            "packages": ["openssl"], "systems": [patched_system()], **extra}


def proposed_patch(org: Org, **extra: Any) -> Any:
    return patches.propose_patch(**patch_kwargs(org, **extra))


def applied_patch(org: Org, *, emergency: bool = False) -> Any:
    """Applied under four eyes (Sue executes, Sid observes); a normal one approved
    first, an emergency one not (SP 3.2.3.1)."""
    patch = proposed_patch(org, emergency=emergency,
                           exploit="public remote exploit" if emergency else "")
    if not emergency:
        patch = patches.approve_patch(actor=org.sam, patch=patch)
    request = patches.start_application(actor=org.sue, patch=patch)
    authority.sign(actor=org.sid, request=request, slot="observer")
    return type(patch).objects.get(pk=patch.pk)


# --- builders for the privileged rows (keys, accounts, admin origins) ---------------------

SPARE_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxjqqqQBXDB6xDB/DcsizlAspBT80bBz7jif+cpGtsO "
             "spare1")
NOT_A_STATE_CHANGE.update({
    **{f"secman.privileged.keys.{name}": "a reader of its input, or a hash" for name in (
        "parse_public_key", "parse_fingerprint", "fingerprint_of")},
    "secman.privileged.accounts.parse_network": "a reader of its input",
})


def ssh_key(org: Org) -> Any:
    return privileged_keys.add_key(actor=org.sam, person=org.sid, public_key=SPARE_KEY,
                                   authority="SM 3.4.3")


def account(org: Org) -> Any:
    return privileged_accounts.add_account(actor=org.sam, system=patched_system(),
                                           username="postgres", kind="service",
                                           authority="SM 4.1.1")


def origin(org: Org) -> Any:
    return privileged_accounts.add_origin(actor=org.sam, network="198.51.100.0/24",
                                          description="office", authority="SM 3.4.3")


# --- builders for the privileged rows (schemes, grants, secrets) -----------------------------

NOT_A_STATE_CHANGE.update({
    **{f"secman.privileged.schemes.{name}": "a read or a check" for name in (
        "live_schemes", "schemes_url", "schemes_documented", "hop_in_service", "scheme_row")},
    **{f"secman.privileged.grants.{name}": "a read or a check" for name in (
        "grants_url", "active_grants", "is_active", "ended_at", "state",
        "ended_grant_keys_removed", "grant_row")},
    **{f"secman.privileged.secrets_register.{name}": "a read or a check" for name in (
        "secret_url", "refuse_values", "console_list", "on_console_list", "due_secrets",
        "live_holders", "secrets_rotated", "root_password_holders", "secret_row")},
})


def scheme_kwargs(org: Org, **extra: Any) -> Kwargs:
    return {"actor": org.sue, "system": system(org), "path": "console",
            "authenticates": "root password", "refused": "remote consoles",
            "authority": "SP 3.4.3", **extra}


def a_scheme(org: Org) -> Any:
    return privileged_schemes.document_scheme(**scheme_kwargs(org))


def grant_kwargs(org: Org, **extra: Any) -> Kwargs:
    return {"actor": org.sam, "person": org.otto, "system": system(org),
            "reason": "debugging", "ends_at": timezone.now() + dt.timedelta(days=1),
            "authority": "SP 4.1.1.1", **extra}


def a_secret(org: Org) -> Any:
    return privileged_secrets.register_secret(actor=org.sue, name="web db password",
                                              kind="service_password", authority="SM 4.1.1")


def a_holding(org: Org) -> Any:
    return privileged_secrets.add_holder(actor=org.sue, secret=a_secret(org), person=org.sid,
                                         authority="SM 4.1.1")
# --- builders for the privileged rows (removals and checklists) -------------------------------

NOT_A_STATE_CHANGE.update({
    "secman.backups.services.create_own_backup":
        "writes a file, not a register: its entries (made, failed) and its refusal are "
        "tested in tests/backups/test_own_backup.py, where the database is committed "
        "(SQLite's backup of the test's open transaction waits forever)",
    "secman.logs.services.require_reader": "a check: refuses whoever may not read the logs",
    "secman.logs.rules.classifier": "a read: the class rules compiled for the ingest",
    "secman.eventlog.checkpoints.companion_signer":
        "a step: the key that signs the systems' logs' checkpoints, inside logs.tree",
    "secman.privileged.checklists.keys_gone_from_reports": "a read of the agent reports",
    "secman.privileged.checklists.open_for_leader": "a read: Today's checklists"})


def removal_kwargs(org: Org) -> Kwargs:
    """Sid, on the SSH Access List, with one key."""
    from secman.authority.services import resolve_authority
    from secman.privileged.models import SshKey

    if not SshKey.objects.filter(person=org.sid).exists():
        approve(org, "ssh_access", org.sid)
        SshKey.objects.create(person=org.sid, fingerprint="SHA256:" + "D" * 43,
                              key_type="ssh-ed25519", authority=resolve_authority("SM 3.4.3"))
    return {"actor": org.sam, "person": org.sid, "event": "ruling", "reason": "Ruled.",
            "authority": "SM 3.4.4"}


def leaver_step(org: Org, number: int, *, reported: bool = False,
                all_done: bool = False) -> Any:
    """A step of Pim's checklist (his Support membership ended); `reported`: a system has
    reported since, without his keys; `all_done`: every step done."""
    from secman.privileged.models import ChecklistStep

    step = ChecklistStep.objects.filter(checklist__person=org.pim, number=number).first()
    if step is None:
        people.end_membership(actor=org.pia, membership=Membership.objects.active().get(
            person=org.pim, team__kind="support"), authority="SP 9.1.7", reason="Left.")
        step = ChecklistStep.objects.get(checklist__person=org.pim, number=number)
    if reported:
        body = (b'{"agent_version": "1", "system": "web", "collected_at": '
                b'"2026-12-03T10:00:00+00:00", "authorized_keys": []}')
        agents.receive_report(agent_token(), body)
    if all_done:
        for other in step.checklist.steps.all():
            checklists.complete_step(actor=org.pia, step=other, evidence="Done.")
    return step
