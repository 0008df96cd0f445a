"""`secman logs ...`: take the systems' messages from rsyslog's spool, search, verify,
export and purge them, and keep the rules that classify and examine them (SP/SM 4.2, 5.2).
Reading the messages is for Systems Administrators (--as); each search is an Event Log
entry."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from secman.core.cli import refusals_as_errors, setup_django

AS_OPTION = click.option("--as", "login", default="", metavar="LOGIN",
                         help="The Systems Administrator acting (default: the command "
                         "line's operator).")
AUTHORITY_HELP = "The authority: an SP/SM section or a Board minute."
JSON_HELP = "Print JSON on standard output instead of a table."


def _acting(login: str) -> Any:
    from secman.people.cli_helpers import person

    return person(login) if login else None


def _when(value: str | None, option: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date or time like 2026-12-04 or "
                                 "2026-12-04T13:00", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@click.group()
def logs() -> None:
    """The systems' logs (SP/SM 4.2, 5.2): collected by rsyslog, stored by retention
    class in a Merkle log with signed checkpoints, examined by Sigma rules."""


@logs.command()
@click.argument("spool", type=click.Path(file_okay=False, path_type=Path))
@click.option("--follow", is_flag=True, help="Keep reading as rsyslog writes, until SIGTERM "
              "or Ctrl-C (what the service runs); without it, read what is there and stop.")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 100000),
              help="Messages committed together.")
@click.option("--quiet", is_flag=True, help="No progress display (for services and logs).")
@click.option("--served-by", type=int, default=None, hidden=True, metavar="PID",
              help="Stop when this process (secman serve) is gone.")
def ingest(spool: Path, follow: bool, batch: int, quiet: bool, served_by: int | None) -> None:
    """Store what rsyslog wrote to SPOOL (the directory of its omfile action, see
    docs/logs.md): each file from where the last commit ended, so a killed ingest loses
    nothing and stores nothing twice."""
    setup_django()
    from secman.logs import ingest as ingest_module

    refusals_as_errors(lambda: ingest_module.ensure_spool(spool))
    stopping = []

    def stop(*_: Any) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    totals = {"messages": 0, "anomalies": 0, "checkpoints": 0}
    console = Console(stderr=True, quiet=quiet)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=not follow) as progress:
        task = progress.add_task("reading the spool")

        def on_batch(stored: Any) -> None:
            totals["messages"] += stored.messages
            totals["anomalies"] += len(stored.new_anomalies)
            totals["checkpoints"] += stored.checkpoint is not None
            progress.update(task, description=(
                f"{totals['messages']:,} messages stored, {totals['anomalies']} new "
                f"anomalies, {totals['checkpoints']} checkpoints"))

        try:
            if follow:
                ingest_module.follow(spool, stop=lambda: bool(stopping) or (
                    served_by is not None and os.getppid() != served_by), batch=batch,
                    on_batch=on_batch)
            else:
                ingest_module.read_spool(spool, batch=batch, on_batch=on_batch)
        except KeyboardInterrupt:
            pass
        except ingest_module.SpoolError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{totals['messages']:,} messages stored, {totals['anomalies']} new anomalies")


def _search_options(function: Any) -> Any:
    for option in reversed([
        click.option("--host", default="", help="The host name as the message gives it."),
        click.option("--class", "log_class", default="",
                     help="A class of SM 4.2.1: anomalous_traffic, system, login, "
                     "application, signing_requests, configuration."),
        click.option("--since", default=None, help="From this date or time (UTC)."),
        click.option("--until", default=None, help="Before this date or time (UTC)."),
        click.option("--text", default="", help="Text the message contains."),
    ]):
        function = option(function)
    return function


def _search(host: str, log_class: str, since: str | None, until: str | None,
            text: str) -> Any:
    from secman.logs.services import Search

    return Search(host=host, log_class=log_class, since=_when(since, "--since"),
                  until=_when(until, "--until"), text=text)


@logs.command("search")
@_search_options
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@AS_OPTION
def search_command(host: str, log_class: str, since: str | None, until: str | None,
                   text: str, page: int, as_json: bool, login: str) -> None:
    """Messages, newest first, 100 a page. The search is an Event Log entry."""
    setup_django()
    from secman.logs import services

    query = _search(host, log_class, since, until, text)
    rows, more = refusals_as_errors(lambda: services.search(
        actor=_acting(login), search=query, page=page))
    if as_json:
        json.dump([{"seq": m.seq, "received": m.received_at.isoformat(), "host": m.host,
                    "class": m.log_class, "facility": m.facility, "severity": m.severity,
                    "program": m.program, "text": m.text,
                    "purged": m.purged_at is not None} for m in rows], sys.stdout, indent=1)
        click.echo()
        return
    table = Table("#", "received (UTC)", "host", "class", "program", "message")
    for m in rows:
        table.add_row(str(m.seq), f"{m.received_at:%Y-%m-%d %H:%M:%S}", escape(m.host),
                      m.log_class, escape(m.program),
                      escape(m.text if m.purged_at is None else "(purged)"))
    Console().print(table)
    if more:
        click.echo(f"more: --page {page + 1}")


@logs.command()
@click.option("--checkpoint", is_flag=True,
              help="Sign a checkpoint of everything stored before verifying.")
def verify(checkpoint: bool) -> None:
    """Re-hash every message, rebuild the tree, and check every signed checkpoint. Exit
    status 1 on a problem."""
    setup_django()
    from secman.logs import tree

    if checkpoint:
        tree.checkpoint_now()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("verifying")
        result = tree.verify(progress=lambda done: progress.update(
            task, description=f"{done:,} messages re-hashed"))
    click.echo(f"{result.messages:,} messages ({result.purged:,} purged), "
               f"{result.checkpoints} checkpoints")
    for problem in result.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if not result.ok:
        raise SystemExit(1)
    click.echo("OK: every message hashes to its leaf and every checkpoint verifies")


@logs.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_search_options
@AS_OPTION
def export(directory: Path, host: str, log_class: str, since: str | None,
           until: str | None, text: str, login: str) -> None:
    """Write a bundle to DIRECTORY that an auditor verifies offline with
    `python -m secman.logs.verify DIRECTORY`: every message, or those the filters select
    with an inclusion proof each."""
    setup_django()
    from secman.logs import services

    manifest = refusals_as_errors(lambda: services.export(
        actor=_acting(login), directory=directory,
        search=_search(host, log_class, since, until, text)))
    click.echo(f"{manifest['messages']:,} messages in {directory}; verify with: python -m "
               f"secman.logs.verify {directory}")


@logs.command()
@AS_OPTION
def purge(login: str) -> None:
    """Empty the messages past their class's retention (SM 4.2.1), keeping their leaf
    hashes; legal holds keep theirs (SM 4.4.2)."""
    setup_django()
    from secman.logs import services

    purged = refusals_as_errors(lambda: services.purge(actor=_acting(login)))
    click.echo("purged: " + (", ".join(f"{n:,} {c}" for c, n in purged.items()) or "nothing"))


# --- rules ----------------------------------------------------------------------------------


@logs.group()
def rules() -> None:
    """The Sigma detection rules (SM 5.2)."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def rules_list(as_json: bool) -> None:
    """Every rule, enabled or not, with its version."""
    setup_django()
    from secman.logs.models import DetectionRule

    rows = list(DetectionRule.objects.order_by("name"))
    if as_json:
        json.dump([{"name": r.name, "title": r.title, "level": r.level,
                    "correlation": r.correlation, "enabled": r.enabled,
                    "version": r.version} for r in rows], sys.stdout, indent=1)
        click.echo()
        return
    table = Table("name", "title", "level", "kind", "enabled", "version")
    for r in rows:
        table.add_row(r.name, escape(r.title), r.level,
                      "correlation" if r.correlation else "detection",
                      "yes" if r.enabled else "no", str(r.version))
    Console().print(table)


