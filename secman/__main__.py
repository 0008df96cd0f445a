"""`python -m secman`: the `secman` command, for processes secman starts itself (the
duties round beside `secman serve`) without relying on the console script's path."""

from __future__ import annotations

from secman.cli import main

main(prog_name="secman")
