"""The grants part of `secman privileged ...`; secman.privileged.cli adds these commands to
its group."""

from __future__ import annotations

import datetime as _dt
import json as _json
from typing import Any as _Any

import click
from rich.console import Console as _Console
from rich.table import Table as _Table

from secman.core.cli import refusals_as_errors as _refusals
from secman.core.cli import setup_django as _setup
from secman.people.cli_helpers import person as _person
from secman.privileged.cli_keys import AS_OPTION as _AS_OPTIONAL

# --- schemes, grants and secrets (SP 3.4.3, 4.1.1.1, SM 4.1.1) -------------------------------

_err = _Console(stderr=True)
_JSON = click.option("--json", "as_json", is_flag=True,
                     help="Print JSON on standard output instead of a table.")


def _system(name: str) -> _Any:
    from secman.systems.models import System

    found = System.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no system is called {name}")
    return found


def _print(rows: list[dict[str, _Any]], columns: list[str], title: str) -> None:
    table = _Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(", ".join(map(str, v)) if isinstance(v, list) else str(v or "—")
                        for v in (row[c] for c in columns)))
    _Console().print(table)


def _when(text: str) -> _dt.datetime:
    """An ISO 8601 time; without a zone, UTC."""
    from django.utils import timezone

    try:
        moment = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time like 2026-12-24T18:00") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=_dt.UTC)


@click.group()
def schemes() -> None:
    """Authentication schemes (SP 3.4.3): per system and access path, what authenticates
    and what is refused. A new scheme replaces the one in force."""


@schemes.command("list")
@click.option("--system", "system_name", default="", help="Only this system's schemes.")
@click.option("--all", "everything", is_flag=True, help="Replaced and ended schemes too.")
@_JSON
def schemes_list(system_name: str, everything: bool, as_json: bool) -> None:
    """The schemes in force, with the findings of SP 3.4.3."""
    _setup()
    from secman.privileged import schemes as services
    from secman.privileged.models import AuthenticationScheme

    found = AuthenticationScheme.objects.select_related("system", "via", "documented_by",
                                                        "authority")
    if not everything:
        found = found.filter(ended_at__isnull=True)
    if system_name:
        found = found.filter(system__name=system_name)
    rows = [services.scheme_row(s) for s in found]
    findings = services.schemes_documented() + services.hop_in_service()
    if as_json:
        click.echo(_json.dumps({"schemes": rows, "findings": [
            {"section": f.section, "message": f.message} for f in findings]}, indent=2))
        return
    _print(rows, ["system", "path", "via", "authenticates", "refused", "documented_at",
                  "ended_at"], "Authentication schemes (SP 3.4.3)")
    for finding in findings:
        _err.print(f"[red]{finding.section}[/red] {finding.message}")


@schemes.command("add")
@click.option("--system", "system_name", required=True)
@click.option("--path", required=True, type=click.Choice(
    ["ssh_hop", "ssh_direct", "web_application", "console", "other"]))
@click.option("--via", default="", help="The hop machine (ssh_hop only).")
@click.option("--authenticates", required=True, help="What authenticates.")
@click.option("--refused", required=True, help="What is refused.")
@click.option("--ip-blocking", is_flag=True, help="Repeated failures block the address.")
@click.option("--authority", default="SP 3.4.3", show_default=True)
@_AS_OPTIONAL
def schemes_add(system_name: str, path: str, via: str, authenticates: str, refused: str,
                ip_blocking: bool, authority: str, login: str) -> None:
    """Document a scheme; the one in force for the same system and path ends."""
    _setup()
    from secman.privileged import schemes as services

    actor = _person(login) if login else None
    made = _refusals(lambda: services.document_scheme(
        actor=actor, system=_system(system_name), path=path,
        via=_system(via) if via else None, authenticates=authenticates, refused=refused,
        ip_blocking=ip_blocking, authority=authority))
    _err.print(f"[green]✓[/green] scheme {made.pk} documented: {made}")
    click.echo(made.pk)


@click.group()
def grants() -> None:
    """Temporary SSH access of Software Assessors (SP 4.1.1.1), granted by the Systems
    Administration team leader or as the Arbitrator directs, always with an end."""


