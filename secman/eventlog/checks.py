"""The Event Log's configuration problem as a Django system check with a stable id
(docs/configuration.md lists it): SECMAN_EVENTLOG_ORIGIN set to another name than the
one the log signs as. `secman serve` refuses to start on it, Django's commands stop on
it, and secman's own commands refuse too (secman.core.cli.setup_django)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from secman.eventlog import keys

ORIGIN_MISMATCH = "secman.E007"


@register("eventlog")
def check_origin(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    problem = keys.configuration_problem()
    if not problem:
        return []
    return [Error(problem, hint=f"{keys.ROTATE_ORIGIN} NEW --authority REFERENCE renames "
                  "the log (docs/eventlog.md)", id=ORIGIN_MISMATCH)]
