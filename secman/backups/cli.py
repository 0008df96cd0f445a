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


# --- the backup register: `secman backups ...` ----------------------------------------------


@click.group()
def backups() -> None:
    """The CA's backup register (SP/SM 4.3): jobs per system, sets made and verified by two,
    restic checks that restore a sample, the OpenPGP layer checked against the DR keys."""


def _acting(login: str) -> Any:
    from secman.people.cli_helpers import person

    return person(login) if login else None


AS_OPTION = click.option("--as", "login", default="", metavar="LOGIN",
                         help="The Systems Administrator acting (default: the command "
                         "line's operator).")


@backups.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON on standard output.")
def list_jobs(as_json: bool) -> None:
    """Every job, with its status (on schedule, due, overdue, failed check)."""
    setup_django()
    import json

    from rich.table import Table

    from secman.backups import selectors

    rows = selectors.job_rows()
    if as_json:
        click.echo(json.dumps([{"id": r.job.pk, "system": r.job.system.name,
                                "name": r.job.name, "kind": r.job.kind,
                                "frequency_days": r.job.frequency_days,
                                "status": str(r.status), "said": r.said} for r in rows],
                              indent=1))
        return
    table = Table("ID", "System", "Job", "Kind", "Every", "Status")
    colour = {"ok": "green", "warn": "yellow", "bad": "red", "info": "blue"}
    for r in rows:
        table.add_row(str(r.job.pk), r.job.system.name, r.job.name, r.job.get_kind_display(),
                      f"{r.job.frequency_days} d",
                      f"[{colour[r.tone]}]{r.status.label}[/] {r.said}")
    Console().print(table)


@backups.command("add-job")
@click.argument("system")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["operational", "disaster_recovery",
                                                          "reference"]))
@click.option("--every", "frequency_days", required=True, type=click.IntRange(1, 3660),
              help="Days between backups (SP 4.3.2).")
@click.option("--authority", default="SP 4.3.2", show_default=True,
              help="What sets the frequency: a section or a Board minute.")
@click.option("--restic-repository", default="", help="Operational: the restic repository.")
@click.option("--restic-password-file", default="",
              help="The file with its password on this server (never the password).")
@click.option("--storage", default="", help="Where its sets are kept (SM 4.3.3).")
@AS_OPTION
def add_job(system: str, name: str, kind: str, frequency_days: int, authority: str,
            restic_repository: str, restic_password_file: str, storage: str,
            login: str) -> None:
    """Add a backup job NAME to SYSTEM (of the systems register)."""
    setup_django()
    from secman.backups import services
    from secman.systems.models import System

    row = System.objects.filter(name=system).first()
    if row is None:
        raise click.ClickException(f"no system {system!r} in the systems register")
    job = refusals_as_errors(lambda: services.add_job(
        actor=_acting(login), system=row, name=name, kind=kind,
        frequency_days=frequency_days, authority=authority,
        restic_repository=restic_repository, restic_password_file=restic_password_file,
        storage=storage))
    console.print(f"[green]✓[/green] job {job.pk}: {job}")


@backups.command()
@click.argument("job_id", metavar="JOB", type=int)
@click.option("--sample", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Files restored and compared.")
@click.option("--read-subset", default="10%", show_default=True,
              help="restic check --read-data-subset (a percentage, or n/t).")
@AS_OPTION
def check(job_id: int, sample: int, read_subset: str, login: str) -> None:
    """Check JOB's restic repository: `restic check --read-data-subset`, then a random
    sample of the newest snapshot's files restored to a scratch directory and compared by
    SHA-256 with the snapshot's content. Recorded either way (the job's evidence; a
    failure is a finding). Exits 1 when the check failed."""
    setup_django()
    from secman.backups import services
    from secman.backups.models import BackupJob

    job = BackupJob.objects.filter(pk=job_id).first()
    if job is None:
        raise click.ClickException(f"no backup job {job_id} (secman backups list)")
    with _steps() as progress:
        progress.add_task(f"restic check of {job}, restoring {sample} files")
        done = refusals_as_errors(lambda: services.run_check(
            actor=_acting(login), job=job, sample_size=sample, read_subset=read_subset))
    if not done.ok:
        console.print(f"[red]✗[/red] {job}: {done.problem}")
        sys.exit(1)
    console.print(f"[green]✓[/green] {job}: snapshot {done.snapshot_id[:8]}, {done.files} "
                  f"files, {done.bytes:,} bytes; {len(done.sample)} restored and matching, "
                  f"in {done.seconds:.1f} s")
    for item in done.sample:
        console.print(f"  {item['sha256']}  {item['path']}")


@backups.command("openpgp-check")
@click.argument("set_id", metavar="SET", type=int)
@click.argument("sample", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@AS_OPTION
def openpgp_check(set_id: int, sample: Path, login: str) -> None:
    """Read SAMPLE, a file of SET's OpenPGP layer, with `gpg --list-packets` (no
    decryption) and record the keys it is encrypted to; the layer counts only when they
    are exactly the DR keys (SECMAN_BACKUP_RECIPIENTS). Exits 1 when they are not."""
    setup_django()
    from secman.backups import services
    from secman.backups.models import BackupSet
    from secman.backups.own import BackupError

    found = BackupSet.objects.filter(pk=set_id).first()
    if found is None:
        raise click.ClickException(f"no backup set {set_id}")
    try:
        row = refusals_as_errors(lambda: services.check_openpgp(
            actor=_acting(login), backup_set=found, sample=sample))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    ids = ", ".join(row.openpgp_key_ids) or "no key (not an OpenPGP message for keys)"
    if not row.openpgp_ok:
        console.print(f"[red]✗[/red] {sample.name} is encrypted to {ids}: not the DR keys")
        sys.exit(1)
    console.print(f"[green]✓[/green] {sample.name} is encrypted to the DR keys ({ids})")
