from __future__ import annotations

from django.urls import path

from secman.visits import views

app_name = "visits"
urlpatterns = [
    path("", views.visits, name="visits"),
    path("new/", views.visit_new, name="visit_new"),
    path("emergency/", views.emergency_new, name="emergency_new"),
    path("<int:pk>/", views.visit, name="visit"),
    path("<int:pk>/<str:step>/", views.visit_step, name="visit_step"),
    path("devices/", views.devices, name="devices"),
    path("devices/<int:pk>/", views.device, name="device"),
    path("devices/<int:pk>/issue/", views.device_issue, name="device_issue"),
    path("holdings/<int:pk>/return/", views.holding_return, name="holding_return"),
]
