from __future__ import annotations

from django.apps import AppConfig


class EventLogConfig(AppConfig):
    name = "secman.eventlog"
    label = "eventlog"
    verbose_name = "Event Log"

    def ready(self) -> None:
        from secman.eventlog import checks, notifications  # noqa: F401  (they register themselves)
