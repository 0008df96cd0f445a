"""`secman backup ...`: secman's own backup and restore. (`secman backups ...`, the CA's
backup register, is beside it.)"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from secman.core.cli import refusals_as_errors, setup_django

console = Console(stderr=True)


def _steps() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=console, transient=True)


@click.group()
def backup() -> None:
    """secman's own backup (SP 4.3): a consistent copy of the database, the Event Log's
    export bundle, the evidence files and the signing keys, encrypted with GnuPG to
    SECMAN_BACKUP_RECIPIENTS; and its restore into an empty data directory."""


@backup.command()
@click.argument("output", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "login", default="", metavar="LOGIN",
              help="The Systems Administrator acting (default: the command line's operator).")
def create(output: Path | None, login: str) -> None:
    """Write the backup to OUTPUT (default: secman-backup-<time>.tar.gpg here). The file is
    an OpenPGP message: only the recipients' secret keys open it. Recorded in the Event
    Log with its SHA-256, and so is a failure. Exits 1 on failure, with the reason."""
    setup_django()
    from secman.backups import own, services
    from secman.people.cli_helpers import person

    actor = person(login) if login else None
    output = output or Path(f"secman-backup-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.tar.gpg")
    with _steps() as progress:
        task = progress.add_task("Starting")

        def step(text: str) -> None:
            progress.update(task, description=text)

        try:
            created = refusals_as_errors(lambda: services.create_own_backup(
                output, actor=actor, progress=step))
        except own.BackupError as exc:
            raise click.ClickException(str(exc)) from None
    manifest = created.manifest
    console.print(f"[green]✓[/green] {created.path} ({created.size:,} bytes, SHA-256 "
                  f"{created.sha256})")
    console.print(f"  {manifest['database']} database, {len(manifest['files'])} files, "
                  f"Event Log of {manifest['eventlog']['entries']} entries; encrypted to "
                  f"{len(manifest['recipients'])} recipient(s)")


@backup.command()
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--passphrase-file", type=click.File("r"),
              help="A file holding the passphrase of the recipient's secret key (else "
              "gpg-agent asks, or the key has none).")
def restore(archive: Path, passphrase_file: Any) -> None:
    """Restore ARCHIVE into this server's data directory (SECMAN_DATA_DIR), which must be
    new, and on PostgreSQL into the empty database DATABASE_URL names. Every file is
    checked against the archive's manifest, and the archive's Event Log origin against
    this server's, before anything is put in place; on any failure nothing is left
    restored. Then run `secman eventlog verify` (the command says so)."""
    setup_django(check_origin=False)
    from secman.backups import own

    passphrase = passphrase_file.read().rstrip("\n") if passphrase_file else None
    with _steps() as progress:
        task = progress.add_task("Starting")
        try:
            restored = own.restore(archive, passphrase=passphrase,
                                   progress=lambda text: progress.update(task,
                                                                         description=text))
        except own.BackupError as exc:
            raise click.ClickException(str(exc)) from None
    problems = own.check_restored_log(restored.manifest)
    for problem in problems:
        console.print(f"[red]✗[/red] {problem}")
    manifest = restored.manifest
    console.print(f"[green]✓[/green] restored {archive.name}: {manifest['database']} "
                  f"database of {manifest['created_at']}, {restored.files} files checked, "
                  f"in {restored.seconds:.1f} s")
    console.print("  Now prove the Event Log intact: secman eventlog verify")
    if problems:
        sys.exit(1)
