"""`secman visits ...`: request, authorise, check in and out, report, close and record
emergency accesses; keep the codes & devices register. Every change is made as a person
(`--as LOGIN`) through visits.services, like the UI and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar, overload

import click
from rich.console import Console
from rich.table import Table

from secman.core.cli import refusals_as_errors, setup_django
from secman.people.cli_helpers import person

console = Console()
T = TypeVar("T")
WHEN = click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"])
as_option = click.option("--as", "login", required=True, metavar="LOGIN",
                         help="The login (or email) of the person acting.")


@overload
def _utc(value: dt.datetime) -> dt.datetime: ...
@overload
def _utc(value: None) -> None: ...


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value else None


def _visit(pk: int) -> Any:
    from secman.visits.models import Visit

    visit = Visit.objects.filter(pk=pk).first()
    if visit is None:
        raise click.ClickException(f"there is no visit #{pk}")
    return visit


def _device(label: str) -> Any:
    from secman.visits.models import Device

    device = Device.objects.filter(label__iexact=label).first()
    if device is None:
        raise click.ClickException(f"no device is labelled {label!r}")
    return device


def _run(action: Callable[[], T], done: str) -> T:
    result = refusals_as_errors(action)
    console.print(f"[green]{done}[/green]")
    return result


@click.group()
def visits() -> None:
    """Physical visits (SP/SM 2.3, 4.2.4) and security codes & devices (2.3.5)."""


@visits.command("list")
@click.option("--status", default=None, help="Only visits in this state.")
def list_(status: str | None) -> None:
    """List visits, newest first."""
    setup_django()
    from secman.visits.models import Visit

    rows = Visit.objects.prefetch_related("participants__person")
    if status:
        rows = rows.filter(status=status)
    table = Table(title="Physical visits")
    for column in ("#", "window (UTC)", "purpose", "people", "status"):
        table.add_column(column)
    for visit in rows:
        table.add_row(str(visit.pk) + (" (emergency)" if visit.is_emergency else ""),
                      f"{visit.window_start:%Y-%m-%d %H:%M} to {visit.window_end:%H:%M}",
                      visit.purpose[:50],
                      ", ".join(p.person.name for p in visit.participants.all()),
                      visit.get_status_display())
    console.print(table)


@visits.command()
@click.argument("visit_id", type=int)
def show(visit_id: int) -> None:
    """Show one visit: authorisation, people on site, reports."""
    setup_django()
    visit = _visit(visit_id)
    console.print(f"[bold]{visit}[/bold]: {visit.get_status_display()}")
    console.print(f"Purpose: {visit.purpose}\nSystems: {visit.systems}")
    if visit.is_emergency:
        console.print(f"Emergency access; dispute {visit.case.number}; ruling: "
                      f"{visit.ruling.number if visit.ruling else 'awaited'}")
    else:
        console.print(f"Authorisation: {visit.authorisation_reference or 'not yet'}")
    for p in visit.participants.select_related("person"):
        data = "does not access the data" if p.role == "access_engineer" else (
            "accesses the data" if p.accesses_data else "no logical access")
        out = f"{p.checked_out_at:%Y-%m-%d %H:%M}" if p.checked_out_at else "on site"
        console.print(f"  {p.person} ({p.get_role_display()}, {data}): "
                      f"in {p.checked_in_at:%Y-%m-%d %H:%M}, out {out}")
    for r in visit.reports.select_related("author"):
        console.print(f"  {r.get_kind_display()} by {r.author}: {r.text}")


@visits.command()
@as_option
@click.option("--purpose", required=True)
@click.option("--systems", required=True, help="The systems concerned.")
@click.option("--from", "start", type=WHEN, required=True, help="Window start, UTC.")
@click.option("--until", "end", type=WHEN, required=True, help="Window end, UTC.")
@click.option("--logical-access/--no-logical-access", default=True, show_default=True,
              help="Logical access to critical servers (needs a Systems Administrator).")
def request(login: str, purpose: str, systems: str, start: dt.datetime, end: dt.datetime,
            logical_access: bool) -> None:
    """Request a visit (SM 2.3.1)."""
    setup_django()
    from secman.visits import services

    visit = _run(lambda: services.request_visit(
        actor=person(login), purpose=purpose, systems=systems, window_start=_utc(start),
        window_end=_utc(end), logical_access=logical_access), "Visit requested.")
    click.echo(visit.pk)


@visits.command()
@click.argument("visit_id", type=int)
@as_option
@click.option("--reference", required=True, help="Where the authorisation is kept.")
@click.option("--authority", default="SM 2.3.1", show_default=True)
def authorise(visit_id: int, login: str, reference: str, authority: str) -> None:
    """Record a visit's authorisation (SM 2.3.1)."""
    setup_django()
    from secman.visits import services

    _run(lambda: services.authorise_visit(actor=person(login), visit=_visit(visit_id),
                                          reference=reference, authority=authority),
         "Visit authorised.")


