from __future__ import annotations

from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "secman.systems"
    label = "systems"
    verbose_name = "Systems and network"

    def ready(self) -> None:
        # services registers its sign-off actions; notifications registers the register's
        # mail with secman.eventlog.notifications.
        from secman.systems import notifications, services  # noqa: F401
