from __future__ import annotations

from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "secman.authority"
    label = "authority"
    verbose_name = "Authority and sign-offs"