def _people_step(name: str, done: str) -> click.Command:
    @click.argument("visit_id", type=int)
    @as_option
    @click.option("--person", "people", multiple=True, required=True, metavar="LOGIN",
                  help="A login or email; repeat for each person.")
    @click.option("--at", type=WHEN, default=None, help="UTC; default now.")
    def command(visit_id: int, login: str, people: tuple[str, ...],
                at: dt.datetime | None) -> None:
        setup_django()
        from secman.visits import services

        step = services.check_in if name == "check-in" else services.check_out
        _run(lambda: step(actor=person(login), visit=_visit(visit_id),
                          people=[person(p) for p in people], at=_utc(at)), done)

    command.__doc__ = ("Check people in; afterwards at least two authorised persons are on "
                       "site, an Access Engineer among them (SP 2.3)." if name == "check-in"
                       else "Check people out; those who stay still meet the on-site rule.")
    return visits.command(name)(command)


_people_step("check-in", "Checked in.")
_people_step("check-out", "Checked out.")


@visits.command()
@click.argument("visit_id", type=int)
@as_option
@click.option("--kind", type=click.Choice(["accessor", "access_engineer"]), required=True)
@click.option("--text", required=True, help="A short description of what was done.")
def report(visit_id: int, login: str, kind: str, text: str) -> None:
    """File the accessor's or the Access Engineer's report (SP 4.2.4)."""
    setup_django()
    from secman.visits import services

    _run(lambda: services.file_report(actor=person(login), visit=_visit(visit_id),
                                      kind=kind, text=text), "Report filed.")


@visits.command()
@click.argument("visit_id", type=int)
@as_option
def close(visit_id: int, login: str) -> None:
    """Close a visit with both reports; it is mailed to the systems administration list
    (SECMAN_SYSADMIN_LIST) if one is set."""
    setup_django()
    from django.db import transaction

    from secman.visits import services
    from secman.visits.notifications import close_mail_of

    with transaction.atomic():  # the mail leaves when this commits
        visit = _run(lambda: services.close_visit(actor=person(login),
                                                  visit=_visit(visit_id)), "Visit closed.")
    console.print(f"The close is {close_mail_of(visit)}.")


@visits.command()
@as_option
@click.option("--purpose", required=True)
@click.option("--systems", required=True)
@click.option("--circumstances", required=True, help="Why the access could not wait.")
@click.option("--started", type=WHEN, required=True, help="UTC.")
@click.option("--ended", type=WHEN, required=True, help="UTC.")
@click.option("--person", "people", multiple=True, required=True, metavar="LOGIN",
              help="A login or email; repeat for each person.")
