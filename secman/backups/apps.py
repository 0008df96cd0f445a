from __future__ import annotations

from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "secman.backups"
    label = "backups"
    verbose_name = "Backups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The quarterly escrow check's review on its occurrences (compliance sits below
        # and cannot ask).
        from secman.backups import reviews  # noqa: F401
