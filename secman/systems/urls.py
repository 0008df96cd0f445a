from __future__ import annotations

from django.urls import URLPattern, path

from secman.systems import views_agent

app_name = "systems"
urlpatterns: list[URLPattern] = [
    # The host agent (docs/agent.md).
    path("hosts/<str:name>/agent/", views_agent.agent, name="agent"),
    path("hosts/<str:name>/agent/token/", views_agent.token_issue, name="agent_token_issue"),
    path("hosts/<str:name>/agent/revoke/", views_agent.token_revoke,
         name="agent_token_revoke"),
    path("agent/secman-agent", views_agent.agent_script, name="agent_script"),
]
