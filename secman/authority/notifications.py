"""Whom sign-off requests concern (eventlog.notifications sends the mail)."""

from __future__ import annotations

from secman.authority.models import SignOffRequest
from secman.authority.signoff import Requirement
from secman.eventlog.models import Event
from secman.eventlog.notifications import notify_on
from secman.people.notifications import emails_of_role


@notify_on("signoff.request")
def _possible_signers(event: Event) -> list[str]:
    request = SignOffRequest.objects.get(pk=event.subject_id)
    roles = {role for slot in Requirement.from_json(request.requirement).slots
             for role in slot.roles}
    return sorted({email for role in roles
                   for email in emails_of_role(role, exclude=request.requested_by_id)})
