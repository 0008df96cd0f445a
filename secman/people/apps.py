from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "secman.people"
    label = "people"
    verbose_name = "People, teams and access lists"

    def ready(self) -> None:
        # The Event Log, below people in the layers, asks about roles through core.roles.
        from secman.core import roles
        from secman.people import notifications  # noqa: F401  (they register themselves)
        from secman.people.selectors import holds_any

        roles.provide(holds_any=holds_any)
