"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""


# --- firewall rules and the network diagram (SM 3.1.2, SP 3.1.1) ---------------------------


@systems.command("firewall")
@click.argument("system_name", metavar="SYSTEM")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the ruleset to this file instead of standard output.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Check the ruleset with `nft -c -f -` (needs nftables and root).")
def firewall_command(system_name: str, output: str | None, check: bool) -> None:
    """Write SYSTEM's nftables ruleset, generated from its flows in effect (SM 3.1.2):
    table inet secman, default drop in input, output and forward, one commented rule per
    documented flow, everything else counted, logged ("secman-drop-in ",
    "secman-drop-out ") and dropped. Load it on the host with `nft -f FILE`.

    Flows whose origin or destination cannot be resolved are not allowed; they are
    listed at the top of the file and printed as warnings on standard error.

    Exit status: 0 the ruleset was written (and nft accepted it); 1 no such system, or
    the file cannot be written; 2 wrong usage; 3 nft refused the ruleset (the errors are
    printed; with --output the file is not written)."""
    from secman.core.cli import setup_django

    setup_django()
    from secman.systems import firewall
    from secman.systems.models import System

    found = System.objects.filter(name=system_name).first()
    if found is None:
        raise click.ClickException(f"no system named {system_name!r} in the register "
                                   "(secman systems list shows them)")
    text, warnings = firewall.generate(found)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if check:
        errors = firewall.check(text)
        if errors:
            for error in errors:
                click.echo(f"nft: {error}", err=True)
            click.echo(f"nft refused the ruleset of {system_name}; nothing was written.",
                       err=True)
            sys.exit(3)
    _write(text, output)


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"written to {output}", err=True)


@systems.command("diagram")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot"]), default="svg",
              show_default=True, help="SVG drawn by Graphviz, or its dot source.")
@click.option("--revision", "-r", type=int,
              help="A kept revision's drawing instead of the register as it is now.")
def diagram_command(output: str | None, fmt: str, revision: int | None) -> None:
    """The network diagram (SP 3.1.1), drawn from the register with Graphviz: systems
    grouped by network, hosts around their guests, flows in effect as edges, critical
    systems in red. Draws the register as it is now (nothing is recorded: revisions are
    kept when approved changes are made), or a kept revision with --revision.

    Exit status: 0 written; 1 no such revision, Graphviz failed, or the file cannot be
    written; 2 wrong usage."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.systems import diagram
    from secman.systems.models import DiagramRevision

    if revision is not None:
        kept = DiagramRevision.objects.filter(number=revision).first()
        if kept is None:
            raise click.ClickException(f"no revision r{revision} of the network diagram")
        text = kept.svg if fmt == "svg" else kept.dot
    else:
        dot = diagram.dot_source()
        text = dot if fmt == "dot" else refusals_as_errors(lambda: diagram.render_svg(dot))
    _write(text, output)
