"""Whom the people app's actions concern (eventlog.notifications sends the mail)."""

from __future__ import annotations

from secman.core.roles import Role
from secman.eventlog.models import Event
from secman.eventlog.notifications import notify_on
from secman.people.models import ListChangeProposal, Membership


def emails_of_role(role: str, *, exclude: int | None = None) -> list[str]:
    people = Membership.objects.active().filter(role=role)
    if exclude is not None:
        people = people.exclude(person_id=exclude)
    return sorted(set(people.values_list("person__email", flat=True)))


@notify_on("people.list.propose")
def _board_for_proposals(event: Event) -> list[str]:
    return emails_of_role(Role.BOARD_MEMBER)


@notify_on("people.list.approve")
@notify_on("people.list.reject")
def _proposer(event: Event) -> list[str]:
    proposal = ListChangeProposal.objects.select_related("proposed_by").get(pk=event.subject_id)
    return [proposal.proposed_by.email]
