"""`secman keypersons ...`: the Key Persons List for when secman is down (SM 6.4)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from secman.core.cli import refusals_as_errors, setup_django

console = Console(stderr=True)


@click.group()
def keypersons() -> None:
    """The Key Persons List (SM 6.4, 10.1.1): held by every key person, usable when secman
    itself is down."""


@keypersons.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--as", "login", default="", metavar="LOGIN",
              help="The Board member or Arbitrator exporting it (default: the command "
              "line's operator).")
def export(directory: Path, login: str) -> None:
    """Write the list to DIRECTORY as key-persons-<time>.txt.asc (text) and
    key-persons-<time>.pdf.gpg (printable PDF), each one OpenPGP message to every key
    person's key: any of them decrypts it with `gpg --decrypt FILE`. The distribution is
    recorded in the Event Log with the list's SHA-256. Refused while a key person has no
    OpenPGP key."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.recovery import services

    actor = person(login) if login else None
    with console.status("Rendering and encrypting the list"):
        made = refusals_as_errors(lambda: services.export_key_persons(
            actor=actor, directory=directory))
    for path in made.paths:
        console.print(f"[green]✓[/green] {path}")
    console.print(f"  encrypted to {len(made.distribution.recipients)} key person(s); list "
                  f"SHA-256 {made.distribution.sha256}")
