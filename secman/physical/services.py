"""Facility, computers and storage media: the only place that changes them. Every change
cites an authority and is one Event Log entry in the same transaction (SP 2.2.1: "List
must be subject to change control")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from secman.authority.models import SignOffRequest
from secman.authority.services import (
    AuthorityLike,
    request_signoff,
    resolve_authority,
    signoff_summary,
)
from secman.authority.signoff import dual_control, four_eyes, register
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.core.validation import (
    Refusal,
    check_text,
    check_unique,
    max_length,
    one_line,
    with_changes,
)
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator
from secman.physical.choices import ComputerStatus, MediaStatus, MediaType, RetirementMethod
from secman.physical.lifecycles import COMPUTER, MEDIA
from secman.physical.models import Computer, Facility, FacilityRevision, Media, MediaReport

MAINTENANCE = "physical.computer.maintenance"
MEDIA_STEP = "physical.media.step"
HARDWARE_ROLES = (Role.ACCESS_ENGINEER, Role.SYSTEMS_ADMINISTRATOR)


def may_see_inventory(person: Person | None) -> bool:
    """SP 2.2.1: the inventory is available to all Access Engineers and Systems
    Administrators; the Board and auditors read it too."""
    return holds_any(person, *HARDWARE_ROLES, Role.BOARD_MEMBER, Role.AUDITOR) or (
        is_administrator(person))


def why_not_see_inventory(person: Person | None) -> NotAllowed | None:
    """The refusal the inventory's pages and API give a reader who may not see it."""
    if may_see_inventory(person):
        return None
    return NotAllowed("the inventory is for Access Engineers, Systems Administrators, "
                      "the Board and auditors", section="SP 2.2.1")


def may_handle_hardware(person: Person | None) -> bool:
    """Record, inventory, maintain and retire computers and storage media (SP 2.2.1):
    Access Engineers and Systems Administrators."""
    return holds_any(person, *HARDWARE_ROLES)


def may_describe_facility(person: Person | None) -> bool:
    """Describe a facility (SP 2.1): Access Engineers or the Board."""
    return holds_any(person, Role.ACCESS_ENGINEER, Role.BOARD_MEMBER)


def _require_hardware_role(actor: Person | None, what: str) -> None:
    # None is the command line, whose operator already holds the server.
    if actor is not None and not may_handle_hardware(actor):
        raise NotAllowed(f"{what} is done by Access Engineers and Systems Administrators",
                         section="SP 2.2.1")


def _clean(model: type[Model], fields: dict[str, Any]) -> dict[str, Any]:
    """The fields stripped, each within the length and the characters its column of
    `model` allows (core.validation.check_text)."""
    cleaned = {key: value.strip() if isinstance(value, str) else value
               for key, value in fields.items()}
    check_text(model, cleaned)
    return cleaned


# --- facility (2.1) -----------------------------------------------------------------------


def record_facility(*, actor: Person | None, name: str, authority: AuthorityLike,
                    **fields: str) -> FacilityRevision:
    """Describe a facility anew; the previous description stays as history."""
    if actor is not None and not may_describe_facility(actor):
        raise NotAllowed("the facility is described by Access Engineers or the Board",
                         section="SP 2.1")
    unknown = set(fields) - set(FacilityRevision.FIELDS)
    if unknown:
        raise RuleViolation(f"unknown facility fields: {', '.join(sorted(unknown))}")
    fields = _clean(FacilityRevision, fields)
    name = name.strip()
    if not name or len(name) > max_length(Facility, "name"):
        raise RuleViolation("a facility needs a name of at most "
                            f"{max_length(Facility, 'name')} characters", field="name")
    check_text(Facility, {"name": name})
    if not fields.get("hosting_provider") or not fields.get("contract_references"):
        raise RuleViolation("name the hosting provider and the contract references (MoU, "
                            "hosting contract)", section="SP 2.1", field="hosting_provider")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        facility, created = Facility.objects.get_or_create(name=name)
        before = facility.current
        revision = FacilityRevision.objects.create(
            facility=facility, authority=authority_row, recorded_by=actor, **fields)
        changed = sorted(k for k in FacilityRevision.FIELDS
                         if before is None or getattr(before, k) != getattr(revision, k))
        if before is not None and not changed:
            raise RuleViolation("nothing changed: the description is the one recorded")
        record("physical.facility.record", actor=actor, authority=authority_row,
               subject=facility, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line",
               details={"facility": name, "new": created, "changed": changed,
                        "values": {k: getattr(revision, k) for k in changed}})
    return revision


