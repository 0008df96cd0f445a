from __future__ import annotations

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "secman.incidents"
    label = "incidents"
    verbose_name = "Incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The warning mail (SM 5.3.2), sent by the Event Log after the transaction commits.
        from secman.incidents import notifications  # noqa: F401
