"""Board minutes under four eyes on the pages: the decision shows whether its minutes are
confirmed, the Confirm button appears only for those who may confirm, Today lists what
waits for me, and a list change is decided by choosing a confirmed decision."""

from __future__ import annotations

import pytest
from django.utils import timezone

from secman.authority import services
from secman.authority.models import BoardDecision
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.choices import ProposalStatus

pytestmark = pytest.mark.django_db

CONFIRM_BUTTON = "Confirm the minutes</button>"


def page(client, person, url: str) -> str:
    client.force_login(person.user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def minutes(org) -> BoardDecision:
    """Recorded by Bea, not confirmed yet."""
    today = timezone.localdate()
    return services.record_board_decision(
        actor=org.bea, minute_id=f"m{today:%Y%m%d}.2", decided_on=today,
        title="Sue on the Physical Access List", text="Approved.",
        votes={org.bea: "aye", org.tom: "aye", org.ida: "abstain"})


def test_it_shows_unconfirmed_minutes_and_offers_confirmation_to_others(client, org, minutes):
    url = minutes.get_absolute_url()
    html = page(client, org.tom, url)
    assert "unconfirmed: authorises nothing until a second Board member confirms" in html
    assert "not yet: a Board member other than <bdi>Bea</bdi> confirms the minutes" in html
    assert CONFIRM_BUTTON in html
    for who in (org.bea, org.admin, org.sam, org.aud):  # the recorder and non-members
        assert CONFIRM_BUTTON not in page(client, who, url), who


def test_it_confirms_from_the_page_and_shows_by_whom(client, org, minutes):
    client.force_login(org.tom.user)
    before = Event.objects.count()
    response = client.post(f"{minutes.get_absolute_url()}confirm/", follow=True)
    html = response.content.decode()
    assert "Minutes confirmed: the decision can now be cited as an authority." in html
    assert "minutes confirmed" in html and "by <bdi>Tom</bdi> on " in html
    assert CONFIRM_BUTTON not in html
    assert Event.objects.count() == before + 1
    listing = page(client, org.bea, "/authority/decisions/")
    assert "confirmed</span> <small>by <bdi>Tom</bdi></small>" in listing


def test_it_refuses_the_recorder_on_the_page_and_writes_nothing(client, org, minutes):
    client.force_login(org.bea.user)
    before = Event.objects.count()
    response = client.post(f"{minutes.get_absolute_url()}confirm/", follow=True)
    assert "you recorded these minutes: a second Board member must confirm them" in \
        response.content.decode()
    assert Event.objects.count() == before
    assert not BoardDecision.objects.get(pk=minutes.pk).confirmed
    assert "unconfirmed" in page(client, org.bea, "/authority/decisions/")


def test_it_lists_minutes_waiting_for_my_confirmation_on_today(client, org, minutes):
    block = "Board minutes waiting for my confirmation"
    assert block in page(client, org.tom, "/")
    assert minutes.minute_id in page(client, org.ida, "/")
    for who in (org.bea, org.sam, org.admin):
        assert block not in page(client, who, "/"), who
    services.confirm_board_decision(actor=org.ida, decision=minutes)
    assert block not in page(client, org.tom, "/")


@pytest.fixture
def failed(org) -> BoardDecision:
    """A motion to approve that failed, recorded by Bea and confirmed by Tom."""
    today = timezone.localdate()
    motion = services.record_board_decision(
        actor=org.bea, minute_id=f"m{today:%Y%m%d}.3", decided_on=today, title="Motion",
        text="Failed.", votes={org.bea: "aye", org.tom: "naye", org.ida: "naye"})
    return services.confirm_board_decision(actor=org.tom, decision=motion)


@pytest.fixture
def proposal(org):
    return people_services.propose_list_change(
        actor=org.sam, access_list=org.lists["physical_access"], person=org.sue,
        change="add", reason="r")


def test_it_decides_a_list_change_by_choosing_a_confirmed_decision(
        client, org, minutes, failed, proposal):
    html = page(client, org.ida, proposal.get_absolute_url())
    approve = html[html.index('id="approve"'):html.index('id="reject"')]
    reject = html[html.index('id="reject"'):]
    assert f'<option value="{org.decision.minute_id}">' in approve
    assert minutes.minute_id not in approve and failed.minute_id not in approve
    assert f'<option value="{failed.minute_id}">' in reject
    assert f'<option value="{org.decision.minute_id}">' in reject
    assert minutes.minute_id not in reject  # unconfirmed: neither approves nor rejects
    assert '<option value="" selected>choose the decision</option>' in approve

    client.post(f"/people/proposals/{proposal.pk}/approve/", {"approve-decision": ""})
    assert "Choose the Board decision." in page(client, org.ida, proposal.get_absolute_url())

    # An unconfirmed decision typed in anyway is refused and writes nothing.
    before = Event.objects.count()
    response = client.post(f"/people/proposals/{proposal.pk}/approve/",
                           {"approve-decision": minutes.minute_id}, follow=True)
    assert f"{minutes.minute_id} is not a confirmed and carried Board decision" in \
        response.content.decode()
    assert Event.objects.count() == before

    response = client.post(f"/people/proposals/{proposal.pk}/approve/",
                           {"approve-decision": org.decision.minute_id}, follow=True)
    assert "Approved: the change has taken effect." in response.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision) == (ProposalStatus.APPROVED, org.decision)


def test_it_rejects_a_list_change_by_choosing_a_failed_motion(client, org, failed, proposal):
    client.force_login(org.tom.user)
    response = client.post(f"/people/proposals/{proposal.pk}/reject/",
                           {"reject-decision": failed.minute_id}, follow=True)
    assert "Rejected." in response.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision) == (ProposalStatus.REJECTED, failed)
