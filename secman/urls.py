from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("secman.core.urls")),
    path("people/", include("secman.people.urls")),
    path("authority/", include("secman.authority.urls")),
    path("events/", include("secman.eventlog.urls")),
    path("documents/", include("secman.documents.urls")),
    path("physical/", include("secman.physical.urls")),
    path("visits/", include("secman.visits.urls")),
    path("compliance/", include("secman.compliance.urls")),
    path("api/", include("secman.api_urls")),
]
