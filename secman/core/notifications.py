"""Email notifications: a registry of Event Log actions, each bound to whom it concerns
and to one template (`templates/notifications/<action>.txt`, subject on the first line).

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


def _emails_of_role(role: str, *, exclude: int | None = None) -> list[str]:
    from secman.people.models import Membership

    people = Membership.objects.active().filter(role=role)
    if exclude is not None:
        people = people.exclude(person_id=exclude)
    return sorted(set(people.values_list("person__email", flat=True)))


@notify_on("people.list.propose")
def _board_for_proposals(event: Event) -> list[str]:
    from secman.people.choices import Role

    return _emails_of_role(Role.BOARD_MEMBER)


@notify_on("people.list.approve")
@notify_on("people.list.reject")
def _proposer(event: Event) -> list[str]:
    from secman.people.models import ListChangeProposal

    proposal = ListChangeProposal.objects.select_related("proposed_by").get(pk=event.subject_id)
    return [proposal.proposed_by.email]


@notify_on("signoff.request")
def _possible_signers(event: Event) -> list[str]:
    from secman.authority.models import SignOffRequest
    from secman.authority.signoff import Requirement

    request = SignOffRequest.objects.get(pk=event.subject_id)
    roles = {role for slot in Requirement.from_json(request.requirement).slots
             for role in slot.roles}
    return sorted({email for role in roles
                   for email in _emails_of_role(role, exclude=request.requested_by_id)})


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
