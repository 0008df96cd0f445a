"""`secman privileged ...`: accounts, SSH keys, grants, secrets and termination
checklists (SP/SM 3.4, 4.1.1, 9.1.7) from the command line."""

from __future__ import annotations

import click


@click.group()
def privileged() -> None:
    """Privileged access (SP/SM 3.4, 4.1.1, 9.1.7): SSH keys and accounts checked against
    the access lists, authentication schemes, temporary grants, secrets, removals of
    access and termination checklists."""
