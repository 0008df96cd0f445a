"""The REST API for people, teams, access lists and proposals: the same rules as the UI,
because both call the same services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from secman.authority import services as authority_services
from secman.core.roles import TeamKind
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.choices import ListKind
from secman.people.models import ListChangeProposal, ListEntry, Membership, Person


@pytest.fixture
def api(org):
    """`api(org.bea)`: a client signed in (by session) as that person."""

    def signed_in(person: Person) -> APIClient:
        client = APIClient()
        client.force_login(person.user)
        return client

    return signed_in


def unchanged(*models):
    """Row counts of the Event Log and the given models, to compare after a refusal."""
    return [Event.objects.count(), *(model.objects.count() for model in models)]


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_anonymous_clients_with_401_json_not_a_login_redirect(db, method):
    response = getattr(APIClient(), method)("/api/people/", {}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials were not provided" in response.json()["detail"]


def test_it_refuses_a_login_that_is_not_a_person(org):
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("stray", password="x" * 16))
    response = client.get("/api/me/")
    assert response.status_code == 403
    assert response.json()["detail"] == "this login is not linked to a person in secman"


def test_it_accepts_a_token_it_issued_and_keeps_the_token_out_of_the_event_log(org, api):
    response = api(org.sue).post("/api/me/token/")
    assert response.status_code == 201
    key = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["person"]["name"] == "Sue"

    event = Event.objects.get(action="people.api_token.issue")
    assert event.actor == org.sue
    assert key not in event.canonical
    assert event.details == {"login": "sue", "replaced_earlier_one": False,
                             "via": {"channel": "api"}}


def test_it_stops_accepting_a_token_once_a_new_one_is_issued(org, api):
    old = api(org.sue).post("/api/me/token/").json()["token"]
    api(org.sue).post("/api/me/token/")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/me/").status_code == 401


def test_it_requires_the_csrf_token_for_writes_by_session(org):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(org.sue.user)
    response = client.post("/api/me/token/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Event.objects.filter(action="people.api_token.issue").exists()


def test_it_takes_json_only(org, api):
    response = api(org.bea).post("/api/people/", {"name": "Nina"})  # multipart form
    assert response.status_code == 415
    assert response.json()["detail"].startswith('Unsupported media type "multipart/form-data')
    assert not Person.objects.filter(name="Nina").exists()


def test_it_tells_me_who_i_am_and_what_roles_i_hold(org, api):
    body = api(org.sam).get("/api/me/").json()
    assert body["person"]["email"] == "sam@example.org"
    assert body["roles"] == ["systems_administrator", "team_leader"]
    assert [(m["team"], m["is_leader"]) for m in body["memberships"]] == [
        ("systems_administration", True)]
    assert body["is_administrator"] is False


# --- people and their contact details -----------------------------------------------------


def test_it_hides_contact_details_from_an_ordinary_member(org, api):
    body = api(org.sue).get(f"/api/people/{org.sam.pk}/").json()
    assert body["name"] == "Sam"
    assert "phone" not in body
    assert "chat_handle" not in body
    assert "emergency_contact" not in body


def test_it_hides_contact_details_in_the_people_list_too(org, api):
    people = api(org.sue).get("/api/people/?limit=100").json()["results"]
    with_phone = [person["name"] for person in people if "phone" in person]
    assert with_phone == ["Sue"]  # her own only


def test_it_shows_contact_details_to_a_board_member(org, api):
    body = api(org.bea).get(f"/api/people/{org.sam.pk}/").json()
    assert body["phone"] == org.sam.phone
    assert "emergency_contact" in body


def test_it_shows_contact_details_to_the_arbitrator(org, api):
    assert api(org.arne).get(f"/api/people/{org.sam.pk}/").json()["phone"] == org.sam.phone


def test_it_records_a_person_through_the_service(org, api):
    response = api(org.bea).post("/api/people/", {
        "name": "Nina", "email": "Nina@Example.org", "phone": "+00 555 9999",
        "authority": "SP 9.1.3",
    }, format="json")
    assert response.status_code == 201, response.json()
    nina = Person.objects.get(pk=response.json()["id"])
    assert nina.email == "nina@example.org"
    event = Event.objects.get(action="people.person.create", subject_id=str(nina.pk))
    assert event.authority == "SP 9.1.3"
    assert event.actor == org.bea
    assert "+00 555 9999" not in event.canonical  # contact details stay out of the log


def test_it_refuses_free_text_as_authority_and_writes_nothing(org, api):
    before = unchanged(Person)
    response = api(org.bea).post("/api/people/", {
        "name": "Nina", "email": "nina@example.org", "authority": "the Board said so",
    }, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "free text is not an authority" in body["detail"]
    assert "SP 3.4.2" in body["detail"]  # says what would be accepted
    assert body["section"] == "SP 1.2"
    assert unchanged(Person) == before


def test_it_requires_an_authority_for_changes(org, api):
    response = api(org.bea).post("/api/people/", {"name": "Nina", "email": "n@example.org"},
                                 format="json")
    assert response.status_code == 400
    assert response.json() == {"authority": ["This field is required."]}


def test_it_requires_an_authority_for_a_partial_update_too(org, api):
    response = api(org.sue).patch(f"/api/people/{org.sue.pk}/", {"phone": "+00 555 1"},
                                  format="json")
    assert response.status_code == 400
    assert response.json() == {"authority": ["This field is required."]}


def test_it_refuses_an_ordinary_member_recording_people(org, api):
    before = unchanged(Person)
    response = api(org.sue).post("/api/people/", {
        "name": "Nina", "email": "nina@example.org", "authority": "SP 9.1.3",
    }, format="json")
    assert response.status_code == 403
    assert "only the Board, team leaders and the administrator" in response.json()["detail"]
    assert unchanged(Person) == before


def test_it_lets_a_person_change_their_own_contact_details(org, api):
    response = api(org.sue).patch(f"/api/people/{org.sue.pk}/", {
        "phone": "+00 555 1234", "authority": "SP 6.4"}, format="json")
    assert response.status_code == 200
    assert response.json()["phone"] == "+00 555 1234"
    org.sue.refresh_from_db()
    assert org.sue.phone == "+00 555 1234"


def test_it_leaves_a_persons_name_to_the_board(org, api):
    response = api(org.sue).patch(f"/api/people/{org.sue.pk}/", {
        "name": "Susan", "authority": "SP 6.4"}, format="json")
    assert response.status_code == 403
    assert "changed by the Board" in response.json()["detail"]
    response = api(org.bea).patch(f"/api/people/{org.sue.pk}/", {
        "name": "Susan", "authority": "SP 9.1.3"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Susan"


def test_it_does_not_add_a_login_to_an_existing_person(org, api):
    response = api(org.bea).patch(f"/api/people/{org.sue.pk}/", {
        "username": "sue2", "authority": "SP 9.1.3"}, format="json")
    assert response.status_code == 400
    assert "made when the person is recorded" in response.json()["username"][0]


# --- teams --------------------------------------------------------------------------------


def test_it_shows_a_team_with_its_members_and_history(org, api):
    sid = Membership.objects.get(person=org.sid)
    response = api(org.bea).post("/api/teams/systems_administration/end-membership/", {
        "membership": sid.pk, "reason": "resigned", "authority": org.decision.minute_id,
    }, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["end"] is not None

    team = api(org.sue).get("/api/teams/systems_administration/").json()
    assert [m["person_name"] for m in team["members"]] == ["Sam", "Sue"]
    assert team["members"][0]["is_leader"] is True
    ended = [m for m in team["history"] if m["person_name"] == "Sid"]
    assert ended[0]["end_reason"] == "resigned"
    assert ended[0]["is_active"] is False
    assert team["roles"] == ["systems_administrator"]


def test_it_adds_a_member_under_a_board_decision(org, api):
    response = api(org.bea).post("/api/teams/support/add-member/", {
        "person": org.nobody.pk, "authority": org.decision.minute_id,
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == "support_engineer"
    members = api(org.pim).get("/api/teams/support/").json()["members"]
    assert "Nobody" in [m["person_name"] for m in members]
    assert Event.objects.filter(action="people.team.join", actor=org.bea).exists()


def test_it_refuses_a_new_member_without_a_board_decision_and_writes_nothing(org, api):
    before = unchanged(Membership)
    response = api(org.bea).post("/api/teams/support/add-member/", {
        "person": org.nobody.pk, "authority": "SP 9.1.3",
    }, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "authority"
    assert "the Board authorises new individuals" in response.json()["detail"]
    assert unchanged(Membership) == before


def test_it_refuses_a_second_team_for_an_individual(org, api):
    before = unchanged(Membership)
    response = api(org.bea).post("/api/teams/support/add-member/", {
        "person": org.sue.pk, "authority": org.decision.minute_id,
    }, format="json")
    assert response.status_code == 400
    assert response.json()["section"] == "SP 9.1.2"
    assert unchanged(Membership) == before


def test_it_says_which_role_values_a_team_action_accepts(org, api):
    response = api(org.bea).post("/api/teams/support/add-member/", {
        "person": org.nobody.pk, "role": "wizard", "authority": org.decision.minute_id,
    }, format="json")
    assert response.status_code == 400
    assert "use one of access_engineer, systems_administrator" in response.json()["role"][0]


def test_it_appoints_a_team_leader(org, api):
    response = api(org.bea).post("/api/teams/systems_administration/appoint-leader/", {
        "person": org.sue.pk, "authority": org.decision.minute_id}, format="json")
    assert response.status_code == 200, response.json()
    members = api(org.bea).get("/api/teams/systems_administration/").json()["members"]
    assert [m["person_name"] for m in members if m["is_leader"]] == ["Sue"]
    assert "Sam" in [m["person_name"] for m in members]


def test_it_only_ends_memberships_of_the_team_named(org, api):
    sue = Membership.objects.get(person=org.sue)
    response = api(org.bea).post("/api/teams/support/end-membership/", {
        "membership": sue.pk, "reason": "resigned", "authority": org.decision.minute_id,
    }, format="json")
    assert response.status_code == 400
    assert "is not in the Support team" in response.json()["membership"][0]
    assert Membership.objects.get(pk=sue.pk).end is None


# --- access lists -------------------------------------------------------------------------


def test_it_shows_the_ssh_list_including_the_physical_access_list_by_default(org, api, approve):
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    approve(ListKind.SSH_ACCESS, org.sid)
    body = api(org.sam).get("/api/lists/ssh_access/").json()
    members = {m["person_name"]: m["included_via"] for m in body["members"]}
    assert members == {"Sid": None, "Sue": "physical_access"}
    assert people_services.on_list(org.sue, ListKind.SSH_ACCESS)
    assert body["includes_lists"] == ["physical_access"]
    assert body["manager"] == TeamKind.SYSTEMS_ADMINISTRATION

    physical = api(org.sam).get("/api/lists/physical_access/").json()
    assert [m["person_name"] for m in physical["members"]] == ["Sue"]
    assert "access_engineer" in physical["excludes_roles"]


def test_it_lists_all_five_access_lists(org, api):
    lists = api(org.sue).get("/api/lists/").json()["results"]
    assert [item["kind"] for item in lists] == list(ListKind.values)


# --- proposals ----------------------------------------------------------------------------


def propose(client, kind, person, change="add"):
    return client.post("/api/proposals/", {
        "access_list": kind, "person": person.pk, "change": change, "reason": "on call",
    }, format="json")


def test_it_takes_a_proposal_and_applies_it_only_on_board_approval(org, api):
    response = propose(api(org.sam), "physical_access", org.sue)
    assert response.status_code == 201, response.json()
    proposal = response.json()
    assert proposal["status"] == "pending"
    assert proposal["authority"] == "SP 3.4.2"
    assert api(org.sam).get("/api/lists/physical_access/").json()["members"] == []

    url = f"/api/proposals/{proposal['id']}/approve/"
    refused = api(org.sam).post(url, {"decision": org.decision.minute_id}, format="json")
    assert refused.status_code == 403

    approved = api(org.tom).post(url, {"decision": org.decision.minute_id}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["decision"] == org.decision.minute_id
    members = api(org.sam).get("/api/lists/physical_access/").json()["members"]
    assert [m["person_name"] for m in members] == ["Sue"]
    assert Event.objects.filter(action="people.list.approve",
                                authority=org.decision.minute_id).count() == 1


def test_it_filters_proposals_by_status_and_list(org, api, approve):
    approve(ListKind.PHYSICAL_ACCESS, org.sue)
    propose(api(org.sam), "ssh_access", org.sid)
    client = api(org.sue)
    approved = client.get("/api/proposals/?status=approved").json()["results"]
    assert [(p["person_name"], p["access_list"]) for p in approved] == [
        ("Sue", "physical_access")]
    pending = client.get("/api/proposals/?status=pending&list=ssh_access").json()["results"]
    assert [p["person_name"] for p in pending] == ["Sid"]
    bad = client.get("/api/proposals/?status=maybe")
    assert bad.status_code == 400
    assert bad.json()["status"] == [
        '"maybe" is not accepted: use one of pending, approved, rejected, withdrawn']


def test_it_refuses_an_access_engineer_on_the_physical_access_list_and_writes_nothing(
    org, api
):
    before = unchanged(ListChangeProposal, ListEntry)
    response = propose(api(org.bea), "physical_access", org.axel)
    assert response.status_code == 400
    body = response.json()
    assert body["section"] == "SP 3.4.2"
    assert body["field"] == "person"
    assert "Physical Access List is for Systems Administrators and Axel is not one" in (
        body["detail"])
    assert unchanged(ListChangeProposal, ListEntry) == before


def test_it_refuses_a_list_that_excludes_one_the_person_is_on_and_writes_nothing(
    org, api, approve
):
    # Otto was a Software Assessor on the Repository Access List, then moved to systems
    # administration: the Physical Access List excludes the Repository Access List.
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    people_services.end_membership(actor=org.bea, membership=Membership.objects.get(
        person=org.otto), authority=org.decision, reason="moved")
    people_services.add_member(actor=org.bea, team=org.teams[TeamKind.SYSTEMS_ADMINISTRATION],
                               person=org.otto, authority=org.decision)
    before = unchanged(ListChangeProposal, ListEntry)
    response = propose(api(org.sam), "physical_access", org.otto)
    assert response.status_code == 400
    assert "Otto is on the Repository Access List, and the Physical Access List excludes" in (
        response.json()["detail"])
    assert response.json()["section"] == "SP 3.4.2"
    assert unchanged(ListChangeProposal, ListEntry) == before


def test_it_refuses_approval_by_a_decision_that_was_not_carried_and_writes_nothing(org, api):
    proposal = propose(api(org.sam), "physical_access", org.sue).json()
    lost = authority_services.record_board_decision(
        actor=org.bea, minute_id=f"m{org.decision.decided_on:%Y%m%d}.2",
        decided_on=org.decision.decided_on, title="Sue on the Physical Access List",
        text="Declined.", votes={org.bea: "naye", org.tom: "naye", org.ida: "aye"},
    )
    authority_services.confirm_board_decision(actor=org.ida, decision=lost)
    before = unchanged(ListEntry)
    response = api(org.tom).post(f"/api/proposals/{proposal['id']}/approve/",
                                 {"decision": lost.minute_id}, format="json")
    assert response.status_code == 400
    assert "was not carried (1 aye, 2 naye, 0 abstaining)" in response.json()["detail"]
    assert unchanged(ListEntry) == before
    assert ListChangeProposal.objects.get(pk=proposal["id"]).status == "pending"


def test_it_rejects_and_withdraws_proposals(org, api):
    first = propose(api(org.sam), "physical_access", org.sue).json()
    second = propose(api(org.sam), "ssh_access", org.sid).json()
    rejected = api(org.bea).post(f"/api/proposals/{first['id']}/reject/",
                                 {"decision": org.decision.minute_id}, format="json")
    assert rejected.json()["status"] == "rejected"

    url = f"/api/proposals/{second['id']}/withdraw/"
    assert api(org.sam).post(url, {}, format="json").json() == {
        "reason": ["This field is required."]}
    withdrawn = api(org.sam).post(url, {"reason": "not needed"}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"
    again = api(org.sam).post(url, {"reason": "not needed"}, format="json")
    assert again.status_code == 400
    assert again.json()["detail"] == (
        "this proposal is withdrawn; it cannot become withdrawn: only a proposal that is "
        "waiting for the Board can; it does not change any more")


def test_it_says_what_a_proposal_accepts(org, api):
    client = api(org.sam)
    response = client.post("/api/proposals/", {
        "access_list": "vip", "person": 99999, "change": "promote", "reason": "x",
    }, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["access_list"] == ['there is no list "vip": use one of physical_control, '
                                   "physical_access, ssh_access, repository_access, "
                                   "support_access, console_access"]
    assert "give the id of a person recorded in secman" in body["person"][0]
    assert body["change"] == ['"promote" is not accepted: use one of add, remove']
