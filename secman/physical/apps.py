from __future__ import annotations

from django.apps import AppConfig


class PhysicalConfig(AppConfig):
    name = "secman.physical"
    label = "physical"
    verbose_name = "Physical security"

    def ready(self) -> None:
        from secman.physical import services  # noqa: F401  (registers sign-off actions)
