from __future__ import annotations

from django.urls import path

from secman.authority import views

app_name = "authority"
urlpatterns = [
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/new/", views.decision_new, name="decision_new"),
    path("decisions/<str:minute_id>/", views.decision, name="decision"),
    path("decisions/<str:minute_id>/confirm/", views.decision_confirm, name="decision_confirm"),
    path("cases/", views.cases, name="cases"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<str:number>/", views.case, name="case"),
    path("signoffs/", views.signoffs, name="signoffs"),
    path("signoffs/new/", views.signoff_new, name="signoff_new"),
    path("signoffs/<int:pk>/", views.signoff, name="signoff"),
    path("signoffs/<int:pk>/withdraw/", views.signoff_withdraw, name="signoff_withdraw"),
]
