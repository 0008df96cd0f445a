from __future__ import annotations

from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "secman.visits"
    label = "visits"
    verbose_name = "Physical visits, codes and devices"

    def ready(self) -> None:
        # Registers the visit notifications with secman.eventlog.notifications.
        from secman.visits import notifications  # noqa: F401
