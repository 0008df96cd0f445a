"""Every change disaster recovery makes, each with its Event Log entry in the same
transaction; a refusal writes nothing (SP/SM 6, 10.1.1)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.authorities import AuthorityKind
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import TEXT_MAX, check_free_text, check_text
from secman.eventlog.models import Event, RetentionClass
from secman.eventlog.services import record
from secman.people import openpgp
from secman.people.models import Membership, Person
from secman.people.selectors import holds_any, may_see_key_persons
from secman.recovery.models import (
    BusinessProcess,
    Distribution,
    Exercise,
    ExerciseStep,
    KeyPerson,
    RecoveryPlan,
)
from secman.systems.models import System

# SM 6.3's plan, the first version's steps.
SM_PLAN = ["Notification goes to the Key Persons List",
           "The Board makes the initial assessment of the team needed and notifies it",
           "The Disaster Recovery team converges",
           "Planning and response"]
BOARD_ONLY = [AuthorityKind.BOARD_DECISION]


# --- who may -------------------------------------------------------------------------------


def may_read(person: Person | None) -> bool:
    """The processes, the plan and the exercises: everyone who holds a role."""
    return holds_any(person, *Role)


def may_maintain(person: Person | None) -> bool:
    """SM 6.1, 6.3, 6.4: the Board maintains the processes, the plan and the key persons."""
    return holds_any(person, Role.BOARD_MEMBER)


def may_run_exercise(person: Person | None) -> bool:
    """An exercise is run by the people a recovery needs: the Board, the team leaders and
    the Systems Administrators."""
    return holds_any(person, Role.BOARD_MEMBER, Role.TEAM_LEADER, Role.SYSTEMS_ADMINISTRATOR)


def _require(predicate: Any, actor: Person | None, what: str, section: str) -> None:
    if actor is not None and not predicate(actor):
        raise NotAllowed(what, section=section)


def _board_decision(authority: AuthorityLike, what: str) -> Any:
    return resolve_authority(authority, kinds=BOARD_ONLY, why=f"{what} is the Board's")


# --- business processes (SM 6.1, 6.2) -------------------------------------------------------


def _process_values(name: str, description: str, max_outage_hours: int,
                    rto_hours: int) -> dict[str, Any]:
    name, description = " ".join(name.split()), description.strip()
    if not name or not description:
        raise RuleViolation("a process needs a name and a description", field="name")
    check_text(BusinessProcess, {"name": name})
    check_free_text(description, label="the description", limit=TEXT_MAX, multiline=True,
                    field="description")
    if max_outage_hours < 1 or rto_hours < 1:
        raise RuleViolation("hours are whole numbers from 1", field="rto_hours")
    if rto_hours > max_outage_hours:
        raise RuleViolation("the recovery time objective is at most the maximum acceptable "
                            "outage", field="rto_hours")
    return {"name": name, "description": description, "max_outage_hours": max_outage_hours,
            "rto_hours": rto_hours}


def record_process(*, actor: Person | None, name: str, description: str, core: bool,
                   max_outage_hours: int, rto_hours: int, authority: AuthorityLike,
                   systems: Iterable[System] = (), people: Iterable[Person] = ()
                   ) -> BusinessProcess:
    _require(may_maintain, actor, "the business processes are maintained by the Board",
             "SM 6.1")
    values = _process_values(name, description, max_outage_hours, rto_hours)
    systems, people = list(systems), list(people)
    with transaction.atomic():
        authority_row = _board_decision(authority, "a business process")
        if BusinessProcess.objects.filter(name=values["name"]).exists():
            raise RuleViolation(f"a process named {values['name']!r} is recorded already",
                                field="name")
        process = BusinessProcess.objects.create(core=core, authority=authority_row, **values)
        process.systems.set(systems)
        process.people.set(people)
        record("recovery.process.record", actor=actor, authority=authority_row,
               subject=process, retention_class=RetentionClass.CONFIGURATION,
               details={**values, "core": core, "systems": [s.name for s in systems],
                        "people": [str(p) for p in people]})
    return process


def change_objectives(*, actor: Person | None, process: BusinessProcess, max_outage_hours: int,
                      rto_hours: int, authority: AuthorityLike) -> BusinessProcess:
    """SM 6.2: the recovery times are the Board's (a decision)."""
    _require(may_maintain, actor, "recovery times are set by the Board", "SM 6.2")
    _process_values(process.name, process.description, max_outage_hours, rto_hours)
    with transaction.atomic():
        authority_row = _board_decision(authority, "a recovery time")
        process = BusinessProcess.objects.select_for_update().get(pk=process.pk)
        before = {"max_outage_hours": process.max_outage_hours, "rto_hours": process.rto_hours}
        after = {"max_outage_hours": max_outage_hours, "rto_hours": rto_hours}
        if before == after:
            raise RuleViolation("these are its objectives already", field="rto_hours")
        process.max_outage_hours, process.rto_hours = max_outage_hours, rto_hours
        process.authority = authority_row
        process.save(update_fields=["max_outage_hours", "rto_hours", "authority"])
        record("recovery.process.objectives", actor=actor, authority=authority_row,
               subject=process, retention_class=RetentionClass.CONFIGURATION,
               details={"before": before, "after": after})
    return process


