from __future__ import annotations

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "secman.documents"
    label = "documents"
    verbose_name = "Documents: policy, manual and procedures"

    def ready(self) -> None:
        # Registers the sign-off action that publishes a section draft.
        from secman.documents import services  # noqa: F401