@grants.command("list")
@click.option("--state", type=click.Choice(["active", "future", "expired", "revoked"]),
              help="Only grants in this state now.")
@_JSON
def grants_list(state: str | None, as_json: bool) -> None:
    """Every grant, newest first, with the findings of SP 4.1.1.1."""
    _setup()
    from secman.privileged import grants as services
    from secman.privileged.models import TemporaryGrant

    rows = [services.grant_row(g) for g in TemporaryGrant.objects.select_related(
        "person", "system", "granted_by", "authority")]
    rows = [r for r in rows if not state or r["state"] == state]
    findings = services.ended_grant_keys_removed()
    if as_json:
        click.echo(_json.dumps({"grants": rows, "findings": [
            {"section": f.section, "message": f.message, "status": f.status}
            for f in findings]}, indent=2))
        return
    _print(rows, ["id", "person", "system", "starts_at", "ends_at", "state", "granted_by",
                  "reason"], "Temporary grants (SP 4.1.1.1)")
    for finding in findings:
        _err.print(f"[red]{finding.section}[/red] {finding.message}")


@grants.command("add")
@click.option("--person", "person_ref", required=True, help="The Software Assessor.")
@click.option("--system", "system_name", required=True)
@click.option("--reason", required=True)
@click.option("--until", "until", required=True, help="The end (ISO 8601; UTC without a "
              "zone), at most 30 days away.")
@click.option("--authority", default="SP 4.1.1.1", show_default=True)
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The Systems Administration team leader, or the Arbitrator.")
def grants_add(person_ref: str, system_name: str, reason: str, until: str, authority: str,
               login: str) -> None:
    """Grant temporary SSH access; prints the grant's number."""
    _setup()
    from secman.privileged import grants as services

    actor, grantee = _person(login), _person(person_ref)
    made = _refusals(lambda: services.grant_access(
        actor=actor, person=grantee, system=_system(system_name), reason=reason,
        ends_at=_when(until), authority=authority))
    _err.print(f"[green]✓[/green] grant {made.pk}: {made}")
    click.echo(made.pk)


@grants.command("revoke")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True)
@click.option("--authority", default="SP 4.1.1.1", show_default=True)
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The Systems Administration team leader, or the Arbitrator.")
def grants_revoke(grant_id: int, reason: str, authority: str, login: str) -> None:
    """End grant GRANT_ID before its end."""
    _setup()
    from secman.privileged import grants as services
    from secman.privileged.models import TemporaryGrant

    found = TemporaryGrant.objects.filter(pk=grant_id).first()
    if found is None:
        raise click.ClickException(f"there is no grant {grant_id}")
    actor = _person(login)
    done = _refusals(lambda: services.revoke_grant(actor=actor, grant=found, reason=reason,
                                                   authority=authority))
    _err.print(f"[green]✓[/green] grant {done.pk} revoked")


@click.group()
def secrets() -> None:
    """Privileged secrets (SM 4.1.1, 9.1.7): what they are, where used, who knows them,
    when changed. Never their values: no command takes one."""


def _secret(name: str) -> _Any:
    from secman.privileged.models import Secret

    found = Secret.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no secret is called {name!r}")
    return found


@secrets.command("list")
@click.option("--due", "only_due", is_flag=True, help="Only the secrets due for rotation.")
@_JSON
def secrets_list(only_due: bool, as_json: bool) -> None:
    """Every secret with its holders and whether it is due for rotation (SM 4.1.1)."""
    _setup()
    from secman.privileged import secrets_register as services
    from secman.privileged.models import Secret

    found = list(Secret.objects.filter(retired_at__isnull=True).prefetch_related(
        "systems", "holders__person"))
    due = services.due_secrets(found)
    rows = [services.secret_row(s, due.get(s.pk)) for s in found]
    rows = [r for r in rows if r["due"] or not only_due]
    if as_json:
        click.echo(_json.dumps(rows, indent=2))
        return
    _print(rows, ["name", "kind", "weight", "systems", "holders", "last_rotated_at", "due"],
           "Privileged secrets (SM 4.1.1)")


@secrets.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(
    ["root_password", "backup_key", "service_password", "ssh_host_key", "other"]))
@click.option("--weight", default="major", show_default=True,
              type=click.Choice(["major", "minor"]))