# --- the plan (SM 6.3) ---------------------------------------------------------------------


def current_plan() -> RecoveryPlan | None:
    return RecoveryPlan.objects.order_by("-version").first()


def adopt_plan(*, actor: Person, steps: Iterable[str],
               authority: AuthorityLike) -> RecoveryPlan:
    """A new version of the plan, under the Board's decision."""
    _require(may_maintain, actor, "the recovery plan is the Board's", "SM 6.3")
    steps = [" ".join(step.split()) for step in steps]
    steps = [step for step in steps if step]
    if not steps:
        raise RuleViolation("a plan has at least one step", field="steps")
    if len(steps) > 50 or any(len(step) > 300 for step in steps):
        raise RuleViolation("at most 50 steps of at most 300 characters", field="steps")
    with transaction.atomic():
        authority_row = _board_decision(authority, "the recovery plan")
        latest = current_plan()
        if latest is not None and latest.steps == steps:
            raise RuleViolation(f"version {latest.version} has these steps already",
                                field="steps")
        plan = RecoveryPlan.objects.create(version=(latest.version if latest else 0) + 1,
                                           steps=steps, authority=authority_row,
                                           adopted_by=actor)
        record("recovery.plan.adopt", actor=actor, authority=authority_row, subject=plan,
               retention_class=RetentionClass.CONFIGURATION,
               details={"version": plan.version, "steps": steps})
    return plan


# --- exercises -----------------------------------------------------------------------------


def start_exercise(*, actor: Person, processes: Iterable[BusinessProcess], scenario: str,
                   real: bool = False, started_at: dt.datetime | None = None) -> Exercise:
    """Run the current plan, timed from `started_at` (now, or when an exercise held away
    from secman began)."""
    _require(may_run_exercise, actor, "exercises are run by the Board, the team leaders and "
             "the Systems Administrators", "SM 6.3")
    scenario = " ".join(scenario.split())
    processes = list(processes)
    if not scenario:
        raise RuleViolation("say what the exercise assumes happened", field="scenario")
    check_text(Exercise, {"scenario": scenario})
    if not processes:
        raise RuleViolation("name the processes it recovers", field="processes")
    now = timezone.now()
    started_at = started_at or now
    if started_at > now:
        raise RuleViolation("an exercise cannot start in the future", field="started_at")
    plan = current_plan()
    if plan is None:
        raise RuleViolation("the Board has adopted no recovery plan yet (SM 6.3)")
    with transaction.atomic():
        exercise = Exercise.objects.create(plan=plan, scenario=scenario, real=real,
                                           started_at=started_at, started_by=actor)
        exercise.processes.set(processes)
        ExerciseStep.objects.bulk_create([ExerciseStep(exercise=exercise, position=n,
                                                       title=title)
                                          for n, title in enumerate(plan.steps, 1)])
        record("recovery.exercise.start", actor=actor, authority=resolve_authority("SM 6.3"),
               subject=exercise, retention_class=RetentionClass.SYSTEM,
               details={"plan": plan.version, "scenario": scenario, "real": real,
                        "started_at": started_at,
                        "processes": [p.name for p in processes]})
    return exercise


@dataclass(frozen=True)
class Outcome:
    process: BusinessProcess
    hours: float
    met: bool


