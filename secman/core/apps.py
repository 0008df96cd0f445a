from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "secman.core"
    label = "core"
    verbose_name = "secman core"

    def ready(self) -> None:
        from secman.core import checks, notifications  # noqa: F401  (they register themselves)
