from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from secman.core import views

urlpatterns = [
    path("", views.today, name="today"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    # Browsers ask for /favicon.ico whatever the page says; before signing in too.
    path("favicon.ico", login_not_required(RedirectView.as_view(
        url=static("secman/favicon.svg"), permanent=True))),
]
