from __future__ import annotations

from django.urls import URLPattern, path

from secman.systems import views, views_agent, views_network, views_patches

app_name = "systems"
urlpatterns: list[URLPattern] = [
    path("", views.systems, name="systems"),
    path("new/", views.system_new, name="system_new"),
    path("hosts/<str:name>/", views.system, name="system"),
    path("hosts/<str:name>/edit/", views.system_edit, name="system_edit"),
    path("hosts/<str:name>/administrators/", views.system_administrators,
         name="system_administrators"),
    path("hosts/<str:name>/addresses/", views.system_addresses, name="system_addresses"),
    path("hosts/<str:name>/install/", views.system_install, name="system_install"),
    path("hosts/<str:name>/inspect/", views.system_inspect, name="system_inspect"),
    path("hosts/<str:name>/retire/", views.system_retire, name="system_retire"),
    path("hosts/<str:name>/flows/new/", views.flow_new, name="flow_new"),
    path("flows/", views.flows, name="flows"),
    path("flows/<int:pk>/decide/", views.flow_decide, name="flow_decide"),
    path("flows/<int:pk>/end/", views.flow_end, name="flow_end"),
    # The network diagram (SP 3.1.1).
    path("network/", views_network.network, name="network"),
    path("network/r<int:number>.svg", views_network.revision_svg, name="network_svg"),
    path("network/r<int:number>.dot", views_network.revision_dot, name="network_dot"),
    # The host agent (docs/agent.md).
    path("hosts/<str:name>/agent/", views_agent.agent, name="agent"),
    path("hosts/<str:name>/agent/token/", views_agent.token_issue, name="agent_token_issue"),
    path("hosts/<str:name>/agent/revoke/", views_agent.token_revoke,
         name="agent_token_revoke"),
    path("agent/secman-agent", views_agent.agent_script, name="agent_script"),
    # Patches, configuration changes, the OS lifecycle and the Board summary (SP 3.2.3,
    # 3.2.3.1, SM 3.2, 4.1.3).
    path("patches/", views_patches.patch_list, name="patches"),
    path("patches/new/", views_patches.patch_new, name="patch_new"),
    path("patches/<int:pk>/", views_patches.patch_detail, name="patch"),
    path("changes/", views_patches.change_list, name="changes"),
    path("changes/new/", views_patches.change_new, name="change_new"),
    path("os/", views_patches.os_page, name="os"),
    path("summary/", views_patches.summary_page, name="summary"),
]
