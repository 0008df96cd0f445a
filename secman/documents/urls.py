from __future__ import annotations

from django.urls import path

from secman.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.import_view, name="import"),
    path("compare/", views.compare_view, name="compare"),
    path("search/", views.search_view, name="search"),
    path("drafts/<int:pk>/", views.draft, name="draft"),
    path("delegations/<int:pk>/revoke/", views.delegation_revoke, name="delegation_revoke"),
    path("<slug:slug>/", views.document, name="document"),
    path("<slug:slug>/diff/", views.diff_view, name="diff"),
    path("<slug:slug>/v/<str:label>/", views.version, name="version"),
    path("<slug:slug>/v/<str:label>/export.<str:fmt>", views.export, name="export"),
    path("<slug:slug>/s/<str:number>/", views.section, name="section"),
    path("<slug:slug>/s/<str:number>/edit/", views.draft_new, name="draft_new"),
]
