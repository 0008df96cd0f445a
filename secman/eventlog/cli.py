"""`secman eventlog ...`: verify, export, checkpoints, proofs, retention, keys, and the
scheduler loop that runs the log's recurring duties."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress

from secman.core.cli import refusals_as_errors, setup_django

console = Console(stderr=True)

# A checkpoint is a few hundred bytes; a witness's mail with it, a few kilobytes.
CHECKPOINT_FILE_CAP = 1024 * 1024


@click.group()
def eventlog() -> None:
    """The Event Log: verify it, export it, prove entries, keep it by retention class."""


@eventlog.command()
@click.option("--checkpoint", "checkpoints", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint kept outside secman (a mail, a file); repeatable. The log "
              "must still hash to its root.")
@click.option("--columns/--no-columns", default=True, show_default=True,
              help="Also check every entry's query columns against its hashed bytes.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the outcome as JSON on standard output (the problems, and how many "
              "entries no signed and no witnessed checkpoint covers yet).")
def verify(checkpoints: tuple[Path, ...], columns: bool, as_json: bool) -> None:
    """Re-hash every entry, rebuild the Merkle tree and check it against every signed
    checkpoint and its signature, every witness's checkpoint imported before, and every
    --checkpoint given; name the first bad entry. Then say how many entries no signed
    checkpoint covers yet, and how many no witnessed one (held outside secman) does: those
    are the entries that cutting off the end of the log, or rewriting it and signing again
    with the signing key, would leave undetected (docs/eventlog.md).

    Exits 0 when the log is intact, 1 when a problem was found, 2 when a --checkpoint
    file cannot be read as a checkpoint (or the command line is wrong). The run is
    recorded (the Event Log page shows when the log was last verified, and by whom)."""
    outside = [(str(path), _checkpoint_file(path)) for path in checkpoints]
    setup_django()
    from secman.eventlog import verification

    total = verification.head_size()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Re-hashing entries, rebuilding the tree", total=total)
        column_task = (progress.add_task("Checking the query columns", total=total)
                       if columns else None)
        run, report = verification.run_with_report(
            by=None, by_label="secman eventlog verify (command line)", columns=columns,
            outside=outside, progress=lambda n: progress.advance(task, n),
            columns_progress=(None if column_task is None
                              else lambda n: progress.advance(column_task, n)))
    if as_json:
        click.echo(json.dumps({
            "ok": run.ok, "entries": report.entries, "checkpoints": report.checkpoints,
            "problems": run.problems.splitlines(),
            "signed_up_to": report.signed, "not_signed": report.not_signed,
            "witnessed_up_to": report.witnessed, "not_witnessed": report.not_witnessed,
        }, indent=1))
    if not run.ok:
        problems = run.problems.splitlines()
        for problem in problems[:20]:
            console.print(f"[red]✗[/red] {problem}")
        if len(problems) > 20:
            console.print(f"... and {len(problems) - 20} more problems")
        raise SystemExit(1)
    console.print(f"[green]✓[/green] {run.entries} entries and {run.checkpoints} "
                  "checkpoints verified; the log is intact.")
    for line in coverage_lines(report):
        console.print(line)


def _checkpoint_file(path: Path) -> str:
    """A --checkpoint file's text, or exit 2 saying why it cannot be one."""
    from secman.eventlog import note
    from secman.files import FileRefused, read_capped_text

    try:
        text = read_capped_text(path, CHECKPOINT_FILE_CAP).replace("\r\n", "\n")
        note.CheckpointBody.parse(note.SignedNote.parse(text).text)
    except (FileRefused, note.NoteError) as exc:
        console.print(f"[red]✗[/red] {path} cannot be read as a checkpoint: {exc}")
        raise SystemExit(2) from None
    return text


def coverage_lines(report: Any) -> list[str]:
    """What the signed and the witnessed checkpoints leave open, in words."""
    from django.conf import settings

    lines = []
    if report.not_signed:
        lines.append(
            f"[yellow]![/yellow] {report.not_signed} of {report.entries} entries "
            f"(after #{report.signed}) are not covered by a signed checkpoint yet (one is "
            f"signed within {settings.EVENTLOG_CHECKPOINT_SECONDS}s of new entries); "
            "until then they could be cut off the end of the log undetected.")
    else:
        lines.append(f"Signed checkpoints cover all {report.entries} entries.")
    if not report.witnessed:
        lines.append(
            f"[yellow]![/yellow] No witnessed checkpoint: none of the {report.entries} "
            "entries is covered by a checkpoint held outside secman, so whoever holds the "
            "signing key and the database could rewrite the log and sign it again "
            "undetected. Give a witness's copy with --checkpoint FILE, or import one "
            "(docs/eventlog.md).")
    elif report.not_witnessed:
        lines.append(
            f"[yellow]![/yellow] {report.not_witnessed} of {report.entries} entries "
            f"(after #{report.witnessed}) are not covered by a witnessed checkpoint (held "
            "outside secman) yet.")
    else:
        lines.append(f"Witnessed checkpoints cover all {report.entries} entries.")
    return lines


