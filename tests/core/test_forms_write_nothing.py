"""Bad input through the web forms: a clear error on the page, and nothing written (no
row, no Event Log entry). Also: no form is accepted without its CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from secman.authority.models import ArbitrationCase, BoardDecision, SignOffRequest
from secman.eventlog.models import Event
from secman.people.models import ListChangeProposal, Membership, Person


def as_user(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (
        Event, Person, Membership, ListChangeProposal, BoardDecision, ArbitrationCase,
        SignOffRequest))


@pytest.mark.parametrize("authority", ["because the team leader said so", "SP", "m2026.1",
                                       "a20261340.1", "<script>alert(1)</script>"])
def test_it_refuses_a_proposal_with_a_bad_authority(client, org, authority):
    before = counts()
    response = as_user(client, org.sam).post("/people/lists/physical_access/", {
        "change": "add", "person": org.sid.pk, "reason": "r", "authority": authority})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not an authority" in html or "real date" in html
    assert "<script>alert(1)</script>" not in html  # escaped, never executed
    assert counts() == before


def test_it_refuses_an_excluded_person_naming_the_rule(client, org):
    before = counts()
    response = as_user(client, org.sam).post("/people/lists/physical_access/", {
        "change": "add", "person": org.axel.pk, "reason": "r", "authority": "SP 3.4.2"})
    assert "SP 3.4.2" in response.content.decode()
    assert counts() == before


def test_it_refuses_a_proposal_from_someone_who_does_not_manage_the_list(client, org):
    before = counts()
    response = as_user(client, org.sue).post("/people/lists/physical_access/", {
        "change": "add", "person": org.sid.pk, "reason": "r", "authority": "SP 3.4.2"})
    assert "proposed by its manager" in response.content.decode()
    assert counts() == before


def test_it_refuses_approval_with_a_decision_that_was_not_carried(client, org):
    from secman.authority.services import confirm_board_decision, record_board_decision
    from secman.people.services import propose_list_change

    lost = record_board_decision(actor=org.bea, minute_id=f"{org.decision.minute_id[:-1]}9",
                                 decided_on=org.decision.decided_on, title="t", text="t",
                                 votes={org.bea: "aye", org.tom: "naye", org.ida: "naye"})
    confirm_board_decision(actor=org.tom, decision=lost)
    proposal = propose_list_change(actor=org.sam, access_list=org.lists["physical_access"],
                                   person=org.sid, change="add", reason="r")
    before = counts()
    response = as_user(client, org.bea).post(
        f"/people/proposals/{proposal.pk}/approve/", {"approve-decision": lost.minute_id},
        follow=True)
    assert (f"{lost.minute_id} is not a confirmed and carried Board decision"
            in response.content.decode())
    assert counts() == before
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_it_refuses_a_board_decision_with_an_impossible_minute_id(client, org):
    before = counts()
    response = as_user(client, org.bea).post("/authority/decisions/new/", {
        "minute_id": "m20260230.1", "decided_on": "2026-01-01", "title": "t", "text": "t",
        f"vote_{org.bea.pk}": "aye"})
    assert "real date" in response.content.decode()
    assert counts() == before


def test_it_refuses_a_signoff_request_from_an_auditor(client, org):
    before = counts()
    response = as_user(client, org.aud).post("/authority/signoffs/new/", {
        "title": "t", "principle": "four eyes", "executor_role": "systems_administrator",
        "observer_role": "systems_administrator", "people": 2, "expires_in_days": 7,
        "authority": "SM 2.2.3"})
    assert "only people who hold a role in a team" in response.content.decode()
    assert counts() == before


def test_it_records_a_person_and_the_event_through_the_form(client, org):
    before = Event.objects.count()
    response = as_user(client, org.bea).post("/people/new/", {
        "name": "Nina New", "email": "nina@example.org", "authority": "SP 9.1.3",
        "phone": "+00 555 9999"}, follow=True)
    assert response.status_code == 200
    assert Person.objects.filter(email="nina@example.org").exists()
    assert Event.objects.count() == before + 1
    assert "+00 555 9999" not in Event.objects.latest("seq").canonical


def test_it_refuses_every_form_without_its_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.sam.user)
    before = counts()
    for url, data in [
        ("/people/lists/physical_access/", {"change": "add", "person": org.sid.pk,
                                            "reason": "r", "authority": "SP 3.4.2"}),
        ("/people/new/", {"name": "X", "email": "x@example.org", "authority": "SP 9.1.3"}),
        ("/authority/signoffs/new/", {"title": "t"}),
        ("/logout/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert counts() == before
