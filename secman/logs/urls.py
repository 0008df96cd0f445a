from __future__ import annotations

from django.urls import URLPattern, path

from secman.logs import views

app_name = "logs"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("search/", views.search, name="search"),
    path("messages/<int:seq>/", views.message, name="message"),
    path("anomalies/", views.anomalies, name="anomalies"),
    path("anomalies/<int:pk>/", views.anomaly, name="anomaly"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<slug:name>/", views.rule, name="rule"),
    path("rules/<slug:name>/enabled/", views.rule_enabled, name="rule_enabled"),
]
