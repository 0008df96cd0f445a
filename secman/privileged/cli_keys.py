"""The keys part of `secman privileged ...`; secman.privileged.cli adds these commands to
its group."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secman.core.cli import refusals_as_errors, setup_django

# --- keys, accounts and admin origins, and their checks (SM 3.4.3, 4.1.1) ---------------
# `secman privileged keys|accounts|origins ...` and `secman privileged check`.

# Every command that changes a register takes --as (cli_grants and cli_leavers too): the
# Event Log then names the Systems Administrator, not only "secman command line".
AS_OPTION = click.option("--as", "login", default="", metavar="LOGIN",
                         help="The Systems Administrator acting (default: the command "
                         "line's operator).")


def acting(login: str) -> Any:
    """The person --as names, or None for the command line's operator."""
    from secman.people.cli_helpers import person

    return person(login) if login else None


JSON_HELP = "Print JSON on standard output instead of a table."
AUTHORITY_HELP = "The authority: an SP/SM section (SM 3.4.3) or a Board minute."


def _system(name: str) -> Any:
    from secman.systems.models import System

    found = System.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no system named {name!r} in the register "
                                   "(secman systems list shows them)")
    return found


def _key_row(key: Any) -> dict[str, Any]:
    return {"id": key.pk, "person": key.person.name, "fingerprint": key.fingerprint,
            "type": key.key_type, "bits": key.bits, "comment": key.comment,
            "added_at": key.added_at.isoformat(),
            "blocked_at": key.blocked_at.isoformat() if key.blocked_at else None,
            "block_reason": key.block_reason}


@click.group()
def keys() -> None:
    """SSH public keys of people (SM 3.4.3), blocked on leaving (SM 9.1.7)."""


@keys.command("add")
@click.option("--person", "person_ref", required=True, help="The key's owner: login or email.")
@click.option("--public-key", default="", help="One public key line (the .pub file's).")
@click.option("--public-key-file", type=click.File("r"), default=None,
              help="Read the public key line from this file (- for standard input).")
@click.option("--fingerprint", default="", help="Or the fingerprint (SHA256:...) ...")
@click.option("--type", "key_type", default="", help="... with the key's type (ssh-ed25519).")
@click.option("--comment", default="", help="A comment (default: the key line's).")
@click.option("--authority", default="SM 3.4.3", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def keys_add(person_ref: str, public_key: str, public_key_file: Any, fingerprint: str,
             key_type: str, comment: str, authority: str, login: str) -> None:
    """Register a person's SSH public key (from its line, or fingerprint and type). A key
    registered already, to anyone, is refused: a key belongs to one person."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged import keys as key_services

    if public_key_file is not None:
        public_key = public_key_file.read(key_services.PUBLIC_KEY_MAX + 1)
    owner = person(person_ref)
    key = refusals_as_errors(lambda: key_services.add_key(
        actor=acting(login), person=owner, public_key=public_key, fingerprint=fingerprint,
        key_type=key_type, comment=comment, authority=authority))
    click.echo(f"registered {key.key_type} {key.fingerprint} for {owner} (key {key.pk})")


@keys.command("list")
@click.option("--person", "person_ref", default=None, help="Only this person's keys.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def keys_list(person_ref: str | None, as_json: bool) -> None:
    """Every registered key, with its owner and whether it is blocked."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged.models import SshKey

    rows = SshKey.objects.select_related("person")
    if person_ref:
        rows = rows.filter(person=person(person_ref))
    data = [_key_row(k) for k in rows]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title="SSH keys (SM 3.4.3)")
    for column in ("id", "person", "fingerprint", "type", "comment", "status"):
        table.add_column(column)
    for row in data:
        status = f"[red]blocked {row['blocked_at'][:10]}[/red]" if row["blocked_at"] else \
            "[green]in use[/green]"
        table.add_row(str(row["id"]), escape(row["person"]), row["fingerprint"], row["type"],
                      escape(row["comment"]), status)
    Console().print(table)


