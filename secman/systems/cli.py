"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

import json
import sys
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

JSON_HELP = "Print JSON on standard output instead of a table."
STATUS_STYLE = {"in_service": "green", "installed": "yellow", "planned": "yellow",
                "retired": "dim", "approved": "green", "requested": "yellow",
                "refused": "red", "ended": "dim"}


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""


def _styled(value: str) -> str:
    style = STATUS_STYLE.get(value)
    return f"[{style}]{value}[/{style}]" if style else value


def _system_row(system: Any) -> dict[str, Any]:
    return {
        "name": system.name, "kind": system.kind, "host": system.host.name if system.host
        else None, "criticality": system.criticality,
        "critical_authority": str(system.critical_authority or "") or None,
        "status": system.status, "purpose": system.purpose,
        "primary_admin": str(system.primary_admin or "") or None,
        "secondary_admin": str(system.secondary_admin or "") or None,
        "os": f"{system.os_name} {system.os_release}".strip(),
        "disk_encryption": system.disk_encryption,
        "inspected_at": system.inspected_at.isoformat() if system.inspected_at else None,
    }


def _flow_row(flow: Any) -> dict[str, Any]:
    return {"id": flow.pk, "system": flow.system.name, "direction": flow.direction,
            "port": flow.port_label, "service": flow.service, "peer": flow.peer,
            "purpose": flow.purpose, "status": flow.status,
            "temporary_until": flow.temporary_until.isoformat() if flow.temporary_until
            else None, "requested_by": str(flow.requested_by or "") or None,
            "decided_by": str(flow.decided_by or "") or None}