# --- computers (2.2.1, 2.2.2) -------------------------------------------------------------

EDITABLE = (*Computer.INVENTORY_FIELDS, "asset_tag", "legal_owner", "acquisition_notes")


# What Computer declares unique (SP 2.2.1: each unit is uniquely identified).
COMPUTER_CLASHES = {
    "asset_tag": Refusal("asset tag {asset_tag} is already used: each unit is uniquely "
                         "identified", section="SP 2.2.1"),
    "computer_nickname_unique": Refusal("nickname {nickname} is already used",
                                        section="SP 2.2.1"),
    "computer_serial_unique": Refusal("serial number {serial_number} is already in the "
                                      "inventory", section="SM 2.2.1"),
}


def create_computer(*, actor: Person | None, authority: AuthorityLike, asset_tag: str,
                    facility: Facility | None = None, **fields: str) -> Computer:
    """Record a computer as acquired (SP 2.2.1.1: say how pre-acquisition risk was
    reduced in `acquisition_notes`)."""
    _require_hardware_role(actor, "recording hardware")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise RuleViolation(f"unknown computer fields: {', '.join(sorted(unknown))}")
    fields = _clean(Computer, {"asset_tag": asset_tag, **fields})
    if not fields["asset_tag"]:
        raise RuleViolation("a computer needs an asset tag", section="SP 2.2.1",
                            field="asset_tag")
    check_unique(Computer(**fields), COMPUTER_CLASHES)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        computer = Computer.objects.create(facility=facility, **fields)
        record("physical.computer.acquire", actor=actor, authority=authority_row,
               subject=computer, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line",
               details={k: v for k, v in fields.items() if v})
    return computer


def update_computer(*, actor: Person, computer: Computer, authority: AuthorityLike,
                    **changes: str) -> Computer:
    _require_hardware_role(actor, "changing the inventory")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise RuleViolation(f"cannot change {', '.join(sorted(unknown))}")
    if computer.status == ComputerStatus.RETIRED:
        raise RuleViolation("a retired computer's record is kept as it was")
    changes = _clean(Computer, changes)
    changed = {k: v for k, v in changes.items() if getattr(computer, k) != v}
    if not changed:
        raise RuleViolation("nothing to change: the values are the ones recorded")
    if computer.status != ComputerStatus.ACQUIRED:
        emptied = [k for k in Computer.INVENTORY_FIELDS if k in changed and not changed[k]]
        if emptied:
            raise RuleViolation(f"an inventoried computer keeps its {', '.join(emptied)}",
                                section="SM 2.2.1", field=emptied[0])
    check_unique(with_changes(computer, changed), COMPUTER_CLASHES)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        before = {k: getattr(computer, k) for k in changed}
        for key, value in changed.items():
            setattr(computer, key, value)
        computer.save(update_fields=list(changed))
        record("physical.computer.update", actor=actor, authority=authority_row,
               subject=computer, retention_class=RetentionClass.CONFIGURATION,
               details={"before": before, "after": changed})
    return computer


def _move(computer: Computer, *, actor: Person | None, to: ComputerStatus, authority: Any,
          action: str, details: dict[str, Any],
          signoffs: list[dict[str, Any]] | None = None) -> Computer:
    """The one way a computer changes status: along the COMPUTER lifecycle, with its
    entry."""
    computer = Computer.objects.select_for_update().get(pk=computer.pk)
    COMPUTER.check(computer.status, to)
    before = computer.status
    computer.status = to
    for key, value in details.pop("_set", {}).items():
        setattr(computer, key, value)
    computer.save()
    record(action, actor=actor, authority=authority, subject=computer,
           retention_class=RetentionClass.CONFIGURATION, signoffs=signoffs or (),
           actor_label="" if actor else "secman (last sign-off given)",
           details={"from": before, "to": str(to), **details})
    return computer


