"""`secman software ...`: the repositories software assessment reads, and the reviews
each risk needs (SM 7.1, 7.3). Changes and releases are made on the pages."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from secman.core.cli import refusals_as_errors, setup_django

console = Console()


@click.group()
def software() -> None:
    """Software assessment (SP/SM 7)."""


@software.command("add-repository")
@click.argument("name")
@click.argument("location")
@click.option("--system", "system_name", required=True,
              help="The system of the register hosting the version control (SM 7.3).")
@click.option("--baseline", default="HEAD", show_default=True,
              help="History up to this commit is taken as it is; every later commit reaches "
              "a release only through a reviewed change.")
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The Software Assessment team leader.")
def add_repository(name: str, location: str, system_name: str, baseline: str,
                   login: str) -> None:
    """Register the repository at LOCATION (a path, or a URL secman mirrors under its data
    directory) as NAME."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.software import services
    from secman.systems.models import System

    system = System.objects.filter(name=system_name).first()
    if system is None:
        raise click.ClickException(f"no system {system_name!r} in the register")
    repository = refusals_as_errors(lambda: services.add_repository(
        actor=person(login), name=name, location=location, system=system, baseline=baseline))
    console.print(f"[green]✓[/green] {repository.name}: baseline {repository.baseline}")


@software.command("review-rule")
@click.argument("risk", type=click.Choice(["low", "medium", "high", "critical"]))
@click.argument("reviews", type=click.IntRange(1, 5))
@click.option("--authority", required=True, help="A section, case or Board decision.")
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The Software Assessment team leader.")
def review_rule(risk: str, reviews: int, authority: str, login: str) -> None:
    """Set how many reviews a change of RISK needs (SP 7)."""
    setup_django()
    from secman.people.cli_helpers import person
    from secman.software import services

    refusals_as_errors(lambda: services.set_review_rule(
        actor=person(login), risk=risk, reviews=reviews, authority=authority))
    table = Table("risk", "reviews")
    for level in ("low", "medium", "high", "critical"):
        table.add_row(level, str(services.reviews_needed(level)))
    console.print(table)
