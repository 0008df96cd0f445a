from __future__ import annotations

from django.urls import URLPattern, path

from secman.privileged import views, views_leavers

app_name = "privileged"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    # removals and leavers (SM 3.4.4, 9.1.7)
    path("removals/", views_leavers.removal_list, name="removals"),
    path("removals/new/", views_leavers.removal_new, name="removal_new"),
    path("removals/<int:pk>/", views_leavers.removal_detail, name="removal"),
    path("checklists/", views_leavers.checklist_list, name="checklists"),
    path("checklists/<int:pk>/", views_leavers.checklist_detail, name="checklist"),
    path("checklists/<int:pk>/steps/<int:number>/", views_leavers.checklist_step,
         name="checklist_step"),
    path("checklists/<int:pk>/close/", views_leavers.checklist_close, name="checklist_close"),
]
