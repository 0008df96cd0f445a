from __future__ import annotations

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "secman.compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from secman.compliance import services  # noqa: F401  (registers sign-off handlers)
        from secman.compliance.selectors import compare_column
        from secman.documents import compare

        # The third column of the side-by-side view (SP | SM | status).
        compare.add_column("Compliance", compare_column)
