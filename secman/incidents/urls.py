from __future__ import annotations

from django.urls import URLPattern, path

from secman.incidents import views

app_name = "incidents"
urlpatterns: list[URLPattern] = [
    path("", views.incidents, name="incidents"),
    path("new/", views.incident_new, name="new"),
    path("<int:pk>/", views.incident, name="incident"),
    path("<int:pk>/appendix.asc", views.appendix, name="appendix"),
    path("<int:pk>/evidence/<int:evidence>/hand-over/", views.hand_over, name="hand_over"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
