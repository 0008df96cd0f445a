"""`secman signoff ...`: the sign-off requests waiting, and signing one slot as a person
(`--as LOGIN`) through authority.services.sign, like the pages and the API.

The command line does not know who is typing: `--as` names anyone, so the signature and
its Event Log entry record the channel ("cli") and the operating-system user, and one
operating-system user signs at most one slot of a request this way (docs/security.md)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console()


def _django() -> None:
    from secman.core.cli import setup_django

    setup_django()


def _person(login: str) -> Any:
    from secman.people.models import Person

    person = Person.objects.filter(user__username=login).first()
    if person is None:
        raise click.ClickException(f"no person has the login {login!r}")
    return person


@click.group()
def signoff() -> None:
    """Sign-off requests: dual control and four eyes (SP 1.2)."""


@signoff.command("list")
def list_() -> None:
    """The pending requests, with their open slots."""
    _django()
    from secman.authority.choices import SignOffStatus
    from secman.authority.models import SignOffRequest
    from secman.authority.services import open_slots

    table = Table(title="Sign-off requests waiting")
    for column in ("id", "title", "open slots", "signed by", "expires (UTC)"):
        table.add_column(column)
    pending = (SignOffRequest.objects.filter(status=SignOffStatus.PENDING)
               .prefetch_related("signoffs__person").order_by("id"))
    for request in pending:
        if request.is_expired:
            continue
        table.add_row(str(request.pk), request.title, ", ".join(open_slots(request)),
                      ", ".join(str(s) for s in request.signoffs.all()),
                      f"{request.expires_at:%Y-%m-%d %H:%M}")
    Console().print(table)


@signoff.command("sign")
@click.argument("request_id", type=int)
@click.option("--as", "login", required=True, metavar="LOGIN",
              help="The login of the person signing.")
@click.option("--slot", default="", help="The slot to fill (default: the first open slot "
              "the person may fill).")
@click.option("--comment", default="", help="A comment kept with the signature.")
def sign(request_id: int, login: str, slot: str, comment: str) -> None:
    """Sign one slot of request REQUEST_ID as LOGIN. The last signature carries the
    action out. One operating-system user signs one slot of a request at most."""
    _django()
    from secman.authority import services
    from secman.authority.models import SignOffRequest
    from secman.core.errors import Refused

    request = SignOffRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise click.ClickException(f"there is no sign-off request #{request_id}")
    try:
        signed = services.sign(actor=_person(login), request=request, slot=slot,
                               comment=comment)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]✓[/green] signed #{request_id} {signed}")