@keys.command("block")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why (a leaver, a lost laptop...).")
@click.option("--authority", default="SM 9.1.7", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def keys_block(fingerprint: str, reason: str, authority: str, login: str) -> None:
    """Block the key with FINGERPRINT (SM 9.1.7 step 1): found on a critical system from
    now on, it is a violation."""
    setup_django()
    from secman.privileged import keys as key_services
    from secman.privileged.models import SshKey

    value = refusals_as_errors(lambda: key_services.parse_fingerprint(fingerprint))
    key = SshKey.objects.filter(fingerprint=value).select_related("person").first()
    if key is None:
        raise click.ClickException(f"no key {value} is registered")
    refusals_as_errors(lambda: key_services.block_key(
        actor=acting(login), key=key, reason=reason, authority=authority))
    click.echo(f"blocked {key.fingerprint} ({key.person})")


def _account_row(account: Any) -> dict[str, Any]:
    return {"id": account.pk, "system": account.system.name, "username": account.username,
            "kind": account.kind, "person": account.person.name if account.person else None,
            "purpose": account.purpose, "created_at": account.created_at.isoformat(),
            "removed_at": account.removed_at.isoformat() if account.removed_at else None}


@click.group()
def accounts() -> None:
    """Accounts per system: personal named (one per sysadmin, SM 3.4.3), privileged and
    service accounts (no login, SM 4.1.1)."""


@accounts.command("add")
@click.argument("system_name")
@click.argument("username")
@click.option("--kind", type=click.Choice(["personal", "privileged", "service"]),
              required=True, help="personal: a sysadmin's; privileged/service: nobody's.")
@click.option("--person", "person_ref", default=None, help="A personal account's owner.")
@click.option("--purpose", default="", help="What the account is for.")
@click.option("--authority", default="SM 3.4.3", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def accounts_add(system_name: str, username: str, kind: str, person_ref: str | None,
                 purpose: str, authority: str, login: str) -> None:
    """Register the account USERNAME on SYSTEM_NAME."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged import accounts as account_services

    system = _system(system_name)
    owner = person(person_ref) if person_ref else None
    account = refusals_as_errors(lambda: account_services.add_account(
        actor=acting(login), system=system, username=username, kind=kind, person=owner,
        purpose=purpose, authority=authority))
    click.echo(f"registered {account} ({account.get_kind_display()}, account {account.pk})")


@accounts.command("list")
@click.option("--system", "system_name", default=None, help="Only this system's accounts.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def accounts_list(system_name: str | None, as_json: bool) -> None:
    """The accounts in the register (removed ones left out)."""
    setup_django()
    from secman.privileged.models import Account

    rows = Account.objects.filter(removed_at__isnull=True).select_related("system", "person")
    if system_name:
        rows = rows.filter(system=_system(system_name))
    data = [_account_row(a) for a in rows]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title="Accounts (SM 3.4.3, 4.1.1)")
    for column in ("id", "system", "user", "kind", "person", "purpose"):
        table.add_column(column)
    for row in data:
        table.add_row(str(row["id"]), row["system"], row["username"], row["kind"],
                      escape(row["person"] or "—"), escape(row["purpose"]))
    Console().print(table)


@accounts.command("remove")
@click.argument("system_name")
@click.argument("username")
@click.option("--reason", required=True, help="Why the account goes.")
@click.option("--authority", default="SM 3.4.3", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def accounts_remove(system_name: str, username: str, reason: str, authority: str,
                    login: str) -> None:
    """Record that USERNAME on SYSTEM_NAME is removed."""
    setup_django()
    from secman.privileged import accounts as account_services
    from secman.privileged.models import Account

    system = _system(system_name)
    account = Account.objects.filter(system=system, username=username,
                                     removed_at__isnull=True).first()
    if account is None:
        raise click.ClickException(f"{system} has no account {username!r} in the register")
    refusals_as_errors(lambda: account_services.remove_account(
        actor=acting(login), account=account, reason=reason, authority=authority))
    click.echo(f"removed {account}")


@click.group()
def origins() -> None:
    """Admin origins (SM 3.4.3): the hop machine or networks SSH may come from."""


@origins.command("add")
@click.option("--system", "system_name", default=None, help="The hop machine's name...")
@click.option("--network", default="", help="... or a network in CIDR form.")
@click.option("--description", required=True, help="What it is, who comes from it.")
@click.option("--authority", default="SM 3.4.3", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def origins_add(system_name: str | None, network: str, description: str,
                authority: str, login: str) -> None:
    """Document an admin origin: a system or a network."""
    setup_django()
    from secman.privileged import accounts as account_services

    system = _system(system_name) if system_name else None
    origin = refusals_as_errors(lambda: account_services.add_origin(
        actor=acting(login), system=system, network=network, description=description,
        authority=authority))
    click.echo(f"admin origin {origin} documented (origin {origin.pk})")


@origins.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def origins_list(as_json: bool) -> None:
    """The admin origins, those in use first."""
    setup_django()
    from secman.privileged.models import AdminOrigin

    data: list[dict[str, Any]] = [{"id": o.pk, "system": o.system.name if o.system else None,
             "network": o.network or None, "description": o.description,
             "added_at": o.added_at.isoformat(),
             "ended_at": o.ended_at.isoformat() if o.ended_at else None}
            for o in AdminOrigin.objects.select_related("system").order_by("ended_at", "id")]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title="Admin origins (SM 3.4.3)")
    for column in ("id", "origin", "description", "status"):
        table.add_column(column)
    for row in data:
        status = f"[dim]ended {row['ended_at'][:10]}[/dim]" if row["ended_at"] else \
            "[green]in use[/green]"
        table.add_row(str(row["id"]), row["system"] or row["network"],
                      escape(row["description"]), status)
    Console().print(table)


@origins.command("end")
@click.argument("origin_id", type=int)
@click.option("--reason", required=True, help="Why administrators no longer come from it.")
@click.option("--authority", default="SM 3.4.3", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def origins_end(origin_id: int, reason: str, authority: str, login: str) -> None:
    """End the admin origin ORIGIN_ID (secman privileged origins list shows them)."""
    setup_django()
    from secman.privileged import accounts as account_services
    from secman.privileged.models import AdminOrigin

    origin = AdminOrigin.objects.filter(pk=origin_id).first()
    if origin is None:
        raise click.ClickException(f"no admin origin {origin_id}")
    refusals_as_errors(lambda: account_services.end_origin(
        actor=acting(login), origin=origin, reason=reason, authority=authority))
    click.echo(f"admin origin {origin} ended")


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check(as_json: bool) -> None:
    """Check the critical systems' newest agent reports against the register and the
    SSH Access List: unknown and blocked keys, people not on the list, sshd and sudoers
    settings, login accounts, SSH from outside the admin origins (SM 3.4.3, 4.1.1, 9.1.7,
    SP 4.1.1.1), failed access attempts (SM 4.1.1.2).

    Exit status: 0 nothing violated; 1 a violation; 2 wrong usage."""
    setup_django()
    from secman.core.controls import Status
    from secman.privileged.controls import key_findings

    found = key_findings()
    data = [{"control": control_id, "section": f.section, "status": str(f.status),
             "message": f.message, "url": f.url, "subject": f.subject}
            for control_id, findings in found.items() for f in findings]
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        table = Table(title="Keys, accounts and sshd on the critical systems")
        for column in ("control", "section", "status", "finding"):
            table.add_column(column)
        style = {"violated": "red", "not_evidenced": "red", "warning": "yellow"}
        for row in data:
            colour = style.get(row["status"], "")
            status = f"[{colour}]{row['status']}[/{colour}]" if colour else row["status"]
            table.add_row(row["control"], row["section"], status, escape(row["message"]))
        console = Console()
        console.print(table)
        if not data:
            console.print(f"[green]{len(found)} checks, no findings[/green]")
    if any(f.status == Status.VIOLATED for fs in found.values() for f in fs):
        raise SystemExit(1)
