from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from secman.dashboard.views import today
from secman.people import signin

urlpatterns = [
    path("", today, name="today"),
    path("login/", signin.LoginView.as_view(), name="login"),
    path("logout/", signin.LogoutView.as_view(), name="logout"),
    path("password/", signin.password_change, name="password_change"),
    # Browsers ask for /favicon.ico whatever the page says; before signing in too.
    path("favicon.ico", login_not_required(RedirectView.as_view(
        url=static("secman/favicon.svg"), permanent=True))),
    path("people/", include("secman.people.urls")),
    path("authority/", include("secman.authority.urls")),
    path("events/", include("secman.eventlog.urls")),
    path("documents/", include("secman.documents.urls")),
    path("physical/", include("secman.physical.urls")),
    path("visits/", include("secman.visits.urls")),
    path("systems/", include("secman.systems.urls")),
    path("privileged/", include("secman.privileged.urls")),
    path("logs/", include("secman.logs.urls")),
    path("backups/", include("secman.backups.urls")),
    path("incidents/", include("secman.incidents.urls")),
    path("recovery/", include("secman.recovery.urls")),
    path("software/", include("secman.software.urls")),
    path("support/", include("secman.support.urls")),
    path("compliance/", include("secman.compliance.urls")),
    path("api/", include("secman.api_urls")),
]