@eventlog.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]),
              help="First day (UTC) of the entries to export.")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]),
              help="Last day (UTC) of the entries to export.")
def export(directory: Path, since: dt.datetime | None, until: dt.datetime | None) -> None:
    """Write a self-contained bundle to DIRECTORY (which must not exist): entries,
    checkpoints, public keys and proofs. An auditor verifies it offline with
    `python -m secman.eventlog.verify DIRECTORY`."""
    setup_django()
    from secman.eventlog import bundle

    if directory.exists():
        raise click.ClickException(f"{directory} exists; give a new directory")
    try:
        manifest = bundle.export(directory, since=since.date() if since else None,
                                 until=until.date() if until else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]✓[/green] entries #{manifest['first']} to #{manifest['last']} "
                  f"written to {directory}")


@eventlog.command()
def checkpoint() -> None:
    """Sign a checkpoint of the log as it is now, and print it."""
    setup_django()
    from secman.eventlog.checkpoints import write_checkpoint

    click.echo(write_checkpoint().note, nl=False)


@eventlog.group()
def proof() -> None:
    """RFC 9162 proofs, as JSON."""


@proof.command()
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--size", type=click.IntRange(min=1), help="Tree size (default: all entries).")
def inclusion(seq: int, size: int | None) -> None:
    """Prove that entry SEQ is in the tree of SIZE entries."""
    setup_django()
    from secman.eventlog.proofs import inclusion_proof

    try:
        click.echo(json.dumps(inclusion_proof(seq, size), indent=2))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@proof.command()
@click.argument("first", type=click.IntRange(min=1))
@click.argument("second", type=click.IntRange(min=1), required=False)
def consistency(first: int, second: int | None) -> None:
    """Prove that the tree of FIRST entries is the start of the tree of SECOND."""
    setup_django()
    from secman.eventlog.proofs import consistency_proof

    try:
        click.echo(json.dumps(consistency_proof(first, second), indent=2))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@eventlog.command("import-checkpoint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_checkpoint(file: Path) -> None:
    """Check a checkpoint kept outside secman (a witness's copy) against the log now, and
    remember it (every verification checks it again). Exits 0 when it is consistent with
    the log, 1 when it is not, 2 when the file cannot be read as a checkpoint."""
    text = _checkpoint_file(file)
    setup_django()
    from secman.core.validation import max_length, one_line
    from secman.eventlog.checkpoints import import_checkpoint as check
    from secman.eventlog.models import WitnessCheckpoint

    longest_source = max_length(WitnessCheckpoint, "source")

    try:
        # The file's path says where the copy came from; a long one is shortened, not
        # refused (it is the operator's own file).
        witness = check(text, source=one_line(str(file), longest_source))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not witness.consistent:
        console.print(f"[red]✗[/red] {witness.message}")
        raise SystemExit(1)
    console.print(f"[green]✓[/green] {witness.message}")


@eventlog.command()
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]),
              help="Purge entries older than this day instead of those past their class's "
              "maximum; refused where a class's minimum is not yet reached.")
def purge(before: dt.datetime | None) -> None:
    """Remove the payload of entries past their retention maximum (SM 4.2.1), keeping
    their leaf hashes so the tree and all proofs stay valid. Entries under a legal hold
    stay. The purge is itself an entry."""
    setup_django()
    from django.utils import timezone

    from secman.eventlog.retention import purge as run_purge

    cutoff = timezone.make_aware(before, dt.UTC) if before else None
    result = refusals_as_errors(lambda: run_purge(before=cutoff))
    total = sum(result.purged.values())
    console.print(f"Purged {total} entries {dict(result.purged) or ''}; "
                  f"{result.held} kept by legal holds.")


@eventlog.group()
def keys() -> None:
    """The checkpoint signing keys."""


@keys.command("export")
def keys_export() -> None:
    """Print every verifier key that ever signed a checkpoint (name+id+key)."""
    setup_django()
    from secman.eventlog.keys import verifier_keys

    for line in verifier_keys():
        click.echo(line)