@click.option("--system", "system_names", multiple=True, help="A system it is used on "
              "(repeat for more).")
@click.option("--where-used", default="", help="Where it is used, in words.")
@click.option("--authority", default="SM 4.1.1", show_default=True)
@_AS_OPTIONAL
def secrets_add(name: str, kind: str, weight: str, system_names: tuple[str, ...],
                where_used: str, authority: str, login: str) -> None:
    """Register secret NAME (what it is, never its value)."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    made = _refusals(lambda: services.register_secret(
        actor=actor, name=name, kind=kind, weight=weight,
        systems=[_system(n) for n in system_names], where_used=where_used,
        authority=authority))
    _err.print(f"[green]✓[/green] secret {made.pk} registered: {made}")
    click.echo(made.pk)


@secrets.command("rotate")
@click.argument("name")
@click.option("--reason", required=True, type=click.Choice(
    ["turnover", "compromise", "scheduled", "first"]))
@click.option("--note", default="", help="Never the new value.")
@click.option("--authority", default="SM 4.1.1", show_default=True)
@_AS_OPTIONAL
def secrets_rotate(name: str, reason: str, note: str, authority: str, login: str) -> None:
    """Record that secret NAME was changed now."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    found = _secret(name)
    _refusals(lambda: services.rotate_secret(actor=actor, secret=found, reason=reason,
                                             note=note, authority=authority))
    _err.print(f"[green]✓[/green] rotation of {found} recorded")


@secrets.command("retire")
@click.argument("name")
@click.option("--reason", required=True, help="Why it is used nowhere any more.")
@click.option("--authority", default="SM 4.1.1", show_default=True)
@_AS_OPTIONAL
def secrets_retire(name: str, reason: str, authority: str, login: str) -> None:
    """Retire secret NAME: kept with its rotations and holders, never due again."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    found = _secret(name)
    _refusals(lambda: services.retire_secret(actor=actor, secret=found, reason=reason,
                                             authority=authority))
    _err.print(f"[green]✓[/green] {found} retired")


@secrets.command("holder-add")
@click.argument("name")
@click.option("--person", "person_ref", required=True, help="Who knows it from now.")
@click.option("--authority", default="SM 4.1.1", show_default=True)
@_AS_OPTIONAL
def secrets_holder_add(name: str, person_ref: str, authority: str, login: str) -> None:
    """Record that a person knows secret NAME (a root password: only those on the Console
    Access List)."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    found, holder = _secret(name), _person(person_ref)
    _refusals(lambda: services.add_holder(actor=actor, secret=found, person=holder,
                                          authority=authority))
    _err.print(f"[green]✓[/green] {holder} knows {found}")


@secrets.command("holder-end")
@click.argument("name")
@click.option("--person", "person_ref", required=True, help="Who no longer should know it.")
@click.option("--reason", required=True)
@click.option("--authority", default="SM 9.1.7", show_default=True)
@_AS_OPTIONAL
def secrets_holder_end(name: str, person_ref: str, reason: str, authority: str,
                       login: str) -> None:
    """End a person's holding of secret NAME: it is due for rotation until changed."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    found, holder = _secret(name), _person(person_ref)
    holding = found.holders.filter(person=holder, until__isnull=True).first()
    if holding is None:
        raise click.ClickException(f"{holder} does not know {found} now")
    _refusals(lambda: services.end_holding(actor=actor, holding=holding, reason=reason,
                                           authority=authority))
    _err.print(f"[yellow]![/yellow] {found} is due for rotation")


@secrets.command("compromised")
@click.argument("system_name")
@click.option("--reason", required=True, help="What is suspected.")
@click.option("--authority", default="SM 4.1.1", show_default=True)
@_AS_OPTIONAL
def secrets_compromised(system_name: str, reason: str, authority: str, login: str) -> None:
    """Mark SYSTEM_NAME as suspected compromised: every secret used there is due."""
    _setup()
    from secman.privileged import secrets_register as services

    actor = _person(login) if login else None
    target = _system(system_name)
    _refusals(lambda: services.mark_compromised(actor=actor, system=target, reason=reason,
                                                authority=authority))
    _err.print(f"[yellow]![/yellow] the secrets used on {target} are due for rotation")
