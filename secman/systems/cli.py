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
    "secman-drop-out ", "secman-drop-fwd ") and dropped; a temporary access is logged
    as "secman-temporary ". Load it on the host with `nft -f FILE`.

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
# --- patches, configuration changes, OS lifecycle, the Board summary (SP 3.2.3, 3.2.3.1,
# SM 3.2, 4.1.3). Appended by the patches work; imports kept here so the part above stays.

import datetime as _dt  # noqa: E402
import json as _json  # noqa: E402

from rich.console import Console as _Console  # noqa: E402
from rich.table import Table as _Table  # noqa: E402

from secman.people.cli_helpers import person as _person  # noqa: E402

_err = _Console(stderr=True)
_as_option = click.option("--as", "login", required=True, metavar="LOGIN",
                          help="The login or email of the person acting.")


def _patch_by_id(patch_id: int):  # type: ignore[no-untyped-def]
    from secman.systems.models import Patch

    found = Patch.objects.filter(pk=patch_id).first()
    if found is None:
        raise click.ClickException(f"there is no patch {patch_id}")
    return found


def _systems_named(names: tuple[str, ...]) -> list:
    from secman.systems.models import System

    found = {s.name: s for s in System.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise click.ClickException(f"no system is called {', '.join(missing)}")
    return [found[n] for n in names]


@systems.group()
def patch() -> None:
    """Security patches (SP 3.2.3): proposed by a Systems Administrator, approved by the
    Systems Administration team leader, applied under four eyes (sign the sign-off
    request in the web pages or the API), reported to the SA list."""


@patch.command("propose")
@click.option("--advisory", required=True, help="DSA-5678-1, DLA-3456-1 or CVE-2026-1234.")
@click.option("--title", required=True, help="What the patch fixes.")
@click.option("--package", "packages", multiple=True, required=True,
              help="A Debian package the patch updates (repeat for more).")
@click.option("--system", "system_names", multiple=True, required=True,
              help="A system the patch is for (repeat for more).")
@click.option("--emergency", is_flag=True, help="A known remote exploit (SP 3.2.3.1): "
              "may be applied before approval.")
@click.option("--exploit", default="", help="For --emergency: the known exploit.")
@click.option("--authority", default="SP 3.2.3", show_default=True)
@_as_option
def patch_propose(advisory: str, title: str, packages: tuple[str, ...],
                  system_names: tuple[str, ...], emergency: bool, exploit: str,
                  authority: str, login: str) -> None:
    """Propose a patch; prints its number."""
    setup_django()
    from secman.systems import patches

    actor, targets = _person(login), _systems_named(system_names)
    made = refusals_as_errors(lambda: patches.propose_patch(
        actor=actor, advisory=advisory, title=title, packages=packages, systems=targets,
        emergency=emergency, exploit=exploit, authority=authority))
    _err.print(f"[green]✓[/green] patch {made.pk} proposed: {made}")
    click.echo(made.pk)


@patch.command("approve")
@click.argument("patch_id", type=int)
@click.option("--authority", default="SP 3.2.3", show_default=True)
@_as_option
def patch_approve(patch_id: int, authority: str, login: str) -> None:
    """Approve patch PATCH_ID (the Systems Administration team leader only). An emergency
    patch is referred to dispute resolution at the same time (SP 3.2.3.1)."""
    setup_django()
    from secman.systems import patches

    actor, found = _person(login), _patch_by_id(patch_id)
    done = refusals_as_errors(lambda: patches.approve_patch(actor=actor, patch=found,
                                                            authority=authority))
    case = f"; case {done.case.number}" if done.case else ""
    _err.print(f"[green]✓[/green] {done} approved{case}")


@patch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def patch_list(as_json: bool) -> None:
    """Every patch with its status, emergency flag, case and backup."""
    setup_django()
    from secman.systems.models import Patch

    rows = Patch.objects.select_related("case").prefetch_related("systems")
    if as_json:
        click.echo(_json.dumps([{
            "id": p.pk, "advisory": p.advisory, "title": p.title, "status": p.status,
            "emergency": p.emergency, "systems": [s.name for s in p.systems.all()],
            "case": p.case.number if p.case else None,
            "backup_recorded": p.backup_recorded_at is not None} for p in rows], indent=2))
        return
    table = _Table("ID", "Advisory", "Systems", "Status", "Emergency", "Case", "Backup")
    for p in rows:
        table.add_row(str(p.pk), p.advisory, ", ".join(s.name for s in p.systems.all()),
                      p.get_status_display(), "EMERGENCY" if p.emergency else "",
                      p.case.number if p.case else "",
                      "recorded" if p.backup_recorded_at else ("due" if p.applied_at else ""))
    _Console().print(table)


@systems.group()
def change() -> None:
    """Configuration changes (SM 4.1.3): recorded with their RCS/git reference."""


@change.command("record")
@click.argument("system_name")
@click.option("--summary", required=True, help="What was changed (one line).")
@click.option("--rcs", "rcs_reference", required=True,
              help="Repository and commit: cacert-puppet@1a2b3c4.")
@click.option("--covers", multiple=True, help="What of the agent's facts it alters: ports, "
              "packages, sshd, sudoers, accounts, authorized_keys, ruleset (repeat).")
@click.option("--made-at", type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%d"]),
              default=None, help="When it was made (UTC); default now.")
@click.option("--authority", default="SM 4.1.3", show_default=True)
@_as_option
def change_record(system_name: str, summary: str, rcs_reference: str,
                  covers: tuple[str, ...], made_at: _dt.datetime | None, authority: str,
                  login: str) -> None:
    """Record a configuration change of SYSTEM_NAME (Systems Administrators)."""
    setup_django()
    from secman.systems import patches

    actor, [target] = _person(login), _systems_named((system_name,))
    when = made_at.replace(tzinfo=_dt.UTC) if made_at else None
    made = refusals_as_errors(lambda: patches.record_change(
        actor=actor, system=target, summary=summary, rcs_reference=rcs_reference,
        covers=covers, made_at=when, authority=authority))
    _err.print(f"[green]✓[/green] recorded: {made}")


@change.command("list")
@click.option("--system", "system_name", default="", help="Only this system's changes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def change_list(system_name: str, as_json: bool) -> None:
    """Configuration changes, newest first."""
    setup_django()
    from secman.systems.models import ConfigurationChange

    rows = ConfigurationChange.objects.select_related("system", "recorded_by")
    if system_name:
        rows = rows.filter(system__name=system_name)
    if as_json:
        click.echo(_json.dumps([{
            "id": c.pk, "system": c.system.name, "summary": c.summary,
            "rcs_reference": c.rcs_reference, "covers": c.covers,
            "made_at": c.made_at.isoformat()} for c in rows], indent=2))
        return
    table = _Table("Made (UTC)", "System", "Summary", "RCS reference", "Covers")
    for c in rows:
        table.add_row(f"{c.made_at:%Y-%m-%d %H:%M}", c.system.name, c.summary,
                      c.rcs_reference, ", ".join(c.covers))
    _Console().print(table)


@systems.command("os")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def os_lifecycle(as_json: bool) -> None:
    """Each system's Debian release, whether it is stable, oldstable or unsupported today,
    when its security support ends and how many days are left (SM 3.2; dates from
    Debian's distro-info-data)."""
    setup_django()
    from django.utils import timezone

    from secman.systems.views_patches import os_rows

    rows, error = os_rows(timezone.localdate())
    if error:
        raise click.ClickException(error)
    if as_json:
        click.echo(_json.dumps([{
            "system": r["system"].name, "os_release": r["system"].os_release,
            "debian": str(r["state"].release or "") or None,
            "support": r["state"].support.value,
            "support_ends": str(r["state"].support_ends or "") or None,
            "days_left": r["state"].days_left, "status": str(r["status"]),
            "accepted_exception": bool(r["acceptance"])} for r in rows], indent=2))
        return
    colour = {"ok": "green", "warn": "yellow", "bad": "red", "accepted": "blue"}
    table = _Table("System", "Release", "Debian", "Support", "Ends", "Days left", "")
    for r in rows:
        state = r["state"]
        style = colour.get(r["tone"], "")
        table.add_row(r["system"].name, r["system"].os_release or "—",
                      str(state.release or "—"), state.support.label,
                      str(state.support_ends or "—"),
                      "" if state.days_left is None else str(state.days_left),
                      "accepted exception" if r["acceptance"] else "", style=style)
    _Console().print(table)


@systems.command("summary")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day (default: the first day of the last quarter).")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day, included (default: the last day of the last quarter).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def summary(start: _dt.datetime | None, end: _dt.datetime | None, as_json: bool) -> None:
    """The team leader's summary to the Board (SP 3.2.3.1): the period's patches,
    emergency patches with their cases, and configuration changes."""
    setup_django()
    from django.utils import timezone

    from secman.systems import patches

    first, last = patches.last_quarter(timezone.localdate())
    found = refusals_as_errors(lambda: patches.summary(
        start.date() if start else first, end.date() if end else last))
    if as_json:
        click.echo(_json.dumps(found.as_json(), indent=2))
        return
    out = _Console()
    out.print(f"Summary to the Board, {found.start} to {found.end}: "
              f"{len(found.patches)} patches, {len(found.emergencies)} emergency, "
              f"{len(found.changes)} configuration changes")
    table = _Table("Advisory", "Systems", "Status", "Emergency", "Case")
    for p in found.patches:
        table.add_row(p.advisory, ", ".join(s.name for s in p.systems.all()),
                      p.get_status_display(), "EMERGENCY" if p.emergency else "",
                      p.case.number if p.case else "")
    out.print(table)
    changes = _Table("Made (UTC)", "System", "Summary", "RCS reference")
    for c in found.changes:
        changes.add_row(f"{c.made_at:%Y-%m-%d %H:%M}", c.system.name, c.summary,
                        c.rcs_reference)
    out.print(changes)
