"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

import click


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""


# --- the host agent (docs/agent.md) --------------------------------------------------------


def _system(name: str):  # type: ignore[no-untyped-def]
    from secman.systems.models import System

    found = System.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no system called {name!r} in the register")
    return found


@systems.command("agent-token")
@click.argument("system")
@click.option("--authority", default="SP 3.2.2", show_default=True,
              help="What authorises it: a section, a Board decision or an Arbitration case.")
@click.option("--as", "login", default="", help="The Systems Administrator issuing it "
              "(login or email); without it, the command line's operator.")
def agent_token(system: str, authority: str, login: str) -> None:
    """Issue SYSTEM's host agent token and print it ONCE on standard output (secman
    keeps only its hash). Any earlier token of SYSTEM is revoked. Store it on the system
    in a file only root can read (/etc/secman-agent/token, mode 600)."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.systems import agents

    actor = person(login) if login else None
    token = refusals_as_errors(lambda: agents.issue_token(
        actor=actor, system=_system(system), authority=authority))
    click.echo(token)


@systems.command("agent-revoke")
@click.argument("system")
@click.option("--authority", default="SP 3.2.2", show_default=True,
              help="What authorises it: a section, a Board decision or an Arbitration case.")
@click.option("--as", "login", default="", help="The Systems Administrator revoking it.")
def agent_revoke(system: str, authority: str, login: str) -> None:
    """Revoke SYSTEM's live agent token: its reports are refused from now on."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.systems import agents

    actor = person(login) if login else None
    revoked = refusals_as_errors(lambda: agents.revoke_token(
        actor=actor, system=_system(system), authority=authority))
    click.echo(f"revoked {revoked.prefix}… of {system}")


@systems.command("drift")
@click.argument("system", required=False)
def drift_command(system: str | None) -> None:
    """The host agents' drift findings (of SYSTEM, or of every system with a live
    token), each with its section. Exit status 1 when there is any."""
    from secman.core.cli import setup_django

    setup_django()
    from rich.console import Console
    from rich.table import Table

    from secman.systems import drift

    found = drift.evaluate(systems=[_system(system)] if system else None)
    table = Table("System", "Last report", "Section", "Finding")
    count = 0
    for item in found:
        last = f"{item.newest.received_at:%Y-%m-%d %H:%M}" if item.newest else "never"
        if not item.findings:
            table.add_row(item.system.name, last, "", "[green]no drift[/green]")
        for finding in item.findings:
            count += 1
            table.add_row(item.system.name, last, finding.section, finding.message)
    Console(width=160).print(table)
    if count:
        raise SystemExit(1)
