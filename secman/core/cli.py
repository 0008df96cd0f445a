"""What every `secman` command group shares: starting Django, preparing the database,
the console that shows progress. The groups live in each app's cli.py; `secman.cli`
puts them together."""

from __future__ import annotations

import os

import click
from rich.console import Console

console = Console(stderr=True)


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
