"""A duty's occurrence moves only along its lifecycle table
(compliance.lifecycles.OCCURRENCE): a move the table lacks is refused, writes no entry,
and the occurrence page stops offering it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority.models import SignOffRequest
from secman.authority.services import sign
from secman.compliance import services
from secman.compliance.lifecycles import OCCURRENCE
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.core.errors import RuleViolation
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db

REVIEW = "logs.automated_review"        # daily, Systems Administration
ESCROW = "keys.escrow_check"            # quarterly, four eyes


@pytest.fixture
def duties(org):
    started = timezone.now() - dt.timedelta(days=10)
    services.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    services.generate_occurrences()
    return {d.control_id: d for d in Duty.objects.all()}


def occurrence_of(control_id: str, status: str) -> Occurrence:
    occurrence = Occurrence.objects.filter(duty__control_id=control_id).order_by("due_at")[0]
    Occurrence.objects.filter(pk=occurrence.pk).update(
        status=status, period_start=timezone.now() - dt.timedelta(days=1))
    return Occurrence.objects.get(pk=occurrence.pk)


MOVES = {
    "complete": lambda org, o: services.complete_occurrence(actor=org.sam, occurrence=o,
                                                            note="Reviewed; all quiet."),
    "skip": lambda org, o: services.skip_occurrence(actor=org.sam, occurrence=o,
                                                    reason="server moved",
                                                    authority=org.decision),
}


@pytest.mark.parametrize(("status", "move"), [
    (OccurrenceStatus.DONE, "complete"),
    (OccurrenceStatus.DONE, "skip"),
    (OccurrenceStatus.SKIPPED, "complete"),
    (OccurrenceStatus.AWAITING_SIGNOFF, "complete"),  # waits for the second person
    (OccurrenceStatus.AWAITING_SIGNOFF, "skip"),
])
def test_an_occurrence_refuses_a_move_its_table_lacks_and_writes_nothing(org, duties, status,
                                                                         move):
    occurrence = occurrence_of(REVIEW, status)
    assert not any(t.name == move for t in OCCURRENCE.moves_from(status))
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match=f"this occurrence is {OCCURRENCE.label(status)};"):
        MOVES[move](org, occurrence)
    assert Occurrence.objects.get(pk=occurrence.pk).status == status
    assert Event.objects.count() == before


def test_a_late_second_signature_does_not_complete_a_reopened_occurrence(org, duties):
    occurrence = occurrence_of(ESCROW, OccurrenceStatus.OPEN)
    waiting = services.complete_occurrence(actor=org.sam, occurrence=occurrence,
                                           note="Envelopes seen in the safe, seals intact.")
    request = SignOffRequest.objects.get(pk=waiting.signoff_id)
    # Reopened meanwhile (as the duties round does): the open occurrence is done only by
    # completing it again, not by the old request's last signature.
    Occurrence.objects.filter(pk=occurrence.pk).update(status=OccurrenceStatus.OPEN)
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="“a second team member signs off” is only for"):
        sign(actor=org.sue, request=request)
    assert Occurrence.objects.get(pk=occurrence.pk).status == OccurrenceStatus.OPEN
    assert SignOffRequest.objects.get(pk=request.pk).status == "pending"
    assert Event.objects.count() == before


def test_the_occurrence_page_offers_the_moves_only_while_open(client, org, duties):
    occurrence = occurrence_of(REVIEW, OccurrenceStatus.OPEN)
    client.force_login(org.sam.user)
    page = client.get(occurrence.get_absolute_url()).content.decode()
    assert 'id="complete"' in page and "Skip with authority" in page
    MOVES["complete"](org, occurrence)
    page = client.get(occurrence.get_absolute_url()).content.decode()
    assert 'id="complete"' not in page and "Skip with authority" not in page
