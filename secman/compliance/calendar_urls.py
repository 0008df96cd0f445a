"""The calendar feeds' URLs, included by compliance/urls.py under calendar/."""

from __future__ import annotations

from django.urls import path

from secman.compliance import calendar_views

urlpatterns = [
    path("", calendar_views.calendar_page, name="calendar"),
    path("<int:pk>/revoke/", calendar_views.revoke, name="calendar_revoke"),
    path("<str:token>.ics", calendar_views.feed, name="calendar_feed"),
]
