"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
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


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""


# --- secman systems import (the infradocs importer) ---------------------------------------


@systems.command("import")
@click.argument("target", metavar="DIR|FILE",
                type=click.Path(exists=True, path_type=Path, allow_dash=False))
@click.option("--dry-run", is_flag=True,
              help="Read every file and show what would change; write nothing.")
@click.option("--authority", default="SM 3.1.2", show_default=True,
              help="What authorises the documented flows (a section, case or Board "
              "decision).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result as JSON on standard output.")
@click.option("--people", "people_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The people.rst to resolve :ref:`people_…` with (default: the one "
              "beside the systems/ and critical/ folders).")
def import_infradocs(target: Path, dry_run: bool, authority: str, as_json: bool,
                     people_file: Path | None) -> None:
    """Import systems from CAcert's infrastructure documentation (reST): an infradocs
    directory (its systems/ and critical/ folders), one such folder, or one file.
    template.rst files are skipped. Each system is created or updated with a diff shown;
    the listening services and outbound connections become flows in effect; flows no
    longer documented are ended. Any file that cannot be read (named with its line):
    nothing is written."""
    setup_django()
    import json

    from secman.systems import imports

    console = Console(stderr=True)
    parsed, skipped = _read_infradocs(target, people_file, console)
    for path in skipped:
        console.print(f"[dim]skipped {path}: a template of the documentation, not a "
                      "system[/dim]")
    with _import_progress(console, len(parsed) > 1) as progress:
        result = refusals_as_errors(lambda: imports.import_systems(
            actor=None, authority=authority, parsed=parsed, dry_run=dry_run,
            files=[p.source for p in parsed], progress=progress))
    if as_json:
        click.echo(json.dumps({
            "dry_run": dry_run, "files": len(parsed), "systems": result.systems,
            "flows": result.flows, "created": result.created,
            "changed": [diff.as_details() | {"name": diff.name, "notes": diff.notes}
                        for diff in result.changed],
            "skipped": [str(p) for p in skipped]}, indent=2, sort_keys=True))
    else:
        _print_diffs(result, Console())


def _read_infradocs(target: Path, people_file: Path | None,
                    console: Console) -> tuple[list[Any], list[Path]]:
    """Parse every file (with a progress bar for a directory); a file that cannot be read
    is the command's error, before anything is written."""
    from secman.systems import infradocs

    try:
        paths, templates = infradocs.source_files(target)
        people_path = people_file or infradocs.find_people(paths)
        people = {} if people_path is None else infradocs.parse_people(
            infradocs.read_source(people_path).text, str(people_path))
        parsed = []
        with _import_progress(console, len(paths) > 1) as progress:
            for done, path in enumerate(paths, 1):
                source = infradocs.read_source(path)
                if infradocs.is_template(path, source.text):
                    templates.append(path)
                else:
                    parsed.append(infradocs.parse_source(source, people))
                progress("reading", done, len(paths))
    except infradocs.InfradocsError as exc:
        raise click.ClickException(f"{exc}\nNothing was written.") from None
    return parsed, templates


@contextmanager
def _import_progress(console: Console, shown: bool) -> Iterator[Callable[[str, int, int],
                                                                        None]]:
    if not shown:
        yield lambda _what, _done, _total: None
        return
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def tell(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total or 1)
            bar.update(tasks[what], completed=done, total=total or 1)

        yield tell


def _print_diffs(result: Any, console: Console) -> None:
    """Each changed system with what changes; then one line for the run."""
    for diff in result.changed:
        verb = "new" if diff.created else "changed"
        console.print(f"[bold]{escape(diff.name)}[/bold] ({verb}, {escape(diff.source)})")
        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 2))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for name, (old, new) in diff.fields.items():
            shown = _short(new) if diff.created else f"{_short(old)} → {_short(new)}"
            table.add_row(name, shown)
        for label, rows, style in (("+ address", diff.addresses_added, "green"),
                                   ("- address", diff.addresses_removed, "red"),
                                   ("+ dns", diff.dns_added, "green"),
                                   ("- dns", diff.dns_removed, "red"),
                                   ("+ flow", diff.flows_added, "green"),
                                   ("- flow ended", diff.flows_ended, "red")):
            for row in rows:
                table.add_row(f"[{style}]{label}[/{style}]", escape(row))
        for note in diff.notes:
            table.add_row("[yellow]note[/yellow]", escape(note))
        console.print(table)
    if not result.systems:
        console.print("[yellow]No system's document to import[/yellow]: nothing written.")
        return
    changed = len(result.changed)
    verb = "would change (dry run)" if result.dry_run else "changed"
    console.print(
        f"[green]✓[/green] {result.systems} systems read, {result.flows} documented flows; "
        f"{changed} systems {verb} ({result.created} new), {result.flows_added} flows "
        f"added, {result.flows_ended} ended." if changed else
        f"[green]✓[/green] {result.systems} systems read, {result.flows} documented flows: "
        "the register already says this, nothing written.")


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} item(s)" if len(value) > 3 else escape(", ".join(
            str(v) if not isinstance(v, dict) else "/".join(map(str, v.values()))
            for v in value)) or "—"
    text = "—" if value in (None, "") else str(value)
    return escape(text if len(text) <= 80 else text[:79] + "…")
