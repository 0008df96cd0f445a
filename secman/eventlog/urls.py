from __future__ import annotations

app_name = "eventlog"
urlpatterns: list = []
