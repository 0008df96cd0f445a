"""`secman privileged ...`: accounts, SSH keys, grants, secrets and termination
checklists (SP/SM 3.4, 4.1.1, 9.1.7) from the command line. Each part's commands live in
a module of their own (cli_keys, cli_grants, cli_leavers); this one puts them in the
group."""

from __future__ import annotations

import click

from secman.privileged import cli_grants, cli_keys, cli_leavers


@click.group()
def privileged() -> None:
    """Privileged access (SP/SM 3.4, 4.1.1, 9.1.7): SSH keys and accounts checked against
    the access lists, authentication schemes, temporary grants, secrets, removals of
    access and termination checklists."""


for command in (cli_keys.keys, cli_keys.accounts, cli_keys.origins, cli_keys.check,
                cli_grants.schemes, cli_grants.grants, cli_grants.secrets,
                cli_leavers.remove_access, cli_leavers.checklists):
    privileged.add_command(command)
