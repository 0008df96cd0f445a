"""`secman systems ...`: the systems register, its flows and firewall rules, from the
command line."""

from __future__ import annotations

import click


@click.group()
def systems() -> None:
    """Systems and network (SP/SM 3.1, 3.2): the register, flows, firewall rules, host
    agents, patches and changes."""
