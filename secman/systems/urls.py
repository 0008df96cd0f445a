from __future__ import annotations

from django.urls import URLPattern

app_name = "systems"
urlpatterns: list[URLPattern] = []