@click.option("--logical-access/--no-logical-access", default=True, show_default=True)
def emergency(login: str, purpose: str, systems: str, circumstances: str,
              started: dt.datetime, ended: dt.datetime, people: tuple[str, ...],
              logical_access: bool) -> None:
    """Record an emergency access (SP 2.3.4): files a dispute for the Arbitrator."""
    setup_django()
    from secman.visits import services

    visit = _run(lambda: services.record_emergency(
        actor=person(login), purpose=purpose, systems=systems, circumstances=circumstances,
        started_at=_utc(started), ended_at=_utc(ended), people=[person(p) for p in people],
        logical_access=logical_access), "Emergency access recorded; dispute filed.")
    assert visit.case is not None  # an emergency access always files its dispute
    click.echo(f"{visit.pk} {visit.case.number}")


@visits.command("link-ruling")
@click.argument("visit_id", type=int)
@as_option
@click.option("--case", required=True, help="The ruled case, e.g. a20090525.1.")
def link_ruling(visit_id: int, login: str, case: str) -> None:
    """Link the ruling that authorises an emergency access after the fact."""
    setup_django()
    from secman.visits import services

    _run(lambda: services.link_ruling(actor=person(login), visit=_visit(visit_id),
                                      case=case), "Ruling linked.")


# --- codes and devices --------------------------------------------------------------------


@visits.group()
def devices() -> None:
    """The register of security codes and devices (SP/SM 2.3.5)."""


@devices.command("list")
def devices_list() -> None:
    """Every device with its current holders; unauthorised holders are flagged."""
    setup_django()
    from secman.visits.models import Device
    from secman.visits.selectors import why_not_authorised

    table = Table(title="Security codes and devices")
    for column in ("device", "kind", "controlled by", "copies", "held by"):
        table.add_column(column)
    for device in Device.objects.prefetch_related("holdings__holder"):
        holders = [h.holder for h in device.holdings.all() if h.returned_at is None]
        table.add_row(device.label, device.get_kind_display(), device.controlling_party,
                      "permitted" if device.copies_permitted else "not permitted",
                      ", ".join(f"{p}" + (" [NOT AUTHORISED]" if why_not_authorised(p) else "")
                                for p in holders) or "nobody")
    console.print(table)


@devices.command("add")
@as_option
@click.option("--kind", type=click.Choice(["rack_key", "access_card", "code", "other"]),
              required=True)
@click.option("--label", required=True, help="What it is; never a code's value.")
@click.option("--controlling-party", required=True)
@click.option("--copies-permitted", is_flag=True)
@click.option("--notes", default="")
@click.option("--authority", default="SM 2.3.5", show_default=True)
def devices_add(login: str, kind: str, label: str, controlling_party: str,
                copies_permitted: bool, notes: str, authority: str) -> None:
    """Register a code or device."""
    setup_django()
    from secman.visits.devices import register_device

    _run(lambda: register_device(
        actor=person(login), kind=kind, label=label, controlling_party=controlling_party,
        copies_permitted=copies_permitted, notes=notes, authority=authority), "Registered.")


@devices.command("issue")
@click.argument("label")
@as_option
@click.option("--holder", required=True, metavar="LOGIN", help="A login or email.")
@click.option("--reference", required=True, help="Where the authorisation is kept.")
@click.option("--authority", default="SM 2.3.5", show_default=True)
def devices_issue(label: str, login: str, holder: str, reference: str,
                  authority: str) -> None:
    """Issue a device (or tell a code) to an authorised person."""
    setup_django()
    from secman.visits.devices import issue_device

    _run(lambda: issue_device(actor=person(login), device=_device(label),
                                       holder=person(holder), reference=reference,
                                       authority=authority), "Issued.")


@devices.command("return")
@click.argument("label")
@as_option
@click.option("--holder", required=True, metavar="LOGIN", help="A login or email.")
def devices_return(label: str, login: str, holder: str) -> None:
    """Record that a holder returned a device."""
    setup_django()
    from secman.visits.devices import return_device

    device, returning = _device(label), person(holder)
    holding = device.holdings.current().filter(holder=returning).first()
    if holding is None:
        raise click.ClickException(f"{returning} does not hold {device}")
    _run(lambda: return_device(actor=person(login), holding=holding), "Returned.")
