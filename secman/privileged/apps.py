from __future__ import annotations

from django.apps import AppConfig


class PrivilegedConfig(AppConfig):
    name = "secman.privileged"
    label = "privileged"
    verbose_name = "Privileged access"

    def ready(self) -> None:
        # The termination checklist opens from people's signals (people sits below this
        # chapter and cannot call it); a removal becomes permanent or is restored from
        # the Board's decisions on its list proposals (removals' receivers).
        from secman.privileged import checklists, removals  # noqa: F401
