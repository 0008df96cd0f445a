from __future__ import annotations

from django.urls import URLPattern, path

from secman.software import views

app_name = "software"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("changes/<int:pk>/", views.change, name="change"),
    path("releases/<int:pk>/", views.release, name="release"),
]
