from __future__ import annotations

from django.urls import path

from secman.eventlog import views

app_name = "eventlog"
urlpatterns = [
    path("", views.events, name="events"),
    path("<int:seq>/", views.event, name="event"),
]
