from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "secman.core"
    label = "core"
    verbose_name = "secman core"

    def ready(self) -> None:
        from secman.core import checks  # noqa: F401  (it registers itself)
