"""`secman report ...`: the audit report on the command line.

The period and the output path are checked before Django is set up, so a bad argument
costs nothing and writes nothing; the report is rendered in full before the file is
created, and the file appears under its name only once it is complete.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


class Day(click.ParamType):
    """A day as YYYY-MM-DD; anything else is refused with the option's name."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        from secman.compliance.report import ReportError, parse_day

        if isinstance(value, dt.date):
            return value
        try:
            return parse_day(str(value), param.opts[0] if param else "day")
        except ReportError as exc:
            self.fail(str(exc), param, ctx)


def check_output(path: Path) -> None:
    """Refuse an output path the report cannot be written to, before any work."""
    if path.is_dir():
        raise click.BadParameter(f"{path} is a directory; give a file name",
                                 param_hint="--output")
    parent = path.parent
    if not parent.is_dir():
        raise click.BadParameter(f"{parent} is not an existing directory",
                                 param_hint="--output")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists()
                                                     and not os.access(path, os.W_OK)):
        raise click.BadParameter(f"{path} cannot be written", param_hint="--output")


def write_atomically(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a failure leaves no half-written report."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(f"{path} could not be written: {exc.strerror}") from None


@click.group()
def report() -> None:
    """Reports for the Board and auditors."""


@report.command()
@click.option("--from", "first", required=True, type=Day(),
              help="First day of the period (UTC), e.g. 2026-01-01.")
@click.option("--to", "last", required=True, type=Day(),
              help="Last day of the period (UTC), included, e.g. 2026-12-31.")
@click.option("--format", "format_", type=click.Choice(["html", "pdf", "oscal"]),
              default="html", show_default=True,
              help="html (with a print stylesheet), pdf (WeasyPrint) or oscal "
              "(OSCAL 1.1 assessment-results JSON).")
@click.option("--output", "-o", type=click.Path(dir_okay=True, path_type=Path),
              help="File to write (default: standard output for html and oscal; "
              "audit-report-FROM-TO.pdf for pdf).")
@click.option("--new-checkpoint/--latest-checkpoint", default=True, show_default=True,
              help="Sign a checkpoint of the Event Log as it is now (or reuse the one that "
              "covers it), or use the newest checkpoint there is.")
def audit(first: dt.date, last: dt.date, format_: str, output: Path | None,
          new_checkpoint: bool) -> None:
    """The audit report for a period: per SP/SM section, what the SP requires, what the
    SM says is done, the evidence of the period (Event Log entries, duties, attestations)
    with samples, the findings and the exceptions with their authority and expiry.

    The report names the signed Event Log checkpoint it was produced against, so a
    reader can check with `secman eventlog verify --checkpoint FILE` that the evidence
    was not rewritten afterwards."""
    from secman.compliance.report import Period, ReportError

    try:
        period = Period(first, last)
    except ReportError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    if output is None and format_ == "pdf":
        output = Path(f"audit-report-{first}-{last}.pdf")
    if output is not None and str(output) != "-":
        check_output(output)
    elif format_ == "pdf" and sys.stdout.isatty():
        raise click.UsageError("a PDF is not written to a terminal: give --output FILE")

    from secman.core.cli import setup_django

    setup_django()
    from secman.compliance import report as audit_report

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} sections"),
                  console=console, transient=True) as progress:
        task = progress.add_task("Reading the evidence", total=None)

        def step(number: str, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done,
                            description=f"Section {number}" if number else "Evaluated")

        built = audit_report.build(period, fresh_checkpoint=new_checkpoint, progress=step)
    # WeasyPrint does not know how many pages there will be: a spinner with the page it
    # is on rather than a bar.
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(f"Rendering {format_.upper()}", total=None)

        def page(stage: str, number: int) -> None:
            progress.update(task, description=(f"{stage} page {number}"
                                               if stage == "Laying out" else stage))

        data = audit_report.render(built, format_, pages=page)
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomically(output, data)
        console.print(f"[green]✓[/green] {format_.upper()} audit report for {period} "
                      f"written to {output}")
    console.print(f"Event Log entries #1 to #{built.head}, root {built.head_root}")
    if built.covered and built.checkpoint:
        console.print(f"covered by the signed checkpoint at tree size "
                      f"{built.checkpoint.tree_size}")
    elif built.checkpoint:
        console.print(f"[yellow]The newest signed checkpoint covers #1 to "
                      f"#{built.checkpoint.tree_size}; the next one covers the rest.[/yellow]")
    else:
        console.print("[yellow]The Event Log has no checkpoint yet: the next one covers "
                      "this report.[/yellow]")


@report.command("run-job")
@click.argument("job_id", type=click.IntRange(min=1))
def run_job(job_id: int) -> None:
    """Make the report a web page asked for (report job JOB_ID) and store its file under
    SECMAN_DATA_DIR/reports/; also deletes jobs older than 7 days. The web starts this
    in a process of its own; run it by hand only to retry a job that is still queued."""
    from secman.core.cli import setup_django

    setup_django()
    from secman.compliance.report import services
    from secman.core.errors import Refused

    try:
        job = services.run_job(job_id)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # recorded on the job; one line here
        raise click.ClickException(f"report job {job_id} failed: {exc}") from None
    console.print(f"report job {job.pk}: {job.size} bytes in {job.file}")
