"""What the command groups of the apps above people share: naming a person. Every command
that takes a person (`--as`, `--person`, `--present`, `--holder`) takes a login or an
email, looked up by people.selectors.person_by_login_or_email."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secman.core.cli import refusals_as_errors

if TYPE_CHECKING:
    from secman.people.models import Person


def person(ref: str) -> Person:
    """The person a command names by login or email; nobody, or more than one person, is
    the command's error."""
    # Imported here: the command has set Django up by now, and `secman --help` (which
    # loads every command group) must not need it.
    from secman.people.selectors import person_by_login_or_email

    return refusals_as_errors(lambda: person_by_login_or_email(ref))
