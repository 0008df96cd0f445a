from __future__ import annotations

from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "secman.authority"
    label = "authority"
    verbose_name = "Authority and sign-offs"

    def ready(self) -> None:
        # The layers below authority (people, the Event Log) cite authorities through
        # core.authorities; this is where the rules behind it are plugged in.
        from secman.authority import notifications, services  # noqa: F401  (notifications register themselves)
        from secman.core import authorities

        authorities.provide(resolver=services.resolve_authority,
                            citable=services.citable_decisions)
