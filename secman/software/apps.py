from __future__ import annotations

from django.apps import AppConfig


class SoftwareConfig(AppConfig):
    name = "secman.software"
    label = "software"
    verbose_name = "Software assessment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The deployment's sign-off handler (authority.signoff.register).
        from secman.software import services  # noqa: F401
