"""Email notifications: a registry of Event Log actions, each bound to whom it concerns
and to one template (`templates/notifications/<action>.txt`, subject on the first line).

Each app registers the actions it mails about in its own notifications.py (imported by
its AppConfig.ready): the app knows whom an action concerns; this module only sends.

Mail is sent after the transaction commits, so nobody is told about an action that was
rolled back; a mail server that is down is logged and never undoes the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.signals import post_save
from django.template.loader import render_to_string

from secman.eventlog.models import Event

logger = logging.getLogger(__name__)

Recipients = Callable[[Event], Iterable[str]]
REGISTRY: dict[str, Recipients] = {}


def notify_on(action: str) -> Callable[[Recipients], Recipients]:
    def register(recipients: Recipients) -> Recipients:
        REGISTRY[action] = recipients
        return recipients

    return register


def send(event: Event) -> None:
    recipients = list(REGISTRY[event.action](event))
    if not recipients:
        return
    text = render_to_string(f"notifications/{event.action}.txt",
                            {"event": event, "site_url": settings.SITE_URL})
    subject, _, body = text.strip().partition("\n")
    try:
        send_mail(settings.EMAIL_SUBJECT_PREFIX + subject.strip(), body.strip() + "\n",
                  settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError:
        # The action stands; the log says who was not told.
        logger.exception("could not send notification for event #%s to %d recipients",
                         event.seq, len(recipients))


def _on_event(sender: type, instance: Event, created: bool, **kwargs: object) -> None:
    if created and instance.action in REGISTRY:
        transaction.on_commit(lambda: send(instance))


post_save.connect(_on_event, sender=Event, dispatch_uid="secman-notifications")
