from __future__ import annotations

from django.urls import URLPattern, path

from secman.systems import views_patches

app_name = "systems"
urlpatterns: list[URLPattern] = []

# Patches, configuration changes, the OS lifecycle and the Board summary (SP 3.2.3,
# 3.2.3.1, SM 3.2, 4.1.3). Before any "<str:name>/" pattern of the register's pages.
urlpatterns += [
    path("patches/", views_patches.patch_list, name="patches"),
    path("patches/new/", views_patches.patch_new, name="patch_new"),
    path("patches/<int:pk>/", views_patches.patch_detail, name="patch"),
    path("changes/", views_patches.change_list, name="changes"),
    path("changes/new/", views_patches.change_new, name="change_new"),
    path("os/", views_patches.os_page, name="os"),
    path("summary/", views_patches.summary_page, name="summary"),
]