def inventory_computer(*, actor: Person, computer: Computer,
                       authority: AuthorityLike = "SM 2.2.1") -> Computer:
    _require_hardware_role(actor, "inventorying hardware")
    missing = computer.missing_inventory()
    if missing:
        raise RuleViolation(f"the inventory lacks {', '.join(missing)} for {computer}",
                            section="SM 2.2.1", field=missing[0])
    with transaction.atomic():
        return _move(computer, actor=actor, to=ComputerStatus.INVENTORIED,
                     authority=resolve_authority(authority),
                     action="physical.computer.inventory", details={})


def put_in_service(*, actor: Person, computer: Computer, legal_owner: str,
                   authority: AuthorityLike = "SP 2.2.1") -> Computer:
    """Computers are inventoried before they enter service (SP 2.2.1); legal ownership
    passes to the hosting organisation (SM 2.2.1)."""
    _require_hardware_role(actor, "putting hardware into service")
    computer = Computer.objects.get(pk=computer.pk)  # the caller's copy may be stale
    if computer.status == ComputerStatus.ACQUIRED:
        raise RuleViolation(f"{computer} is not inventoried: computers are inventoried "
                            "before being put into service", section="SP 2.2.1")
    if not legal_owner.strip():
        raise RuleViolation("name the legal owner from now on (the hosting organisation)",
                            section="SM 2.2.1", field="legal_owner")
    check_text(Computer, {"legal_owner": legal_owner.strip()})
    with transaction.atomic():
        return _move(computer, actor=actor, to=ComputerStatus.IN_SERVICE,
                     authority=resolve_authority(authority),
                     action="physical.computer.in_service",
                     details={"legal_owner": legal_owner.strip(),
                              "_set": {"legal_owner": legal_owner.strip()}})


def request_maintenance(*, actor: Person, computer: Computer, work: str,
                        authority: AuthorityLike = "SP 4.1") -> SignOffRequest:
    """Hardware maintenance needs four eyes (SP 4.1): an Access Engineer executes, an
    Access Engineer or Systems Administrator observes; the computer goes under
    maintenance when both have signed."""
    _require_hardware_role(actor, "hardware maintenance")
    computer = Computer.objects.get(pk=computer.pk)
    COMPUTER.check(computer.status, ComputerStatus.MAINTENANCE)  # before anyone signs
    if not work.strip():
        raise RuleViolation("say what maintenance is to be done", field="work")
    check_text(SignOffRequest, {"description": work.strip()}, {"description": "work"})
    return request_signoff(
        actor=actor, action=MAINTENANCE,
        title=one_line(f"Maintenance of {computer}: {work}", max_length(SignOffRequest, "title")),
        requirement=four_eyes(Role.ACCESS_ENGINEER, HARDWARE_ROLES), authority=authority,
        payload={"computer": computer.pk, "work": work.strip()})


def _maintenance_signed(request: SignOffRequest) -> None:
    computer = Computer.objects.get(pk=request.payload["computer"])
    _move(computer, actor=None, to=ComputerStatus.MAINTENANCE, authority=request.authority,
          action="physical.computer.maintenance", signoffs=signoff_summary(request),
          details={"work": request.payload["work"], "signoff_request": request.pk})


register(MAINTENANCE, "Hardware maintenance under four eyes (SP 4.1)", _maintenance_signed)


def record_service_risk(*, actor: Person, computer: Computer, reason: str,
                        authority: AuthorityLike = "SP 2.2.2") -> Computer:
    """SP 2.2.2: equipment that needs a service posing a security risk must be retired."""
    _require_hardware_role(actor, "recording a service need")
    if not reason.strip():
        raise RuleViolation("describe the service and its security risk", field="reason")
    check_text(Computer, {"retire_reason": reason.strip()}, {"retire_reason": "reason"})
    with transaction.atomic():
        return _move(computer, actor=actor, to=ComputerStatus.MUST_RETIRE,
                     authority=resolve_authority(authority),
                     action="physical.computer.service_risk",
                     details={"reason": reason.strip(),
                              "_set": {"retire_reason": reason.strip()}})