@systems.command("list")
@click.option("--status", type=click.Choice(["planned", "installed", "in_service",
                                             "retired"]), help="Only systems in this status.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def list_systems(status: str | None, as_json: bool) -> None:
    """The register: every system with its criticality, status, administrators, flows in
    effect (in / out), requests waiting and findings (SP 1.1, 1.2, 3.1, 3.2)."""
    setup_django()
    from secman.systems import controls, selectors

    rows = selectors.systems_overview()
    if status:
        rows = rows.filter(status=status)
    findings = controls.register_findings()
    counted = {s.name: sum(1 for f in findings if f.url == s.get_absolute_url()) for s in rows}
    if as_json:
        click.echo(json.dumps([{**_system_row(s), **_counts(s), "findings": counted[s.name]}
                               for s in rows], indent=1))
        return
    table = Table(title="Systems")
    for column in ("Name", "Kind", "Criticality", "Status", "Administrators", "Flows in/out",
                   "Waiting", "Findings"):
        table.add_column(column)
    for s in rows:
        admins = ", ".join(str(p) for p in (s.primary_admin, s.secondary_admin) if p) or "—"
        table.add_row(s.name, s.get_kind_display() + (f" on {s.host.name}" if s.host else ""),
                      "[red]critical[/red]" if s.criticality == "critical" else s.criticality,
                      _styled(s.status), admins,
                      "{flows_in}/{flows_out}".format(**_counts(s)),
                      str(_counts(s)["flows_waiting"]), f"[red]{counted[s.name]}[/red]"
                      if counted[s.name] else "0")
    Console().print(table)


def _counts(system: Any) -> dict[str, int]:
    """The flow counts selectors.systems_overview annotates each system with."""
    return {key: getattr(system, key) for key in ("flows_in", "flows_out", "flows_waiting")}


def _system_or_fail(name: str) -> Any:
    from secman.systems import selectors

    system = selectors.system_by_name(name)
    if system is None:
        raise click.ClickException(f"no system named {name!r} in the register "
                                   "(secman systems list)")
    return system


@systems.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def show(name: str, as_json: bool) -> None:
    """One system: every field, its addresses, DNS records, flows and findings."""
    setup_django()
    from secman.systems import controls

    system = _system_or_fail(name)
    addresses = [{"network": a.network, "address": a.address, "interface": a.interface}
                 for a in system.addresses.all()]
    dns = [{"name": r.name, "rtype": r.rtype, "content": r.content}
           for r in system.dns_records.all()]
    flows = [_flow_row(f) for f in system.flows.select_related("system", "requested_by",
                                                                "decided_by")]
    findings = controls.findings_for(system, controls.register_findings())
    if as_json:
        click.echo(json.dumps({**_system_row(system), "addresses": addresses,
                               "dns_records": dns, "flows": flows,
                               "running_services": system.running_services,
                               "databases": system.databases,
                               "findings": [{"section": f.section, "message": f.message}
                                            for f in findings]}, indent=1))
        return
    console = Console()
    facts = Table(title=f"{system.name}", show_header=False)
    facts.add_column("field", style="bold")
    facts.add_column("value")
    for key, value in _system_row(system).items():
        facts.add_row(key.replace("_", " "), _styled(str(value)) if value is not None else "—")
    for a in addresses:
        facts.add_row(f"address ({a['network']})", f"{a['address']} {a['interface']}")
    for r in dns:
        facts.add_row("DNS", f"{r['name']} {r['rtype']} {r['content']}")
    console.print(facts)
    _print_flows(console, flows, f"Flows of {system.name}")
    for f in findings:
        console.print(f"[red]✗[/red] {f.section}: {f.message}")


def _print_flows(console: Console, flows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for column in ("Id", "System", "Direction", "Port", "Service", "Peer", "Purpose",
                   "Status"):
        table.add_column(column)
    for f in flows:
        status = _styled(f["status"]) + (f" until {f['temporary_until'][:16]}"
                                         if f["temporary_until"] else "")
        table.add_row(str(f["id"]), f["system"], f["direction"], f["port"], f["service"],
                      f["peer"], f["purpose"], status)
    console.print(table)


@systems.command("flows")
@click.argument("name", required=False)
@click.option("--status", type=click.Choice(["requested", "approved", "refused", "ended"]),
              help="Only flows in this status.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def flows(name: str | None, status: str | None, as_json: bool) -> None:
    """Every documented flow (SM 3.1.2), or those of system NAME: requests waiting for the
    Systems Administration team leader first (SP 3.1.1.2)."""
    setup_django()
    from secman.systems import selectors

    system = _system_or_fail(name) if name else None
    rows = [_flow_row(f) for f in selectors.pending_first(
        selectors.flows_listed(status or "", system))]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    _print_flows(Console(), rows, f"Flows of {name}" if name else "Flows")
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
# --- firewall rules and the network diagram (SM 3.1.2, SP 3.1.1) ---------------------------


@systems.command("firewall")
@click.argument("system_name", metavar="SYSTEM")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the ruleset to this file instead of standard output.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Check the ruleset with `nft -c -f -` (needs nftables and root).")
def firewall_command(system_name: str, output: str | None, check: bool) -> None:
    """Write SYSTEM's nftables ruleset, generated from its flows in effect (SM 3.1.2):
    table inet secman, default drop in input, output and forward, one commented rule per
    documented flow, everything else counted, logged ("secman-drop-in ",
    "secman-drop-out ") and dropped. Load it on the host with `nft -f FILE`.

    Flows whose origin or destination cannot be resolved are not allowed; they are
    listed at the top of the file and printed as warnings on standard error.

    Exit status: 0 the ruleset was written (and nft accepted it); 1 no such system, or
    the file cannot be written; 2 wrong usage; 3 nft refused the ruleset (the errors are
    printed; with --output the file is not written)."""
    from secman.core.cli import setup_django

    setup_django()
    from secman.systems import firewall
    from secman.systems.models import System

    found = System.objects.filter(name=system_name).first()
    if found is None:
        raise click.ClickException(f"no system named {system_name!r} in the register "
                                   "(secman systems list shows them)")
    text, warnings = firewall.generate(found)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if check:
        errors = firewall.check(text)
        if errors:
            for error in errors:
                click.echo(f"nft: {error}", err=True)
            click.echo(f"nft refused the ruleset of {system_name}; nothing was written.",
                       err=True)
            sys.exit(3)
    _write(text, output)


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"written to {output}", err=True)


@systems.command("diagram")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot"]), default="svg",
              show_default=True, help="SVG drawn by Graphviz, or its dot source.")
@click.option("--revision", "-r", type=int,
              help="A kept revision's drawing instead of the register as it is now.")
def diagram_command(output: str | None, fmt: str, revision: int | None) -> None:
    """The network diagram (SP 3.1.1), drawn from the register with Graphviz: systems
    grouped by network, hosts around their guests, flows in effect as edges, critical
    systems in red. Draws the register as it is now (nothing is recorded: revisions are
    kept when approved changes are made), or a kept revision with --revision.

    Exit status: 0 written; 1 no such revision, Graphviz failed, or the file cannot be
    written; 2 wrong usage."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.systems import diagram
    from secman.systems.models import DiagramRevision

    if revision is not None:
        kept = DiagramRevision.objects.filter(number=revision).first()
        if kept is None:
            raise click.ClickException(f"no revision r{revision} of the network diagram")
        text = kept.svg if fmt == "svg" else kept.dot
    else:
        dot = diagram.dot_source()
        text = dot if fmt == "dot" else refusals_as_errors(lambda: diagram.render_svg(dot))
    _write(text, output)
# --- the host agent (docs/agent.md) --------------------------------------------------------


def _system(name: str):  # type: ignore[no-untyped-def]
    from secman.systems.models import System

    found = System.objects.filter(name=name).first()
    if found is None:
        raise click.ClickException(f"no system called {name!r} in the register")
    return found


@systems.command("agent-token")
@click.argument("system")
@click.option("--authority", default="SP 3.2.2", show_default=True,
              help="What authorises it: a section, a Board decision or an Arbitration case.")
@click.option("--as", "login", default="", help="The Systems Administrator issuing it "
              "(login or email); without it, the command line's operator.")
def agent_token(system: str, authority: str, login: str) -> None:
    """Issue SYSTEM's host agent token and print it ONCE on standard output (secman
    keeps only its hash). Any earlier token of SYSTEM is revoked. Store it on the system
    in a file only root can read (/etc/secman-agent/token, mode 600)."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.systems import agents

    actor = person(login) if login else None
    token = refusals_as_errors(lambda: agents.issue_token(
        actor=actor, system=_system(system), authority=authority))
    click.echo(token)


