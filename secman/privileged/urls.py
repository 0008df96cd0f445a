from __future__ import annotations

from django.urls import URLPattern, path

from secman.privileged import views

app_name = "privileged"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
]
