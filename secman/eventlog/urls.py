from __future__ import annotations

from django.urls import path

from secman.eventlog import views

app_name = "eventlog"
urlpatterns = [
    path("", views.events, name="events"),
    path("<int:seq>/", views.event, name="event"),
    path("<int:seq>/proof.json", views.event_proof, name="event_proof"),
    path("checkpoints/", views.checkpoints, name="checkpoints"),
    path("checkpoints/<int:pk>.txt", views.checkpoint, name="checkpoint"),
    path("keys.txt", views.public_keys, name="keys"),
    path("verify/", views.verify_now, name="verify"),
    path("export.tar.gz", views.export, name="export"),
]
