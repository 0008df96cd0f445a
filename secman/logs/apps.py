from __future__ import annotations

from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "secman.logs"
    label = "logs"
    verbose_name = "Systems' logs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The sshd failures as a source of the privileged chapter's access attempts; the
        # log duties' review on their occurrences (compliance sits below and cannot ask).
        from secman.logs import attempts, reviews  # noqa: F401