def retire_computer(*, actor: Person, computer: Computer, reason: str,
                    authority: AuthorityLike = "SP 2.2.2") -> Computer:
    _require_hardware_role(actor, "retiring hardware")
    if not reason.strip():
        raise RuleViolation("say why the computer is retired", field="reason")
    check_text(Computer, {"retire_reason": reason.strip()}, {"retire_reason": "reason"})
    if computer.media.exclude(status=MediaStatus.RETIRED).exists():
        raise RuleViolation(f"{computer} still holds storage media: store or retire them "
                            "first", section="SP 2.2.3.3")
    with transaction.atomic():
        return _move(computer, actor=actor, to=ComputerStatus.RETIRED,
                     authority=resolve_authority(authority),
                     action="physical.computer.retire",
                     details={"reason": reason.strip(),
                              "_set": {"retire_reason": reason.strip()}})


# --- media (2.2.3) ------------------------------------------------------------------------

# The largest value the capacity column holds on every database (PositiveIntegerField).
MAX_CAPACITY_GB = 2_147_483_647
# Dates end in 9999; a larger year would not fit the column on every database either.
LAST_EXPIRY_YEAR = 9999
REPORT_LIMITS = {"location": max_length(MediaReport, "location"),
                 "certificate": max_length(Media, "disposal_certificate")}


