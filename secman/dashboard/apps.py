from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "secman.dashboard"
    label = "dashboard"
    verbose_name = "Today and navigation"
