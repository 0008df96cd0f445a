from __future__ import annotations

from django.urls import URLPattern, path

from secman.privileged import views, views_grants, views_keys, views_leavers

app_name = "privileged"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    # Keys, accounts and admin origins, and the checks (SM 3.4.3, 4.1.1).
    path("keys/", views_keys.key_list, name="keys"),
    path("keys/<int:pk>/block/", views_keys.key_block, name="key_block"),
    path("accounts/", views_keys.account_list, name="accounts"),
    path("accounts/<int:pk>/remove/", views_keys.account_remove, name="account_remove"),
    path("systems/<str:name>/", views_keys.system_access, name="system_access"),
    path("systems/<str:name>/accounts/new/", views_keys.account_new, name="account_new"),
    path("origins/", views_keys.origin_list, name="origins"),
    path("origins/<int:pk>/end/", views_keys.origin_end, name="origin_end"),
    path("checks/", views_keys.findings, name="findings"),
    # Authentication schemes, temporary grants and secrets (SP 3.4.3, 4.1.1.1, SM 4.1.1).
    path("schemes/", views_grants.schemes, name="schemes"),
    path("schemes/new/", views_grants.scheme_new, name="scheme_new"),
    # Under systems/<name>/, as a system's access is: schemes/<name>/ would take "new".
    path("systems/<str:name>/schemes/", views_grants.system_schemes, name="system_schemes"),
    path("systems/<str:name>/schemes/compromised/", views_grants.compromised,
         name="compromised"),
    path("grants/", views_grants.grants, name="grants"),
    path("grants/new/", views_grants.grant_new, name="grant_new"),
    path("grants/<int:pk>/revoke/", views_grants.grant_revoke, name="grant_revoke"),
    path("secrets/", views_grants.secrets, name="secrets"),
    path("secrets/new/", views_grants.secret_new, name="secret_new"),
    path("secrets/<int:pk>/", views_grants.secret, name="secret"),
    path("secrets/<int:pk>/rotate/", views_grants.secret_rotate, name="secret_rotate"),
    path("secrets/<int:pk>/retire/", views_grants.secret_retire, name="secret_retire"),
    path("secrets/<int:pk>/holders/add/", views_grants.secret_holder_add,
         name="secret_holder_add"),
    path("secrets/<int:pk>/holders/<int:holder>/end/", views_grants.secret_holder_end,
         name="secret_holder_end"),
    # Removals of access and termination checklists (SM 3.4.4, 9.1.7).
    path("removals/", views_leavers.removal_list, name="removals"),
    path("removals/new/", views_leavers.removal_new, name="removal_new"),
    path("removals/<int:pk>/", views_leavers.removal_detail, name="removal"),
    path("checklists/", views_leavers.checklist_list, name="checklists"),
    path("checklists/<int:pk>/", views_leavers.checklist_detail, name="checklist"),
    path("checklists/<int:pk>/steps/<int:number>/", views_leavers.checklist_step,
         name="checklist_step"),
    path("checklists/<int:pk>/close/", views_leavers.checklist_close, name="checklist_close"),
]