@rules.command("add")
@click.argument("file", type=click.File("r"))
@click.option("--authority", default="SM 5.2", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def rules_add(file: Any, authority: str, login: str) -> None:
    """Add the Sigma rule in FILE (one YAML document with a `name:`)."""
    setup_django()
    from secman.logs import rules as rule_services

    rule = refusals_as_errors(lambda: rule_services.add_detection_rule(
        actor=_acting(login), yaml_text=file.read(), authority=authority))
    click.echo(f"added {rule.name}: {rule.title}")


@rules.command("change")
@click.argument("name")
@click.argument("file", type=click.File("r"))
@click.option("--authority", default="SM 5.2", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def rules_change(name: str, file: Any, authority: str, login: str) -> None:
    """Replace rule NAME's text with FILE's (a new version)."""
    _change(name, authority, login, yaml_text=file.read())


@rules.command("disable")
@click.argument("name")
@click.option("--authority", default="SM 5.2", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def rules_disable(name: str, authority: str, login: str) -> None:
    """Stop rule NAME examining new messages."""
    _change(name, authority, login, enabled=False)


@rules.command("enable")
@click.argument("name")
@click.option("--authority", default="SM 5.2", show_default=True, help=AUTHORITY_HELP)
@AS_OPTION
def rules_enable(name: str, authority: str, login: str) -> None:
    """Let rule NAME examine new messages again."""
    _change(name, authority, login, enabled=True)


def _change(name: str, authority: str, login: str, **change: Any) -> None:
    setup_django()
    from secman.logs import rules as rule_services
    from secman.logs.models import DetectionRule

    found = DetectionRule.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no rule is named {name!r} (secman logs rules list)")
    rule = refusals_as_errors(lambda: rule_services.change_detection_rule(
        actor=_acting(login), rule=found, authority=authority, **change))
    click.echo(f"{rule.name} is at version {rule.version}, "
               f"{'enabled' if rule.enabled else 'disabled'}")


# --- anomalies ------------------------------------------------------------------------------


@logs.group()
def anomalies() -> None:
    """What the rules found, and the monitor's examination of it (SM 5.2)."""


@anomalies.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only those not examined yet.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def anomalies_list(only_open: bool, as_json: bool) -> None:
    """The anomalies, newest first."""
    setup_django()
    from secman.logs.models import Anomaly, AnomalyStatus

    rows = Anomaly.objects.select_related("rule").order_by("-last_seen")
    if only_open:
        rows = rows.filter(status=AnomalyStatus.OPEN)
    if as_json:
        json.dump([{"id": a.pk, "rule": a.rule.name, "host": a.host, "group": a.group_key,
                    "matches": a.matches, "status": a.status,
                    "first_seen": a.first_seen.isoformat(),
                    "last_seen": a.last_seen.isoformat(), "reason": a.reason}
                   for a in rows[:1000]], sys.stdout, indent=1)
        click.echo()
        return
    table = Table("id", "rule", "host", "group", "matches", "last seen (UTC)", "status")
    for a in rows[:200]:
        table.add_row(str(a.pk), a.rule.name, escape(a.host), escape(a.group_key),
                      f"{a.matches:,}", f"{a.last_seen:%Y-%m-%d %H:%M}",
                      a.get_status_display())
    Console().print(table)


@anomalies.command("dismiss")
@click.argument("anomaly_id", type=int)
@click.option("--reason", required=True, help="What the messages were and why harmless.")
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The Systems Administrator examining it.")
def anomalies_dismiss(anomaly_id: int, reason: str, login: str) -> None:
    """Dismiss an anomaly with a reason (SM 5.2)."""
    _examine(anomaly_id, "dismissed", reason, login)


def _examine(anomaly_id: int, outcome: str, reason: str, login: str) -> None:
    setup_django()
    from secman.logs import services
    from secman.logs.models import Anomaly

    anomaly = Anomaly.objects.filter(pk=anomaly_id).first()
    if anomaly is None:
        raise click.ClickException(f"there is no anomaly {anomaly_id}")
    done = refusals_as_errors(lambda: services.examine(
        actor=_acting(login), anomaly=anomaly, outcome=outcome, reason=reason))
    click.echo(f"anomaly {done.pk}: {done.get_status_display().lower()}")


# --- class rules ----------------------------------------------------------------------------


@logs.group()
def classes() -> None:
    """The rules that give each message its SM 4.2.1 class (first match by position)."""


@classes.command("list")
def classes_list() -> None:
    """The class rules in the order they are tried."""
    setup_django()
    from secman.logs.models import ClassRule

    table = Table("id", "position", "class", "programs", "facilities", "hosts", "text",
                  "enabled")
    for c in ClassRule.objects.order_by("position", "id"):
        table.add_row(str(c.pk), str(c.position), c.log_class, escape(c.programs),
                      c.facilities, escape(c.hosts), escape(c.text_contains),
                      "yes" if c.enabled else "no")
    Console().print(table)


_CLASS_OPTIONS = [
    click.option("--class", "log_class", required=True, help="The class it gives."),
    click.option("--programs", default="", help="Program names, separated by spaces."),
    click.option("--facilities", default="", help="Facility numbers, separated by spaces."),
    click.option("--hosts", default="", help="Host names or patterns (signer*)."),
    click.option("--text", "text_contains", default="", help="Text the message contains."),
    click.option("--note", default="", help="Why the rule is there."),
    click.option("--authority", default="SM 4.2.1", show_default=True, help=AUTHORITY_HELP),
    AS_OPTION,
]


def _class_options(function: Any) -> Any:
    for option in reversed(_CLASS_OPTIONS):
        function = option(function)
    return function


@classes.command("add")
@click.option("--position", type=int, default=None,
              help="Where it is tried (default: after the others).")
@_class_options
def classes_add(position: int | None, authority: str, login: str, **values: Any) -> None:
    """Add a class rule; it classifies the messages that arrive from now on."""
    setup_django()
    from secman.logs import rules as rule_services

    rule = refusals_as_errors(lambda: rule_services.add_class_rule(
        actor=_acting(login), values=values, authority=authority, position=position))
    click.echo(f"class rule {rule.pk} at position {rule.position}")


@classes.command("change")
@click.argument("rule_id", type=int)
@click.option("--disable", is_flag=True, help="Stop using the rule.")
@_class_options
def classes_change(rule_id: int, disable: bool, authority: str, login: str,
                   **values: Any) -> None:
    """Replace class rule RULE_ID's conditions (or --disable it)."""
    setup_django()
    from secman.logs import rules as rule_services
    from secman.logs.models import ClassRule

    found = ClassRule.objects.filter(pk=rule_id).first()
    if found is None:
        raise click.ClickException(f"there is no class rule {rule_id}")
    rule = refusals_as_errors(lambda: rule_services.change_class_rule(
        actor=_acting(login), rule=found, values=values, authority=authority,
        enabled=False if disable else None))
    click.echo(f"class rule {rule.pk}: {'enabled' if rule.enabled else 'disabled'}")