@keys.command()
def rotate() -> None:
    """Retire the current signing key and make a new one. Old checkpoints still verify
    with the retired key, which stays listed."""
    setup_django()
    from secman.eventlog.checkpoints import rotate_key as run_rotate

    try:
        old, new = run_rotate()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"Retired {old.key_id}; checkpoints are now signed with {new.key_id}.")


@eventlog.group()
def origin() -> None:
    """The log's name in every checkpoint and of its signing key (its origin). It is
    kept in the database from the first key on and signs whatever SECMAN_SITE_URL says;
    it changes only with `origin set`."""


@origin.command("show")
def origin_show() -> None:
    """Print the name the log signs as."""
    setup_django(check_origin=False)
    from secman.eventlog import keys

    stored = keys.stored_origin()
    if stored:
        click.echo(stored)
    else:
        click.echo(keys.origin())
        console.print("(no key yet: the first checkpoint fixes this name)")
    if problem := keys.mismatch(stored):
        console.print(f"[red]✗[/red] {problem}")
        raise SystemExit(1)


@origin.command("set")
@click.argument("new")
@click.option("--authority", required=True,
              help="What authorises the change: a section (SM 4.2.2), an Arbitration case "
              "or a Board decision.")
def origin_set(new: str, authority: str) -> None:
    """Rename the log to NEW: retire the signing key, make one named NEW (or register the
    SECMAN_EVENTLOG_KEY_FILE key under NEW), record an Event Log entry with the old and
    the new name, and sign a checkpoint as NEW linked to the last one. Old checkpoints
    keep verifying with their keys. If SECMAN_EVENTLOG_ORIGIN is set, it must say NEW."""
    setup_django(check_origin=False)
    from secman.core.errors import Refused
    from secman.eventlog.checkpoints import change_origin

    try:
        old, checkpoint = change_origin(new, authority=authority)
    except (Refused, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"The Event Log was {old!r} and is now {new!r}; checkpoint at "
                  f"{checkpoint.tree_size} signed with key {checkpoint.key.key_id}.")


@eventlog.command()
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds between rounds.")
@click.option("--once", is_flag=True, help="Run one round and stop.")
@click.option("--checkpoints-only", is_flag=True,
              help="Only sign checkpoints, looking every few seconds so that no entry waits "
              "longer than SECMAN_EVENTLOG_CHECKPOINT_SECONDS (default 60) for one; "
              "--interval is not used. `secman serve` runs this beside gunicorn.")
@click.option("--served-by", type=int, default=None, hidden=True, metavar="PID",
              help="Set by `secman serve`: stop when process PID is gone.")
def scheduler(interval: int, once: bool, checkpoints_only: bool,
              served_by: int | None) -> None:
    """Run the log's recurring duties until stopped (SIGTERM or Ctrl-C): a checkpoint
    when entries have waited SECMAN_EVENTLOG_CHECKPOINT_SECONDS, and once a day a full
    verification (SM 4.2.3: automated logs reviewed daily) and the retention purge.
    Every duties round (`secman serve`, `secman duties run`) does the same; this is for
    a deployment that runs neither. With --checkpoints-only, it signs the checkpoints
    only, within SECMAN_EVENTLOG_CHECKPOINT_SECONDS of every new entry."""
    setup_django()
    from secman.eventlog import checkpoints, upkeep

    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    poll = upkeep.checkpoint_poll_seconds() if checkpoints_only else interval
    log = logging.getLogger(__name__)
    while not stopping:
        try:
            if checkpoints_only:
                signed = checkpoints.checkpoint_if_due(early=poll)
                if signed is not None:
                    log.info("signed a checkpoint at %s", signed.tree_size)
            else:
                done = upkeep.run_due()
                if done.checkpoint is not None:
                    console.print(f"signed a checkpoint at {done.checkpoint.tree_size}")
                if done.verification is not None:
                    console.print("daily verification: "
                                  f"{'intact' if done.verification.ok else 'FAILED'}")
                    console.print(f"retention purge: {done.purged} entries")
        except KeyboardInterrupt:
            break
        except Exception:  # one failed round (database away, a role without UPDATE for
            # the purge) must not end the duties; it is logged and tried again.
            log.exception("scheduler round failed")
        if once:
            break
        for _ in range(poll):
            if stopping or (served_by is not None and os.getppid() != served_by):
                # A server killed outright cannot stop this process: handed to another
                # parent, it stops by itself.
                stopping = True
                break
            time.sleep(1)
    sys.stderr.flush()
