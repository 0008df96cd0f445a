from __future__ import annotations

from django.urls import URLPattern, path

from secman.backups import views

app_name = "backups"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("sets/<int:pk>/", views.backup_set, name="set"),
    path("sets/<int:pk>/verify/", views.set_verify, name="set_verify"),
    path("sets/<int:pk>/examine/", views.set_examine, name="set_examine"),
    path("examinations/<int:pk>/cleaned/", views.examination_cleaned,
         name="examination_cleaned"),
    path("envelopes/", views.envelopes, name="envelopes"),
    path("retention/", views.retention, name="retention"),
    path("retention/<int:pk>/done/", views.retention_done, name="retention_done"),
    path("envelopes/<int:pk>/check/", views.envelope_check, name="envelope_check"),
    path("envelopes/<int:pk>/open/", views.envelope_open, name="envelope_open"),
]
