from __future__ import annotations

from django.apps import AppConfig


class PrivilegedConfig(AppConfig):
    name = "secman.privileged"
    label = "privileged"
    verbose_name = "Privileged access"

    def ready(self) -> None:
        # The termination checklist opens from people's signals (people sits below this
        # chapter and cannot call it).
        from secman.privileged import checklists  # noqa: F401
