from __future__ import annotations

app_name = "authority"
urlpatterns: list = []