@systems.command("agent-revoke")
@click.argument("system")
@click.option("--authority", default="SP 3.2.2", show_default=True,
              help="What authorises it: a section, a Board decision or an Arbitration case.")
@click.option("--as", "login", default="", help="The Systems Administrator revoking it.")
def agent_revoke(system: str, authority: str, login: str) -> None:
    """Revoke SYSTEM's live agent token: its reports are refused from now on."""
    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.systems import agents

    actor = person(login) if login else None
    revoked = refusals_as_errors(lambda: agents.revoke_token(
        actor=actor, system=_system(system), authority=authority))
    click.echo(f"revoked {revoked.prefix}… of {system}")


@systems.command("drift")
@click.argument("system", required=False)
def drift_command(system: str | None) -> None:
    """The host agents' drift findings (of SYSTEM, or of every system with a live
    token), each with its section. Exit status 1 when there is any."""
    from secman.core.cli import setup_django

    setup_django()
    from rich.console import Console
    from rich.table import Table

    from secman.systems import drift

    found = drift.evaluate(systems=[_system(system)] if system else None)
    table = Table("System", "Last report", "Section", "Finding")
    count = 0
    for item in found:
        last = f"{item.newest.received_at:%Y-%m-%d %H:%M}" if item.newest else "never"
        if not item.findings:
            table.add_row(item.system.name, last, "", "[green]no drift[/green]")
        for finding in item.findings:
            count += 1
            table.add_row(item.system.name, last, finding.section, finding.message)
    Console(width=160).print(table)
    if count:
        raise SystemExit(1)