def _people(ids: list[int]) -> list[Person]:
    found = list(Person.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise RuleViolation("someone listed as present is not recorded in secman",
                            field="present")
    return found


def register_media(*, actor: Person | None, serial_number: str, media_type: str,
                   capacity_gb: int, location: str, present: list[Person],
                   steps_taken: str, erased_and_reformatted: bool,
                   critical_data: bool = True, description: str = "",
                   authority: AuthorityLike = "SP 2.2.3.1") -> Media:
    """Inventory new media on acquisition; it enters use only erased and reformatted
    (SP 2.2.3.1)."""
    _require_hardware_role(actor, "inventorying storage media")
    serial_number = serial_number.strip()
    if not serial_number:
        raise RuleViolation("a medium needs its serial number", field="serial_number")
    check_text(Media, {"serial_number": serial_number, "description": description.strip()})
    check_unique(Media(serial_number=serial_number), {"serial_number": Refusal(
        "serial number {serial_number} is already in the inventory", section="SP 2.2.3.1")})
    if media_type not in MediaType.values:
        raise RuleViolation(f"{media_type!r} is not a media type: use one of "
                            f"{', '.join(MediaType.values)}", field="media_type")
    if (not isinstance(capacity_gb, int) or isinstance(capacity_gb, bool)
            or not 0 < capacity_gb <= MAX_CAPACITY_GB):
        raise RuleViolation(f"capacity is a whole number of gigabytes above 0 and at most "
                            f"{MAX_CAPACITY_GB}", field="capacity_gb")
    if not erased_and_reformatted:
        raise RuleViolation("new storage media are securely erased and reformatted before "
                            "use", section="SP 2.2.3.1", field="erased_and_reformatted")
    _check_report(present, steps_taken, location)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        media = Media.objects.create(
            serial_number=serial_number, media_type=media_type, capacity_gb=capacity_gb,
            location=location.strip(), critical_data=critical_data,
            description=description.strip(), last_erased_at=timezone.now())
        report = MediaReport.objects.create(
            media=media, to_status=MediaStatus.PROVISIONED, steps_taken=steps_taken.strip(),
            location=location.strip(), erased=True, authority=authority_row,
            reported_by=actor)
        report.present.set(present)
        record("physical.media.provision", actor=actor, authority=authority_row,
               subject=media, retention_class=RetentionClass.CONFIGURATION,
               actor_label="" if actor else "secman command line",
               details={"serial_number": serial_number, "type": media_type,
                        "capacity_gb": capacity_gb, "location": media.location,
                        "critical_data": critical_data,
                        "present": [p.name for p in present], "steps": report.steps_taken})
    return media


def _check_report(present: list[Person], steps_taken: str, location: str) -> None:
    if not present:
        raise RuleViolation("name the Systems Administrators present", section="SM 2.2.3",
                            field="present")
    if not steps_taken.strip():
        raise RuleViolation("describe the steps taken", section="SM 2.2.3",
                            field="steps_taken")
    if not location.strip():
        raise RuleViolation("say where the medium is now", section="SM 2.2.3",
                            field="location")
    if len(location.strip()) > REPORT_LIMITS["location"]:
        raise RuleViolation(f"the location is longer than {REPORT_LIMITS['location']} "
                            "characters", section="SM 2.2.3", field="location")
    _clean(MediaReport, {"steps_taken": steps_taken, "location": location})


def _validate_step(media: Media, step: dict[str, Any]) -> None:
    to = step["to_status"]
    if media.status == MediaStatus.RETIRED and to == "destroyed":
        # Not a move: a sealed medium stays retired; its destruction is recorded on it.
        if media.retirement_method != RetirementMethod.SEALED:
            raise RuleViolation(f"{media} is retired already and not sealed")
        return
    if to == "destroyed":
        raise RuleViolation(
            f"this medium is {media.get_status_display()}: only a sealed, retired medium is "
            "destroyed later; to destroy it now, retire it with the method destroyed",
            section="SP 2.2.3.3", field="to_status")
    if to not in MediaStatus.values:
        raise RuleViolation(f"{to!r} is not a status of storage media", field="to_status")
    MEDIA.check(media.status, to)
    if to in (MediaStatus.IN_USE, MediaStatus.REUSED):
        computer = (Computer.objects.filter(pk=step["computer"]).first()
                    if step.get("computer") else None)
        if computer is None or computer.status in (ComputerStatus.ACQUIRED,
                                                   ComputerStatus.RETIRED):
            raise RuleViolation("name the critical system (an inventoried computer that is "
                                "not retired) it goes into: reuse only within critical "
                                "systems", section="SP 2.2.3.2", field="computer")
    if to == MediaStatus.STORED and not step.get("erased"):
        raise RuleViolation("drives kept for reuse are erased securely before storage",
                            section="SP 2.2.3.2", field="erased")
    if to == MediaStatus.RETIRED:
        method = step.get("method", "")
        if method not in RetirementMethod.values:
            raise RuleViolation("choose how it is retired: destroyed, licensed disposal, or "
                                "sealed until the data has expired (SM 2.2.3 order of "
                                "preference)", section="SP 2.2.3.3", field="method")
        if method == RetirementMethod.LICENSED_DISPOSAL and not step.get("certificate"):
            raise RuleViolation("give the disposal facility's certificate reference",
                                section="SP 2.2.3.3", field="certificate")
        if len(step.get("certificate", "")) > REPORT_LIMITS["certificate"]:
            raise RuleViolation("the certificate reference is longer than "
                                f"{REPORT_LIMITS['certificate']} characters",
                                section="SP 2.2.3.3", field="certificate")
        if method == RetirementMethod.SEALED:
            year = step.get("expiry_year")
            if (not isinstance(year, int) or isinstance(year, bool)
                    or not timezone.localdate().year <= year <= LAST_EXPIRY_YEAR):
                raise RuleViolation("give the year the data expires (this year or later, "
                                    f"up to {LAST_EXPIRY_YEAR})",
                                    section="SM 2.2.3", field="expiry_year")
            if not step.get("erased"):
                raise RuleViolation("sealed media are securely erased first",
                                    section="SP 2.2.3.3", field="erased")


def change_media_status(*, actor: Person, media: Media, to_status: str, present: list[Person],
                        steps_taken: str, location: str, computer: Computer | None = None,
                        erased: bool = False, method: str = "", certificate: str = "",
                        expiry_year: int | None = None,
                        authority: AuthorityLike = "SP 2.2.3") -> Media | SignOffRequest:
    """One step in a medium's life, with its report (SM 2.2.3). `to_status` "destroyed"
    finishes a sealed medium. Where the medium held critical data, the step waits for two
    Systems Administrators' sign-off (SP 2.2.3.3) and the request is returned."""
    _require_hardware_role(actor, "changing a medium's status")
    media = Media.objects.get(pk=media.pk)  # the caller's copy may be stale
    _check_report(present, steps_taken, location)
    step = {"to_status": to_status, "present": [p.pk for p in present],
            "steps_taken": steps_taken.strip(), "location": location.strip(),
            "computer": computer.pk if computer else None, "erased": bool(erased),
            "method": method, "certificate": certificate.strip(), "expiry_year": expiry_year}
    _validate_step(media, step)
    check_text(Media, {"disposal_certificate": step["certificate"]},
               {"disposal_certificate": "certificate"})
    resolve_authority(authority)  # refuse free text before anyone is asked to sign
    if media.critical_data:
        return request_signoff(
            actor=actor, action=MEDIA_STEP, requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
            title=f"{media}: {media.status} → {to_status}", authority=authority,
            description=steps_taken.strip(), payload={"media": media.pk, "step": step})
    with transaction.atomic():
        return _apply_step(media, step, actor=actor, authority=resolve_authority(authority))


def _apply_step(media: Media, step: dict[str, Any], *, actor: Person | None, authority: Any,
                request: SignOffRequest | None = None) -> Media:
    media = Media.objects.select_for_update().get(pk=media.pk)
    _validate_step(media, step)  # again: things may have changed while it waited
    before = media.status
    to = step["to_status"]
    now = timezone.now()
    media.location = step["location"]
    if step["erased"]:
        media.last_erased_at = now
    if to in (MediaStatus.IN_USE, MediaStatus.REUSED):
        media.computer_id = step["computer"]
    else:
        media.computer = None
    if to == "destroyed":
        media.retirement_method = RetirementMethod.DESTROYED
        media.destroyed_at = now
    else:
        media.status = to
    if to == MediaStatus.RETIRED:
        media.retirement_method = step["method"]
        media.disposal_certificate = step["certificate"]
        media.seal_expiry_year = step["expiry_year"]
        if step["method"] == RetirementMethod.DESTROYED:
            media.destroyed_at = now
    media.save()
    present = _people(step["present"])
    if request is not None:
        present = list({p.pk: p for p in [*present, *(s.person for s in request.signoffs.all())]}
                       .values())
    report = MediaReport.objects.create(
        media=media, from_status=before, to_status=media.status,
        steps_taken=step["steps_taken"], location=step["location"], erased=step["erased"],
        authority=authority, reported_by=actor, signoff=request)
    report.present.set(present)
    record("physical.media.step", actor=actor, authority=authority, subject=media,
           retention_class=RetentionClass.CONFIGURATION,
           signoffs=signoff_summary(request) if request else (),
           actor_label="" if actor else "secman (last sign-off given)",
           details={"from": before, "to": to, "present": sorted(p.name for p in present),
                    "steps": step["steps_taken"], "location": step["location"],
                    "erased": step["erased"], "method": step["method"],
                    "certificate": step["certificate"], "expiry_year": step["expiry_year"],
                    "computer": str(media.computer or "")})
    return media


def _media_signed(request: SignOffRequest) -> None:
    media = Media.objects.get(pk=request.payload["media"])
    _apply_step(media, request.payload["step"], actor=None, authority=request.authority,
                request=request)


register(MEDIA_STEP, "Storage media step signed by two Systems Administrators (SP 2.2.3.3)",
         _media_signed)


def sealed_past_expiry(today: dt.date | None = None) -> list[Media]:
    year = (today or timezone.localdate()).year
    return list(Media.objects.filter(status=MediaStatus.RETIRED,
                                     retirement_method=RetirementMethod.SEALED,
                                     destroyed_at__isnull=True, seal_expiry_year__lt=year))