def outcomes(exercise: Exercise) -> list[Outcome]:
    hours = exercise.hours
    if hours is None:
        return []
    return [Outcome(process, hours, hours <= process.rto_hours)
            for process in exercise.processes.all()]


def complete_exercise_step(*, actor: Person, step: ExerciseStep, at: dt.datetime | None = None,
                           note: str = "") -> ExerciseStep:
    """The next step done, at `at` (now, or when it was done): steps are done in order,
    each no earlier than the one before. The last one finishes the exercise, measured
    against each process's recovery time objective."""
    _require(may_run_exercise, actor, "exercises are run by the Board, the team leaders and "
             "the Systems Administrators", "SM 6.3")
    note = " ".join(note.split())
    check_free_text(note, label="the note", limit=500, multiline=False, field="note")
    now = timezone.now()
    at = at or now
    if at > now:
        raise RuleViolation("a step cannot be done in the future", field="at")
    with transaction.atomic():
        step = ExerciseStep.objects.select_for_update().select_related("exercise").get(
            pk=step.pk)
        exercise = step.exercise
        if step.done_at is not None:
            raise RuleViolation(f"step {step.position} is done already", field="at")
        previous = exercise.steps.filter(position__lt=step.position)
        if previous.filter(done_at__isnull=True).exists():
            raise RuleViolation("the steps are done in the plan's order: an earlier one is "
                                "not done", field="at")
        floor = max([exercise.started_at, *(done for done in previous.values_list(
            "done_at", flat=True) if done is not None)])
        if at < floor:
            raise RuleViolation(f"done before the step before it ({floor:%Y-%m-%d %H:%M})",
                                field="at")
        step.done_at, step.done_by, step.note = at, actor, note
        step.save(update_fields=["done_at", "done_by", "note"])
        details: dict[str, Any] = {"step": step.position, "title": step.title, "at": at,
                                   "minutes": round((at - floor).total_seconds() / 60),
                                   "note": note}
        if not exercise.steps.filter(done_at__isnull=True).exists():
            exercise.finished_at = at
            exercise.save(update_fields=["finished_at"])
            details["finished"] = {o.process.name: {"hours": round(o.hours, 2),
                                                    "rto_hours": o.process.rto_hours,
                                                    "met": o.met}
                                   for o in outcomes(exercise)}
        record("recovery.exercise.step", actor=actor, authority=resolve_authority("SM 6.3"),
               subject=exercise, retention_class=RetentionClass.SYSTEM, details=details)
    return step


# --- the Key Persons List (SM 6.4, 10.1.1) --------------------------------------------------


def designate_key_person(*, actor: Person | None, person: Person, role: str,
                         authority: AuthorityLike) -> KeyPerson:
    _require(may_maintain, actor, "the Board designates the key persons", "SM 6.4")
    role = " ".join(role.split())
    if not role:
        raise RuleViolation("say their part in a recovery", field="role")
    check_text(KeyPerson, {"role": role})
    with transaction.atomic():
        authority_row = _board_decision(authority, "designating a key person")
        if KeyPerson.objects.filter(person=person, ended_at__isnull=True).exists():
            raise RuleViolation(f"{person} is a key person already", field="person")
        designation = KeyPerson.objects.create(person=person, role=role,
                                               authority=authority_row)
        record("recovery.key_person.designate", actor=actor, authority=authority_row,
               subject=person, retention_class=RetentionClass.CONFIGURATION,
               details={"person": str(person), "role": role})
    return designation


def end_designation(*, actor: Person | None, designation: KeyPerson,
                    authority: AuthorityLike) -> KeyPerson:
    _require(may_maintain, actor, "the Board designates the key persons", "SM 6.4")
    with transaction.atomic():
        authority_row = _board_decision(authority, "ending a key person's designation")
        designation = KeyPerson.objects.select_for_update().get(pk=designation.pk)
        if designation.ended_at is not None:
            raise RuleViolation("this designation has ended already")
        designation.ended_at = timezone.now()
        designation.save(update_fields=["ended_at"])
        record("recovery.key_person.end", actor=actor, authority=authority_row,
               subject=designation.person, retention_class=RetentionClass.CONFIGURATION,
               details={"person": str(designation.person), "role": designation.role})
    return designation


