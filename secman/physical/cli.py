"""`secman physical ...`: the computer and media inventories from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from secman.core.cli import refusals_as_errors, setup_django
from secman.people.cli_helpers import person

if TYPE_CHECKING:  # the module needs Django set up, which each command does first
    from secman.physical.csvio import ImportReport

console = Console(stderr=True)


@click.group()
def physical() -> None:
    """Computers and storage media (SP/SM 2.2): list, import and export as CSV."""


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on standard error for the import's phases (reading, checking,
    writing, recording in the Event Log)."""
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def tell(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total or 1)
            bar.update(tasks[what], completed=done if total else 1, total=total or 1)

        yield tell


def _print_report(report: ImportReport) -> None:
    errors = report.errors
    if errors:
        for error in errors:
            console.print(f"[red]✗[/red] {error}")
        console.print(f"[red]Nothing was written[/red]: {len(errors)} problem(s) in "
                      f"{report.rows} rows.")
        raise SystemExit(1)
    verb = "would be created (dry run)" if report.dry_run else "created"
    console.print(f"[green]✓[/green] {report.created} {verb}.")


@physical.command("import-computers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path,
                                       allow_dash=False))
@click.option("--authority", default="SP 2.2.1", show_default=True,
              help="What authorises the import (a section, case or Board decision).")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_computers(file: Path, authority: str, dry_run: bool) -> None:
    """Import computers (as acquired) from a CSV file with the columns of
    `export-computers` minus status (at most 20,000 rows and 5 MB). Any bad row: nothing
    is written."""
    setup_django()
    from secman.physical import csvio

    data = refusals_as_errors(lambda: csvio.read_file(file))
    with _progress() as progress:
        report = csvio.import_computers(data, actor=None, authority=authority,
                                        dry_run=dry_run, progress=progress)
    _print_report(report)


@physical.command("import-media")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path,
                                       allow_dash=False))
@click.option("--present", "present", multiple=True, required=True,
              help="Login or email of a Systems Administrator present at provisioning; "
              "repeatable.")
@click.option("--authority", default="SP 2.2.3.1", show_default=True)
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_media(file: Path, present: tuple[str, ...], authority: str, dry_run: bool) -> None:
    """Import provisioned (securely erased and reformatted) media from a CSV file with the
    columns serial_number, media_type, capacity_gb, description, location, critical_data
    (at most 20,000 rows and 5 MB). Any bad row: nothing is written."""
    setup_django()
    from secman.physical import csvio

    people = list(dict.fromkeys(person(ref) for ref in present))
    data = refusals_as_errors(lambda: csvio.read_file(file))
    with _progress() as progress:
        report = csvio.import_media(data, actor=None, present=people, authority=authority,
                                    dry_run=dry_run, progress=progress)
    _print_report(report)


@physical.command("export-computers")
def export_computers() -> None:
    """Write the computer inventory as CSV to standard output."""
    setup_django()
    from secman.physical import csvio

    csvio.export_computers(sys.stdout)


@physical.command("export-media")
def export_media() -> None:
    """Write the media inventory as CSV to standard output."""
    setup_django()
    from secman.physical import csvio

    csvio.export_media(sys.stdout)


@physical.command("list")
def list_inventory() -> None:
    """Show computers and media with their status."""
    setup_django()
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


@physical.command("computer-step")
@click.argument("asset_tag")
@click.argument("step", type=click.Choice(["inventory", "in_service", "maintenance",
                                           "service_risk", "retire"]))
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The login or email of the Access Engineer or Systems Administrator "
              "acting.")
@click.option("--note", default="", help="Legal owner (in_service), the work "
              "(maintenance), or the reason (service_risk, retire).")
@click.option("--authority", default="SP 2.2.1", show_default=True)
def computer_step(asset_tag: str, step: str, login: str, note: str, authority: str) -> None:
    """Move computer ASSET_TAG on in its life (SP 2.2.1, 2.2.2). Maintenance opens a
    four-eyes sign-off request (sign it in the web UI or the API)."""
    setup_django()
    from secman.physical import services
    from secman.physical.models import Computer

    computer = Computer.objects.filter(asset_tag=asset_tag).first()
    if computer is None:
        raise click.ClickException(f"no computer has the asset tag {asset_tag!r}")
    actor = person(login)
    actions = {
        "inventory": lambda: services.inventory_computer(
            actor=actor, computer=computer, authority=authority),
        "in_service": lambda: services.put_in_service(
            actor=actor, computer=computer, legal_owner=note, authority=authority),
        "maintenance": lambda: services.request_maintenance(
            actor=actor, computer=computer, work=note, authority=authority),
        "service_risk": lambda: services.record_service_risk(
            actor=actor, computer=computer, reason=note, authority=authority),
        "retire": lambda: services.retire_computer(
            actor=actor, computer=computer, reason=note, authority=authority),
    }
    result = refusals_as_errors(actions[step])
    console.print(f"[green]✓[/green] {result}")


@physical.command("media-step")
@click.argument("serial_number")
@click.argument("to_status", type=click.Choice(["in_use", "stored", "reused", "retired",
                                                "destroyed"]))
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="Who reports: a login or email.")
@click.option("--present", "present", multiple=True, required=True,
              help="Login or email of someone present; repeatable.")
@click.option("--steps", "steps_taken", required=True, help="The steps taken.")
@click.option("--location", required=True, help="Where the medium is now.")
@click.option("--computer", "asset_tag", default="", help="Asset tag (in_use, reused).")
@click.option("--erased", is_flag=True, help="It was securely erased in this step.")
@click.option("--method", default="", type=click.Choice(["", "destroyed",
                                                         "licensed_disposal", "sealed"]))
@click.option("--certificate", default="", help="Licensed disposal certificate.")
@click.option("--expiry-year", type=int, default=None, help="Sealed: year the data expires.")
@click.option("--authority", default="SP 2.2.3", show_default=True)
def media_step(serial_number: str, to_status: str, login: str, present: tuple[str, ...],
               steps_taken: str, location: str, asset_tag: str, erased: bool, method: str,
               certificate: str, expiry_year: int | None, authority: str) -> None:
    """Report a change of status of medium SERIAL_NUMBER (SM 2.2.3). For media with
    critical data this opens a request for two Systems Administrators (SP 2.2.3.3)."""
    setup_django()
    from secman.physical import services
    from secman.physical.models import Computer, Media

    media = Media.objects.filter(serial_number=serial_number).first()
    if media is None:
        raise click.ClickException(f"no medium has the serial number {serial_number!r}")
    computer = Computer.objects.filter(asset_tag=asset_tag).first() if asset_tag else None
    if asset_tag and computer is None:
        raise click.ClickException(f"no computer has the asset tag {asset_tag!r}")
    result = refusals_as_errors(lambda: services.change_media_status(
        actor=person(login), media=media, to_status=to_status,
        present=[person(p) for p in present], steps_taken=steps_taken, location=location,
        computer=computer, erased=erased, method=method, certificate=certificate,
        expiry_year=expiry_year, authority=authority))
    console.print(f"[green]✓[/green] {result}")
