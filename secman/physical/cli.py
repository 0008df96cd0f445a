"""`secman physical ...`: the computer and media inventories from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def _django() -> None:
    from secman.cli import setup_django

    setup_django()


@click.group()
def physical() -> None:
    """Computers and storage media (SP/SM 2.2): list, import and export as CSV."""


def _print_report(report: object) -> None:
    errors = report.errors  # type: ignore[attr-defined]
    if errors:
        for error in errors:
            console.print(f"[red]✗[/red] {error}")
        console.print(f"[red]Nothing was written[/red]: {len(errors)} problem(s) in "
                      f"{report.rows} rows.")  # type: ignore[attr-defined]
        raise SystemExit(1)
    verb = "would be created (dry run)" if report.dry_run else "created"  # type: ignore[attr-defined]
    console.print(f"[green]✓[/green] {report.created} {verb}.")  # type: ignore[attr-defined]


@physical.command("import-computers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--authority", default="SP 2.2.1", show_default=True,
              help="What authorises the import (a section, case or Board decision).")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_computers(file: Path, authority: str, dry_run: bool) -> None:
    """Import computers (as acquired) from a CSV file with the columns of
    `export-computers` minus status. Any bad row: nothing is written."""
    _django()
    from secman.physical import csvio

    _print_report(csvio.import_computers(file.read_bytes(), actor=None, authority=authority,
                                         dry_run=dry_run))


@physical.command("import-media")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--present", "present", multiple=True, required=True,
              help="Login of a Systems Administrator present at provisioning; repeatable.")
@click.option("--authority", default="SP 2.2.3.1", show_default=True)
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_media(file: Path, present: tuple[str, ...], authority: str, dry_run: bool) -> None:
    """Import provisioned (securely erased and reformatted) media from a CSV file with the
    columns serial_number, media_type, capacity_gb, description, location, critical_data."""
    _django()
    from secman.people.models import Person
    from secman.physical import csvio

    people = list(Person.objects.filter(user__username__in=present))
    if len(people) != len(set(present)):
        raise click.ClickException("every --present must be the login of a recorded person")
    _print_report(csvio.import_media(file.read_bytes(), actor=None, present=people,
                                     authority=authority, dry_run=dry_run))


@physical.command("export-computers")
def export_computers() -> None:
    """Write the computer inventory as CSV to standard output."""
    _django()
    from secman.physical import csvio

    csvio.export_computers(sys.stdout)


@physical.command("export-media")
def export_media() -> None:
    """Write the media inventory as CSV to standard output."""
    _django()
    from secman.physical import csvio

    csvio.export_media(sys.stdout)


@physical.command("list")
def list_inventory() -> None:
    """Show computers and media with their status."""
    _django()
    from secman.physical.models import Computer, Media

    table = Table(title="Computers")
    for column in ("asset tag", "nickname", "status", "rack"):
        table.add_column(column)
    for c in Computer.objects.all():
        table.add_row(c.asset_tag, c.nickname, c.get_status_display(), c.rack_location)
    Console().print(table)
    table = Table(title="Storage media")
    for column in ("serial", "type", "status", "where"):
        table.add_column(column)
    for m in Media.objects.all():
        table.add_row(m.serial_number, m.get_media_type_display(), m.get_status_display(),
                      m.location)
    Console().print(table)