def key_persons() -> list[KeyPerson]:
    return list(KeyPerson.objects.filter(ended_at__isnull=True).select_related("person"))


def latest_contact_change() -> dt.datetime | None:
    """When the list last changed: a key person's contact details or OpenPGP key, or a
    designation made or ended."""
    people = [str(k.person_id) for k in KeyPerson.objects.all()]
    designations = Event.objects.filter(
        action__in=["recovery.key_person.designate", "recovery.key_person.end"]).aggregate(
        newest=Max("recorded_at"))["newest"]
    keys = Event.objects.filter(action="people.person.openpgp_key", subject_id__in=people,
                                subject_type="people.person").aggregate(
        newest=Max("recorded_at"))["newest"]
    # A person's update changes the list only when it changed contact details (the entry
    # says which, never the values).
    contacts = [time for time, details in Event.objects.filter(
        action="people.person.update", subject_type="people.person", subject_id__in=people)
        .values_list("recorded_at", "details") if details.get("contact_details_changed")]
    return max([t for t in (designations, keys, *contacts) if t is not None], default=None)


def _teams(person: Person) -> str:
    return ", ".join(sorted(f"{m.team}{' (leader)' if m.is_leader else ''}"
                            for m in Membership.objects.active().filter(person=person)
                            .select_related("team")))


def list_context() -> dict[str, Any]:
    """What the exported list holds: each key person's contact details, the core
    processes with their objectives, and the plan's steps."""
    return {"made_at": timezone.now(),
            "rows": [(k, _teams(k.person)) for k in key_persons()],
            "processes": [(process, ", ".join(s.name for s in process.systems.all()))
                          for process in BusinessProcess.objects.filter(
                              retired_at__isnull=True, core=True)],
            "plan": current_plan()}


@dataclass(frozen=True)
class Export:
    distribution: Distribution
    paths: list[Path]


def export_key_persons(*, actor: Person | None, directory: Path) -> Export:
    """SM 6.4: the list as text and as a printable PDF, each one OpenPGP message to every
    key person's key, written to `directory`; the distribution is recorded. Refused while
    a key person has no key: they could not read their copy."""
    if actor is not None and not may_see_key_persons(actor):
        raise NotAllowed("the Key Persons List is exported by the Board or the Arbitrator",
                         section="SM 6.4")
    holders = key_persons()
    if not holders:
        raise RuleViolation("the Board has designated no key person (SM 6.4)")
    missing = [str(k.person) for k in holders if not k.person.openpgp_fingerprint]
    if missing:
        raise RuleViolation("no OpenPGP key is recorded for " + ", ".join(missing)
                            + ": record one on their page first")
    if not directory.is_dir():
        raise RuleViolation(f"{directory} is not a directory", field="directory")
    context = list_context()
    text = render_to_string("recovery/key_persons.txt", context)
    html = render_to_string("recovery/key_persons_print.html", context)
    import weasyprint

    pdf = weasyprint.HTML(string=html, url_fetcher=weasyprint.URLFetcher(
        allowed_protocols={"data"})).write_pdf()
    keys = [k.person.openpgp_key for k in holders]
    stamp = f"{context['made_at']:%Y%m%d-%H%M%S}"
    outputs = {directory / f"key-persons-{stamp}.txt.asc":
               openpgp.encrypt(text.encode(), keys),
               directory / f"key-persons-{stamp}.pdf.gpg":
               openpgp.encrypt(pdf, keys, armor=False)}
    for path in outputs:
        if path.exists():
            raise RuleViolation(f"{path} exists already", field="directory")
    with transaction.atomic():
        distribution = Distribution.objects.create(
            made_by=actor, sha256=hashlib.sha256(text.encode()).hexdigest(),
            recipients=[k.person.openpgp_fingerprint for k in holders],
            files=[path.name for path in outputs])
        record("recovery.key_persons.export", actor=actor,
               authority=resolve_authority("SM 6.4"), subject=distribution,
               retention_class=RetentionClass.CONFIGURATION,
               details={"sha256": distribution.sha256, "recipients": distribution.recipients,
                        "people": [str(k.person) for k in holders],
                        "files": distribution.files})
        for path, data in outputs.items():
            path.write_bytes(data)
    return Export(distribution, list(outputs))
