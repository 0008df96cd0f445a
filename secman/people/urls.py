from __future__ import annotations

from django.urls import path

from secman.people import views

app_name = "people"
urlpatterns = [
    path("", views.people, name="people"),
    path("new/", views.person_new, name="person_new"),
    path("key-persons/", views.key_persons, name="key_persons"),
    path("<int:pk>/", views.person, name="person"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/openpgp-key/", views.person_openpgp_key, name="person_openpgp_key"),
    path("teams/", views.teams, name="teams"),
    path("teams/<slug:kind>/", views.team, name="team"),
    path("lists/", views.lists, name="lists"),
    path("lists/<slug:kind>/", views.access_list, name="list"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/<int:pk>/", views.proposal, name="proposal"),
    path("proposals/<int:pk>/approve/", views.proposal_decide, {"verdict": "approve"},
         name="proposal_approve"),
    path("proposals/<int:pk>/reject/", views.proposal_decide, {"verdict": "reject"},
         name="proposal_reject"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
]
