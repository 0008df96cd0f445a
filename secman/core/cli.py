"""What every `secman` command group shares: starting Django, preparing the database,
the console that shows progress, a service's refusal as the command's error. (Naming a
person is people.cli_helpers.person: core does not know the people app.) The groups
live in each app's cli.py; `secman.cli` puts them together."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import click
from rich.console import Console

from secman.core.errors import Refused

console = Console(stderr=True)
T = TypeVar("T")


def setup_django(*, check_origin: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    import django
    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        # The settings' own message names the variable and what it accepts; a traceback
        # would only bury it.
        raise click.ClickException(f"configuration error: {exc}") from None
    if check_origin:
        # System check secman.E007 for secman's own commands (Django's run it themselves):
        # a command must not sign the Event Log under another name than the server does.
        # Asked by its tag, so that core need not import the Event Log.
        for problem in checks.run_checks(tags=["eventlog"]):
            if problem.is_serious():
                raise click.ClickException(f"{problem.id}: {problem.msg}")


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("check", fail_level="ERROR")
    with console.status("Applying database migrations..."):
        call_command("migrate", interactive=False, verbosity=0)


def refusals_as_errors(action: Callable[[], T]) -> T:
    """Run a service call for a command. A refusal (nothing was written) becomes the
    command's error: its message on standard error and exit status 1."""
    try:
        return action()
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
