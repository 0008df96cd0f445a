from __future__ import annotations

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "secman.support"
    label = "support"
    verbose_name = "Support"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The weekly review of filing decisions on its duty's occurrences.
        from secman.support import reviews  # noqa: F401
