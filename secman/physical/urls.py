from __future__ import annotations

from django.urls import path

from secman.physical import views

app_name = "physical"
urlpatterns = [
    path("computers/", views.computers, name="computers"),
    path("computers/new/", views.computer_new, name="computer_new"),
    path("computers/export.csv", views.computers_csv, name="computers_csv"),
    path("computers/import/", views.inventory_import, {"kind": "computers"},
         name="computers_import"),
    path("media/import/", views.inventory_import, {"kind": "media"}, name="media_import"),
    path("computers/<int:pk>/", views.computer, name="computer"),
    path("computers/<int:pk>/label/", views.computer_label, name="computer_label"),
    path("media/", views.media, name="media"),
    path("media/new/", views.media_new, name="media_new"),
    path("media/export.csv", views.media_csv, name="media_csv"),
    path("media/<int:pk>/", views.media_item, name="media_item"),
    path("facilities/", views.facilities, name="facilities"),
    path("facilities/<int:pk>/", views.facility, name="facility"),
]
