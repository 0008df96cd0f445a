from __future__ import annotations

from django.urls import URLPattern, path

from secman.support import views

app_name = "support"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
]
