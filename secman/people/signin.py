"""Sign-in, sign-out and password pages: Django's, with every sign-in, refused attempt,
sign-out and password change written to the Event Log (SM 4.2.1)."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from secman.core.addresses import client_address
from secman.core.forms import PasswordChangeForm
from secman.core.views import perform
from secman.people import accounts


class LoginView(auth_views.LoginView):
    """Django's login page; every sign-in and every refused attempt is an Event Log
    entry (SM 4.2.1, login and root access)."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        accounts.record_login(form.get_user(), address=client_address(self.request))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        typed = str(form.data.get("username", ""))
        if typed or form.data.get("password"):  # an empty form is not an attempt
            accounts.record_failed_login(
                typed, address=client_address(self.request),
                locked_out=bool(getattr(self.request, "axes_locked_out", False)))
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user is not None:
            accounts.record_logout(user, address=client_address(request))
        return response


def password_change(request: HttpRequest) -> HttpResponse:
    """Change my own password (the current one first); the session stays signed in."""
    form = PasswordChangeForm(request.POST or None)
    # Guessing the current password here counts like guessing it at the login page
    # (django-axes, per login name and address), and the lockout stops both with the
    # same page.
    credentials = {"username": request.user.get_username()}
    if request.method == "POST" and AxesProxyHandler.is_locked(request, credentials):
        return get_lockout_response(request, credentials=credentials)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = perform(request, form, lambda: accounts.change_own_password(
            user=request.user, current=data["old_password"], new=data["new_password1"]),
            "Your password was changed.")
        if user is not None:
            update_session_auth_hash(request, user)
            return redirect("today")
        if form.has_error("old_password"):
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return render(request, "registration/password_change.html", {"form": form})
