"""The leavers part of `secman privileged ...` (removals of access, termination
checklists); secman.privileged.cli adds these commands to its group."""

from __future__ import annotations

import click

# --- removals and leavers (SM 3.4.4, 9.1.7) ------------------------------------------------

_AS = click.option("--as", "login", required=True, metavar="LOGIN",
                   help="The login or email of the person acting.")


@click.command("remove-access")
@click.argument("person_ref", metavar="PERSON")
@click.option("--event", required=True,
              type=click.Choice(["termination", "ruling", "compromise", "inactivity",
                                 "board", "other"]),
              help="The SM 3.4.4 event that removes the access.")
@click.option("--reason", required=True, help="What happened; the Board reads it.")
@click.option("--authority", required=True, help="The ruling, Board decision or section.")
@_AS
def remove_access(person_ref: str, event: str, reason: str, authority: str,
                  login: str) -> None:
    """Remove PERSON's access now (SM 3.4.4): block their SSH keys, revoke their
    temporary grants, propose their removal from each access list to the Board and open
    the termination checklist. Temporary until the Board approves; by the Systems
    Administration team leader, the person's team leader, a Board member or the
    Arbitrator. Prints the removal's number."""
    from rich.console import Console

    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged import removals

    actor, subject = person(login), person(person_ref)
    made = refusals_as_errors(lambda: removals.remove_access(
        actor=actor, person=subject, event=event, reason=reason, authority=authority))
    Console(stderr=True).print(f"[green]✓[/green] access of {subject} removed: "
                               f"{made.get_status_display()}, {made.proposals.count()} list "
                               "removal(s) proposed to the Board")
    click.echo(made.pk)


@click.group()
def checklists() -> None:
    """Termination and transfer checklists (SM 9.1.7): opened when a membership of a
    critical team ends, a person leaves an access list or their access is removed; steps
    completed with evidence by the team's leader or a Systems Administrator, closed by
    the team leader."""


def _checklist(pk: int):  # type: ignore[no-untyped-def]
    from secman.privileged.models import TerminationChecklist

    found = TerminationChecklist.objects.select_related("person", "team").filter(pk=pk).first()
    if found is None:
        raise click.ClickException(f"there is no checklist {pk}")
    return found


def _checklist_json(c) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from secman.privileged.choices import CHECKLIST_STEPS

    return {"id": c.pk, "person": c.person.name, "team": c.team.kind, "trigger": c.trigger,
            "status": c.status, "opened_at": c.opened_at.isoformat(),
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "steps": [{"number": s.number, "what": CHECKLIST_STEPS[s.number],
                       "done_at": s.done_at.isoformat() if s.done_at else None,
                       "evidence": s.evidence,
                       "reports": [r.pk for r in s.reports.all()]} for s in c.steps.all()]}


@checklists.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed checklists too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def checklists_list(show_all: bool, as_json: bool) -> None:
    """The open checklists (all with --all)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from secman.core.cli import setup_django

    setup_django()
    from secman.privileged.models import TerminationChecklist

    rows = TerminationChecklist.objects.select_related("person", "team").prefetch_related(
        "steps__reports")
    if not show_all:
        rows = rows.filter(status="open")
    if as_json:
        click.echo(json.dumps([_checklist_json(c) for c in rows], indent=2))
        return
    table = Table("ID", "Person", "Team", "Why", "Opened (UTC)", "Steps", "Status")
    for c in rows:
        table.add_row(str(c.pk), c.person.name, c.team.name, c.get_trigger_display(),
                      f"{c.opened_at:%Y-%m-%d %H:%M}",
                      " ".join(("✓" if s.done_at else "·") + str(s.number)
                               for s in c.steps.all()), c.get_status_display())
    Console().print(table)


@checklists.command("show")
@click.argument("checklist_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def checklists_show(checklist_id: int, as_json: bool) -> None:
    """One checklist with its steps and their evidence."""
    import json

    from rich.console import Console
    from rich.markup import escape

    from secman.core.cli import setup_django

    setup_django()
    found = _checklist(checklist_id)
    data = _checklist_json(found)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    console = Console()
    console.print(f"[bold]Checklist {found.pk}[/bold]: {escape(found.person.name)} "
                  f"({escape(found.team.name)}), {found.get_trigger_display()}, "
                  f"{found.get_status_display()}")
    for step in data["steps"]:
        mark = "[green]✓[/green]" if step["done_at"] else "·"
        console.print(f" {mark} {step['number']}. {escape(step['what'])}")
        if step["evidence"]:
            console.print(f"     {escape(step['evidence'])}")


@checklists.command("step")
@click.argument("checklist_id", type=int)
@click.argument("number", type=click.IntRange(1, 5))
@click.option("--evidence", default="", help="What was done and where it is recorded.")
@click.option("--from-agent-reports", is_flag=True,
              help="Step 1: the agents' reports since the checklist opened are the evidence.")
@_AS
def checklists_step(checklist_id: int, number: int, evidence: str, from_agent_reports: bool,
                    login: str) -> None:
    """Complete step NUMBER of checklist CHECKLIST_ID with its evidence (the team's leader
    or a Systems Administrator)."""
    from rich.console import Console

    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged import checklists as service

    actor, found = person(login), _checklist(checklist_id)
    step = found.steps.filter(number=number).first()
    if step is None:
        raise click.ClickException(f"checklist {checklist_id} does not ask step {number}")
    if from_agent_reports:
        refusals_as_errors(lambda: service.complete_keys_step_from_reports(actor=actor,
                                                                          step=step))
    else:
        refusals_as_errors(lambda: service.complete_step(actor=actor, step=step,
                                                         evidence=evidence))
    Console(stderr=True).print(f"[green]✓[/green] step {number} done")


@checklists.command("close")
@click.argument("checklist_id", type=int)
@_AS
def checklists_close(checklist_id: int, login: str) -> None:
    """Close checklist CHECKLIST_ID once every step is done (the team leader)."""
    from rich.console import Console

    from secman.core.cli import refusals_as_errors, setup_django

    setup_django()
    from secman.people.cli_helpers import person
    from secman.privileged import checklists as service

    actor, found = person(login), _checklist(checklist_id)
    refusals_as_errors(lambda: service.close_checklist(actor=actor, checklist=found))
    Console(stderr=True).print(f"[green]✓[/green] checklist {checklist_id} closed")
