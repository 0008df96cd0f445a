from __future__ import annotations

from django.urls import URLPattern, path

from secman.systems import views_network

app_name = "systems"
urlpatterns: list[URLPattern] = [
    # The network diagram (SP 3.1.1).
    path("network/", views_network.network, name="network"),
    path("network/r<int:number>.svg", views_network.revision_svg, name="network_svg"),
    path("network/r<int:number>.dot", views_network.revision_dot, name="network_dot"),
]
