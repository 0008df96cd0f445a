"""`secman duties`: run the compliance duties round once, or in a loop (cron or a
separate process, instead of the one `secman serve` runs in-process)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from secman.core.cli import setup_django

console = Console(stderr=True)


@click.group()
def duties() -> None:
    """Recurring duties: generate occurrences, evaluate every control, mail reminders."""


def _print_summary(summary: Any) -> None:
    if summary.skipped:
        console.print("Another replica is running the round (PostgreSQL advisory lock held); "
                      "this one did nothing.")
        return
    table = Table(title=f"Duties round at {summary.started_at:%Y-%m-%d %H:%M:%S} UTC",
                  show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("duties added", summary.duties_added),
        ("occurrences generated", summary.occurrences_generated),
        ("procedure copies refreshed", summary.procedures_refreshed),
        ("four-eyes requests expired, reopened", summary.signoffs_reopened),
        *([("Event Log checkpoint signed at", summary.log_checkpoint)]
          if summary.log_checkpoint is not None else []),
        *([("Event Log verified (daily)",
            "intact" if summary.log_verified else "[red]FAILED[/red]"),
           ("Event Log entries purged", summary.log_purged)]
          if summary.log_verified is not None else []),
        ("controls evaluated", summary.controls_evaluated),
        *((f"  {status}", count) for status, count in sorted(summary.statuses.items())),
        ("reminders sent", summary.reminders_sent),
        ("overdue notices sent", summary.overdue_sent),
    ]
    if summary.unaddressed:
        rows.append(("[yellow]occurrences with nobody to tell[/yellow]", summary.unaddressed))
    if summary.mails_failed:
        rows.append(("[red]mails failed (retried next round)[/red]", summary.mails_failed))
    if summary.log_upkeep_failed:
        rows.append(("[red]Event Log upkeep failed (see the log)[/red]", "—"))
    for label, count in rows:
        table.add_row(label, str(count))
    console.print(table)


def _one_round() -> Any:
    from secman.compliance import runner

    with Progress(TextColumn("{task.description}"), BarColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("Duties", total=len(runner.STEPS))
        seen: list[str] = []

        def advance(step: str) -> None:
            if seen:
                progress.advance(task)
            seen.append(step)
            progress.update(task, description=step)

        summary = runner.run(progress=advance)
    return summary


@duties.command("run")
@click.option("--every", type=click.IntRange(min=0), default=0, metavar="SECONDS",
              help="Repeat every SECONDS until stopped by SIGTERM or Ctrl-C (a separate "
              "process instead of the one `secman serve` starts). 0: one round, then exit.")
@click.option("--served-by", type=int, default=None, hidden=True, metavar="PID",
              help="Set by `secman serve`: stop when process PID is gone, and log one line "
              "per round instead of a table.")
def run_command(every: int, served_by: int | None) -> None:
    """Sync duties, generate occurrences, do the Event Log's upkeep (a checkpoint when
    entries have waited; once a day a full verification and the retention purge),
    evaluate every control, record today's statuses, and mail the reminders and overdue
    notices that have come due.

    Idempotent: a second round sends nothing twice. Safe with several replicas: every
    mail is claimed by a conditional UPDATE before it is sent. Exits 1 when a mail could
    not be sent (it is retried by the next round), when the Event Log upkeep failed, or
    when the daily verification found the log changed."""
    setup_django()
    if not every:
        summary = _one_round()
        _print_summary(summary)
        if (summary.mails_failed or summary.log_upkeep_failed
                or summary.log_verified is False):
            raise SystemExit(1)
        return

    from secman.compliance import runner

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if served_by is None:
        console.print(f"Running the duties round every {every}s; SIGTERM or Ctrl-C stops.")
        runner.run_forever(every, stop, report=_print_summary)
        console.print("Stopped.")
        return
    # A server killed outright (SIGKILL, OOM) cannot stop its duties process: the process
    # notices that it has been handed to another parent and stops by itself.
    threading.Thread(target=_stop_when_orphaned, args=(served_by, stop), daemon=True,
                     name="secman-duties-parent").start()
    runner.run_forever(every, stop, report=runner.log_summary)


def _stop_when_orphaned(parent: int, stop: threading.Event) -> None:
    while not stop.wait(1):
        if os.getppid() != parent:
            stop.set()
