from __future__ import annotations

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "secman.compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from secman.compliance import services  # noqa: F401  (registers sign-off handlers)
