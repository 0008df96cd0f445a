"""The register of security codes and devices (SP/SM 2.3.5): keys, cards and codes,
who keeps the register, who holds what. Split from visits.services, which handles the
visits themselves."""


from __future__ import annotations

import re

from django.db import transaction

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import TeamKind
from secman.core.validation import check_text
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import is_board_member, leads
from secman.visits.choices import DeviceKind
from secman.visits.models import Device, Holding
from secman.visits.selectors import is_access_engineer, profile_of, why_not_authorised

# Clocks drift: a check-in typed on a phone may be a little ahead of the server.
from secman.visits.services import _fmt, _now, _text

# A run of digits in a code's label or notes is probably the code itself.
_CODE_LIKE = re.compile(r"\d{4,}")

def may_manage_register(person: Person | None) -> bool:
    """Access Engineers control the physical side; the Critical System Administration team
    leader manages chapter 2 of the manual; the Board oversees."""
    return bool(person) and (is_access_engineer(person) or is_board_member(person)
                             or leads(person, TeamKind.SYSTEMS_ADMINISTRATION))


def _why_not_manage(person: Person | None) -> NotAllowed | None:
    if may_manage_register(person):
        return None
    return NotAllowed("the register is kept by Access Engineers, the Critical System "
                      "Administration team leader and the Board", section="SM 2.3.5")


def _why_not_return(person: Person | None, holding: Holding) -> NotAllowed | None:
    """The holder records their own return; anyone else is keeping the register."""
    if person is not None and person.pk == holding.holder_id:
        return None
    return _why_not_manage(person)


def may_return_device(person: Person | None, holding: Holding) -> bool:
    """Record a return: the holder, or whoever keeps the register; once."""
    return holding.returned_at is None and _why_not_return(person, holding) is None


def _check_manager(actor: Person) -> None:
    refusal = _why_not_manage(actor)
    if refusal is not None:
        raise refusal


def _no_secret(kind: str, *texts: tuple[str, str]) -> None:
    if kind != DeviceKind.CODE:
        return
    for field, text in texts:
        if _CODE_LIKE.search(text):
            raise RuleViolation("this looks like a code's value: record that the code exists "
                                "and who knows it, never the code itself",
                                section="SM 2.3.5", field=field)


def register_device(
    *,
    actor: Person,
    kind: str,
    label: str,
    controlling_party: str,
    copies_permitted: bool = False,
    notes: str = "",
    authority: AuthorityLike = "SM 2.3.5",
) -> Device:
    _check_manager(actor)
    if kind not in DeviceKind.values:
        raise RuleViolation(f"{kind!r} is not a kind of device: use one of "
                            f"{', '.join(DeviceKind.values)}", field="kind")
    label = _text(label, "label", "a label saying what it is", Device)
    controlling_party = _text(controlling_party, "controlling_party",
                              "the controlling party", Device)
    notes = (notes or "").strip()
    check_text(Device, {"notes": notes})
    _no_secret(kind, ("label", label), ("notes", notes))
    if kind == DeviceKind.RACK_KEY and copies_permitted:
        raise RuleViolation("rack lock keys are registered and not permitted to be copied",
                            section="SM 2.3.5", field="copies_permitted")
    with transaction.atomic():
        if Device.objects.filter(label__iexact=label).exists():
            raise RuleViolation(f"a device labelled {label!r} is registered already",
                                field="label")
        authority_row = resolve_authority(authority)
        device = Device.objects.create(kind=kind, label=label,
                                       controlling_party=controlling_party,
                                       copies_permitted=copies_permitted, notes=notes,
                                       authority=authority_row)
        record("visits.device.register", actor=actor, authority=authority_row, subject=device,
               details={"kind": kind, "label": label, "controlling_party": controlling_party,
                        "copies_permitted": copies_permitted})
    return device


def issue_device(
    *,
    actor: Person,
    device: Device,
    holder: Person,
    reference: str,
    authority: AuthorityLike = "SM 2.3.5",
) -> Holding:
    """SP 2.3.5: everyone in possession of physical security codes and devices is
    authorised and documented."""
    _check_manager(actor)
    reference = _text(reference, "reference", "the authorisation reference", Holding,
                      "authorisation_reference")
    if profile_of(holder) is None:
        raise RuleViolation(f"{why_not_authorised(holder)}: everyone who holds codes and "
                            "devices is to be authorised", section="SP 2.3.5", field="holder")
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        current = list(device.holdings.current().select_related("holder"))
        if any(h.holder_id == holder.pk for h in current):
            raise RuleViolation(f"{holder} holds {device} already", field="holder")
        if current and not device.copies_permitted:
            raise RuleViolation(f"copies of {device} are not permitted and "
                                f"{current[0].holder} holds it: record its return first",
                                section="SM 2.3.5", field="holder")
        authority_row = resolve_authority(authority)
        holding = Holding.objects.create(device=device, holder=holder, issued_by=actor,
                                         authorisation_reference=reference,
                                         authority=authority_row)
        record("visits.device.issue", actor=actor, authority=authority_row, subject=device,
               details={"holder": holder.name, "holder_id": holder.pk,
                        "reference": reference})
    return holding


def return_device(*, actor: Person, holding: Holding) -> Holding:
    refusal = _why_not_return(actor, holding)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        holding = Holding.objects.select_for_update().select_related(
            "device", "holder").get(pk=holding.pk)
        if holding.returned_at is not None:
            raise RuleViolation(f"{holding.holder} returned {holding.device} on "
                                f"{_fmt(holding.returned_at)}", field="holding")
        holding.returned_at = _now()
        holding.returned_by = actor
        holding.save(update_fields=["returned_at", "returned_by"])
        record("visits.device.return", actor=actor, authority="SM 2.3.5",
               subject=holding.device,
               details={"holder": holding.holder.name, "holder_id": holding.holder_id})
    return holding
