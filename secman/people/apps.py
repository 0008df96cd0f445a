from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "secman.people"
    label = "people"
    verbose_name = "People, teams and access lists"
