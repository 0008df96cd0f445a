from __future__ import annotations

from django.urls import URLPattern, path

from secman.privileged import views

app_name = "privileged"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
]

# --- keys, accounts and admin origins (SM 3.4.3, 4.1.1) --------------------------------
from secman.privileged import views_keys  # noqa: E402

urlpatterns += [
    path("keys/", views_keys.key_list, name="keys"),
    path("keys/<int:pk>/block/", views_keys.key_block, name="key_block"),
    path("accounts/", views_keys.account_list, name="accounts"),
    path("accounts/<int:pk>/remove/", views_keys.account_remove, name="account_remove"),
    path("systems/<str:name>/", views_keys.system_access, name="system_access"),
    path("systems/<str:name>/accounts/new/", views_keys.account_new, name="account_new"),
    path("origins/", views_keys.origin_list, name="origins"),
    path("origins/<int:pk>/end/", views_keys.origin_end, name="origin_end"),
    path("checks/", views_keys.findings, name="findings"),
]
