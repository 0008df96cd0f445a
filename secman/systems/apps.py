from __future__ import annotations

from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "secman.systems"
    label = "systems"
    verbose_name = "Systems and network"

    def ready(self) -> None:
        from secman.systems import services  # noqa: F401  (registers sign-off actions)
