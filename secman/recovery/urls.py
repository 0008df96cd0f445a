from __future__ import annotations

from django.urls import URLPattern, path

from secman.recovery import views

app_name = "recovery"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("exercises/<int:pk>/", views.exercise, name="exercise"),
    path("key-persons/", views.key_persons, name="key_persons"),
]
