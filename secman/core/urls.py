from __future__ import annotations

from django.urls import path

from secman.core import views

urlpatterns = [
    path("", views.today, name="today"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
]
