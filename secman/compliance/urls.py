from __future__ import annotations

from django.urls import include, path

from secman.compliance import views

app_name = "compliance"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("controls/<str:control_id>/", views.control_page, name="control"),
    path("controls/<str:control_id>/<str:action>/", views.control_action,
         name="control_action"),
    path("acceptances/<int:pk>/withdraw/", views.acceptance_withdraw,
         name="acceptance_withdraw"),
    path("occurrences/<int:pk>/", views.occurrence, name="occurrence"),
    path("occurrences/<int:pk>/evidence/", views.evidence, name="evidence"),
    path("report/", include("secman.compliance.report_urls")),
    path("calendar/", include("secman.compliance.calendar_urls")),
]
