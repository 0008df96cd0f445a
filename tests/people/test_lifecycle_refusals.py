"""A proposed change to an access list moves only along its lifecycle table
(people.lifecycles.PROPOSAL): once decided or withdrawn it does not change, nothing is
written on a refusal, and the page stops offering the moves."""

from __future__ import annotations

import pytest

from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.people import services
from secman.people.choices import ProposalStatus
from secman.people.lifecycles import PROPOSAL
from secman.people.models import ListChangeProposal, ListEntry

pytestmark = pytest.mark.django_db


def proposal_in(org, status: str) -> ListChangeProposal:
    proposal = services.propose_list_change(
        actor=org.bea, access_list=org.lists["ssh_access"], person=org.sid, change="add",
        reason="needed for the work")
    ListChangeProposal.objects.filter(pk=proposal.pk).update(status=status)
    return ListChangeProposal.objects.get(pk=proposal.pk)


MOVES = {
    "approve": lambda org, p: services.approve_proposal(actor=org.tom, proposal=p,
                                                        decision=org.decision),
    "reject": lambda org, p: services.reject_proposal(actor=org.tom, proposal=p,
                                                      decision=org.decision),
    "withdraw": lambda org, p: services.withdraw_proposal(actor=org.bea, proposal=p,
                                                          reason="not needed"),
}


@pytest.mark.parametrize("status", [ProposalStatus.APPROVED, ProposalStatus.REJECTED,
                                    ProposalStatus.WITHDRAWN])
@pytest.mark.parametrize("move", list(MOVES))
def test_a_decided_proposal_refuses_every_move_and_writes_nothing(org, status, move):
    proposal = proposal_in(org, status)
    assert PROPOSAL.moves_from(status) == []
    before, entries = Event.objects.count(), ListEntry.objects.count()
    with pytest.raises(RuleViolation) as refused:
        MOVES[move](org, proposal)
    assert refused.value.message.startswith(f"this proposal is {PROPOSAL.label(status)};")
    assert refused.value.message.endswith("it does not change any more")
    assert refused.value.section == "SP 3.4.2"
    assert ListChangeProposal.objects.get(pk=proposal.pk).status == status
    assert (Event.objects.count(), ListEntry.objects.count()) == (before, entries)


def test_the_proposal_page_offers_the_moves_only_while_pending(client, org):
    proposal = proposal_in(org, ProposalStatus.PENDING)
    client.force_login(org.tom.user)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert 'id="approve"' in page and 'id="reject"' in page
    services.reject_proposal(actor=org.tom, proposal=proposal, decision=org.decision)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert 'id="approve"' not in page and 'id="reject"' not in page
    assert "/withdraw/" not in page
