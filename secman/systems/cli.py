"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

import click


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""


# --- patches, configuration changes, OS lifecycle, the Board summary (SP 3.2.3, 3.2.3.1,
# SM 3.2, 4.1.3). Appended by the patches work; imports kept here so the part above stays.

import datetime as _dt  # noqa: E402
import json as _json  # noqa: E402

from rich.console import Console as _Console  # noqa: E402
from rich.table import Table as _Table  # noqa: E402

from secman.core.cli import refusals_as_errors, setup_django  # noqa: E402
from secman.people.cli_helpers import person as _person  # noqa: E402

_err = _Console(stderr=True)
_as_option = click.option("--as", "login", required=True, metavar="LOGIN",
                          help="The login or email of the person acting.")


def _patch_by_id(patch_id: int):  # type: ignore[no-untyped-def]
    from secman.systems.models import Patch

    found = Patch.objects.filter(pk=patch_id).first()
    if found is None:
        raise click.ClickException(f"there is no patch {patch_id}")
    return found


def _systems_named(names: tuple[str, ...]) -> list:
    from secman.systems.models import System

    found = {s.name: s for s in System.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise click.ClickException(f"no system is called {', '.join(missing)}")
    return [found[n] for n in names]


@systems.group()
def patch() -> None:
    """Security patches (SP 3.2.3): proposed by a Systems Administrator, approved by the
    Systems Administration team leader, applied under four eyes (sign the sign-off
    request in the web pages or the API), reported to the SA list."""


@patch.command("propose")
@click.option("--advisory", required=True, help="DSA-5678-1, DLA-3456-1 or CVE-2026-1234.")
@click.option("--title", required=True, help="What the patch fixes.")
@click.option("--package", "packages", multiple=True, required=True,
              help="A Debian package the patch updates (repeat for more).")
@click.option("--system", "system_names", multiple=True, required=True,
              help="A system the patch is for (repeat for more).")
@click.option("--emergency", is_flag=True, help="A known remote exploit (SP 3.2.3.1): "
              "may be applied before approval.")
@click.option("--exploit", default="", help="For --emergency: the known exploit.")
@click.option("--authority", default="SP 3.2.3", show_default=True)
@_as_option
def patch_propose(advisory: str, title: str, packages: tuple[str, ...],
                  system_names: tuple[str, ...], emergency: bool, exploit: str,
                  authority: str, login: str) -> None:
    """Propose a patch; prints its number."""
    setup_django()
    from secman.systems import patches

    actor, targets = _person(login), _systems_named(system_names)
    made = refusals_as_errors(lambda: patches.propose_patch(
        actor=actor, advisory=advisory, title=title, packages=packages, systems=targets,
        emergency=emergency, exploit=exploit, authority=authority))
    _err.print(f"[green]✓[/green] patch {made.pk} proposed: {made}")
    click.echo(made.pk)


@patch.command("approve")
@click.argument("patch_id", type=int)
@click.option("--authority", default="SP 3.2.3", show_default=True)
@_as_option
def patch_approve(patch_id: int, authority: str, login: str) -> None:
    """Approve patch PATCH_ID (the Systems Administration team leader only). An emergency
    patch is referred to dispute resolution at the same time (SP 3.2.3.1)."""
    setup_django()
    from secman.systems import patches

    actor, found = _person(login), _patch_by_id(patch_id)
    done = refusals_as_errors(lambda: patches.approve_patch(actor=actor, patch=found,
                                                            authority=authority))
    case = f"; case {done.case.number}" if done.case else ""
    _err.print(f"[green]✓[/green] {done} approved{case}")


@patch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def patch_list(as_json: bool) -> None:
    """Every patch with its status, emergency flag, case and backup."""
    setup_django()
    from secman.systems.models import Patch

    rows = Patch.objects.select_related("case").prefetch_related("systems")
    if as_json:
        click.echo(_json.dumps([{
            "id": p.pk, "advisory": p.advisory, "title": p.title, "status": p.status,
            "emergency": p.emergency, "systems": [s.name for s in p.systems.all()],
            "case": p.case.number if p.case else None,
            "backup_recorded": p.backup_recorded_at is not None} for p in rows], indent=2))
        return
    table = _Table("ID", "Advisory", "Systems", "Status", "Emergency", "Case", "Backup")
    for p in rows:
        table.add_row(str(p.pk), p.advisory, ", ".join(s.name for s in p.systems.all()),
                      p.get_status_display(), "EMERGENCY" if p.emergency else "",
                      p.case.number if p.case else "",
                      "recorded" if p.backup_recorded_at else ("due" if p.applied_at else ""))
    _Console().print(table)


@systems.group()
def change() -> None:
    """Configuration changes (SM 4.1.3): recorded with their RCS/git reference."""


@change.command("record")
@click.argument("system_name")
@click.option("--summary", required=True, help="What was changed (one line).")
@click.option("--rcs", "rcs_reference", required=True,
              help="Repository and commit: cacert-puppet@1a2b3c4.")
@click.option("--covers", multiple=True, help="What of the agent's facts it alters: ports, "
              "packages, sshd, sudoers, accounts, authorized_keys, ruleset (repeat).")
@click.option("--made-at", type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%d"]),
              default=None, help="When it was made (UTC); default now.")
@click.option("--authority", default="SM 4.1.3", show_default=True)
@_as_option
def change_record(system_name: str, summary: str, rcs_reference: str,
                  covers: tuple[str, ...], made_at: _dt.datetime | None, authority: str,
                  login: str) -> None:
    """Record a configuration change of SYSTEM_NAME (Systems Administrators)."""
    setup_django()
    from secman.systems import patches

    actor, [target] = _person(login), _systems_named((system_name,))
    when = made_at.replace(tzinfo=_dt.UTC) if made_at else None
    made = refusals_as_errors(lambda: patches.record_change(
        actor=actor, system=target, summary=summary, rcs_reference=rcs_reference,
        covers=covers, made_at=when, authority=authority))
    _err.print(f"[green]✓[/green] recorded: {made}")


@change.command("list")
@click.option("--system", "system_name", default="", help="Only this system's changes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def change_list(system_name: str, as_json: bool) -> None:
    """Configuration changes, newest first."""
    setup_django()
    from secman.systems.models import ConfigurationChange

    rows = ConfigurationChange.objects.select_related("system", "recorded_by")
    if system_name:
        rows = rows.filter(system__name=system_name)
    if as_json:
        click.echo(_json.dumps([{
            "id": c.pk, "system": c.system.name, "summary": c.summary,
            "rcs_reference": c.rcs_reference, "covers": c.covers,
            "made_at": c.made_at.isoformat()} for c in rows], indent=2))
        return
    table = _Table("Made (UTC)", "System", "Summary", "RCS reference", "Covers")
    for c in rows:
        table.add_row(f"{c.made_at:%Y-%m-%d %H:%M}", c.system.name, c.summary,
                      c.rcs_reference, ", ".join(c.covers))
    _Console().print(table)


@systems.command("os")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def os_lifecycle(as_json: bool) -> None:
    """Each system's Debian release, whether it is stable, oldstable or unsupported today,
    when its security support ends and how many days are left (SM 3.2; dates from
    Debian's distro-info-data)."""
    setup_django()
    from django.utils import timezone

    from secman.systems.views_patches import os_rows

    rows, error = os_rows(timezone.localdate())
    if error:
        raise click.ClickException(error)
    if as_json:
        click.echo(_json.dumps([{
            "system": r["system"].name, "os_release": r["system"].os_release,
            "debian": str(r["state"].release or "") or None,
            "support": r["state"].support.value,
            "support_ends": str(r["state"].support_ends or "") or None,
            "days_left": r["state"].days_left, "status": str(r["status"]),
            "accepted_exception": bool(r["acceptance"])} for r in rows], indent=2))
        return
    colour = {"ok": "green", "warn": "yellow", "bad": "red", "accepted": "blue"}
    table = _Table("System", "Release", "Debian", "Support", "Ends", "Days left", "")
    for r in rows:
        state = r["state"]
        style = colour.get(r["tone"], "")
        table.add_row(r["system"].name, r["system"].os_release or "—",
                      str(state.release or "—"), state.support.label,
                      str(state.support_ends or "—"),
                      "" if state.days_left is None else str(state.days_left),
                      "accepted exception" if r["acceptance"] else "", style=style)
    _Console().print(table)


@systems.command("summary")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day (default: the first day of the last quarter).")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day, included (default: the last day of the last quarter).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def summary(start: _dt.datetime | None, end: _dt.datetime | None, as_json: bool) -> None:
    """The team leader's summary to the Board (SP 3.2.3.1): the period's patches,
    emergency patches with their cases, and configuration changes."""
    setup_django()
    from django.utils import timezone

    from secman.systems import patches

    first, last = patches.last_quarter(timezone.localdate())
    found = refusals_as_errors(lambda: patches.summary(
        start.date() if start else first, end.date() if end else last))
    if as_json:
        click.echo(_json.dumps(found.as_json(), indent=2))
        return
    out = _Console()
    out.print(f"Summary to the Board, {found.start} to {found.end}: "
              f"{len(found.patches)} patches, {len(found.emergencies)} emergency, "
              f"{len(found.changes)} configuration changes")
    table = _Table("Advisory", "Systems", "Status", "Emergency", "Case")
    for p in found.patches:
        table.add_row(p.advisory, ", ".join(s.name for s in p.systems.all()),
                      p.get_status_display(), "EMERGENCY" if p.emergency else "",
                      p.case.number if p.case else "")
    out.print(table)
    changes = _Table("Made (UTC)", "System", "Summary", "RCS reference")
    for c in found.changes:
        changes.add_row(f"{c.made_at:%Y-%m-%d %H:%M}", c.system.name, c.summary,
                        c.rcs_reference)
    out.print(changes)
