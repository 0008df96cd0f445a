"""The REST API for Board decisions, Arbitration cases and two-person sign-offs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.authority.models import (
    ArbitrationCase,
    BoardDecision,
    BoardVote,
    SignOff,
    SignOffRequest,
)
from secman.eventlog.models import Event
from secman.people.models import Person


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


TODAY = timezone.localdate()


# --- Board decisions ----------------------------------------------------------------------


def minute(org, votes, number=5):
    return {
        "minute_id": f"m{TODAY:%Y%m%d}.{number}", "decided_on": TODAY.isoformat(),
        "title": "Sue on the Physical Access List", "text": "Approved as proposed.",
        "votes": [{"person": person.pk, "vote": vote} for person, vote in votes],
    }


def test_it_confirms_minutes_through_the_api_by_a_second_board_member(org, api):
    body = minute(org, [(org.bea, "aye"), (org.tom, "aye")])
    assert api(org.bea).post("/api/decisions/", body, format="json").status_code == 201
    url = f"/api/decisions/{body['minute_id']}/confirm/"
    before = unchanged(BoardDecision)
    refused = api(org.bea).post(url, format="json")
    assert refused.status_code == 403
    assert "a second Board member must confirm them" in refused.json()["detail"]
    assert unchanged(BoardDecision) == before
    decision = api(org.sue).get(f"/api/decisions/{body['minute_id']}/").json()
    assert (decision["confirmed"], decision["confirmed_by"]) == (False, None)

    confirmed = api(org.tom).post(url, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    assert (confirmed.json()["confirmed"], confirmed.json()["confirmed_by"]) == (True,
                                                                                 org.tom.pk)
    assert Event.objects.latest("seq").action == "authority.decision.confirm"


def test_it_records_a_board_decision_with_its_votes_and_tally(org, api):
    body = minute(org, [(org.bea, "aye"), (org.tom, "aye"), (org.ida, "abstain")])
    response = api(org.bea).post("/api/decisions/", body, format="json")
    assert response.status_code == 201, response.json()

    decision = api(org.sue).get(f"/api/decisions/{body['minute_id']}/").json()
    assert decision["tally"] == {"aye": 2, "naye": 0, "abstain": 1}
    assert decision["carried"] is True
    assert {(v["person_name"], v["vote"]) for v in decision["votes"]} == {
        ("Bea", "aye"), ("Tom", "aye"), ("Ida", "abstain")}
    assert decision["recorded_by"] == org.bea.pk
    assert Event.objects.filter(action="authority.decision.record",
                                authority=body["minute_id"]).exists()


def test_it_refuses_a_vote_from_someone_not_on_the_board_and_writes_nothing(org, api):
    before = unchanged(BoardDecision, BoardVote)
    body = minute(org, [(org.bea, "aye"), (org.sam, "aye")])
    response = api(org.bea).post("/api/decisions/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Sam was not a Board member on {TODAY:%Y-%m-%d} and cannot vote",
        "section": "SP 9.1.5", "field": "votes"}
    assert unchanged(BoardDecision, BoardVote) == before


def test_it_says_what_a_decision_accepts(org, api):
    body = minute(org, [(org.bea, "yes"), (org.bea, "aye")])
    body["minute_id"] = "board meeting of May"
    response = api(org.bea).post("/api/decisions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["votes"]["0"] == {
        "vote": ['"yes" is not accepted: use one of aye, naye, abstain']}

    body = minute(org, [(org.bea, "aye"), (org.bea, "aye")])
    assert api(org.bea).post("/api/decisions/", body, format="json").json() == {
        "votes": ["each Board member votes once"]}

    body = minute(org, [(org.bea, "aye")])
    body["minute_id"] = "board meeting of May"
    response = api(org.bea).post("/api/decisions/", body, format="json")
    assert "e.g. m20100222.1" in response.json()["detail"]


def test_it_leaves_minuting_to_the_board(org, api):
    response = api(org.sam).post("/api/decisions/", minute(org, [(org.bea, "aye")]),
                                 format="json")
    assert response.status_code == 403


# --- Arbitration cases --------------------------------------------------------------------


NUMBER = f"a{TODAY:%Y%m%d}.1"


def file_case(client, **extra):
    return client.post("/api/cases/", {
        "number": NUMBER, "title": "Access dispute", "filed_on": TODAY.isoformat(), **extra,
    }, format="json")


def test_it_files_and_rules_an_arbitration_case(org, api):
    response = file_case(api(org.cora), arbitrator=org.arne.pk, case_manager=org.cora.pk)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "running"

    case = api(org.sue).get(f"/api/cases/{NUMBER}/").json()
    assert (case["arbitrator_name"], case["case_manager_name"]) == ("Arne", "Cora")

    ruling = {"status": "ruled", "ruled_on": TODAY.isoformat(),
              "ruling_summary": "Access stays as it is."}
    refused = api(org.cora).patch(f"/api/cases/{NUMBER}/", ruling, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("only the case's Arbitrator records its ruling")
    assert refused.json()["section"] == "SP 9.1.4"

    ruled = api(org.arne).patch(f"/api/cases/{NUMBER}/", ruling, format="json")
    assert ruled.status_code == 200, ruled.json()
    assert ruled.json()["status"] == "ruled"
    assert ruled.json()["case_manager"] == org.cora.pk  # left out of the PATCH, kept
    assert Event.objects.filter(action="authority.case.rule", authority=NUMBER).exists()


def test_it_refuses_a_case_manager_without_the_role_and_writes_nothing(org, api):
    before = unchanged(ArbitrationCase)
    response = file_case(api(org.arne), arbitrator=org.arne.pk, case_manager=org.arne.pk)
    assert response.status_code == 400
    assert response.json() == {"detail": "Arne is not a Case Manager", "field": "case_manager"}
    assert unchanged(ArbitrationCase) == before


def test_it_keeps_case_numbers_fixed_and_new_cases_unruled(org, api):
    assert file_case(api(org.arne), status="ruled").json() == {"status": [
        "a new case starts as filed (running once an Arbitrator is named); record its "
        "status and ruling with PATCH afterwards"]}
    file_case(api(org.arne))
    response = api(org.arne).patch(f"/api/cases/{NUMBER}/", {"title": "Other"},
                                   format="json")
    assert response.status_code == 400
    assert "fixed once a case is recorded" in response.json()["title"][0]


def test_it_leaves_cases_to_arbitration(org, api):
    assert file_case(api(org.bea)).status_code == 403


# --- sign-offs ----------------------------------------------------------------------------


def open_request(client, requirement, authority="SM 2.2.3.3", **extra):
    return client.post("/api/signoffs/", {
        "title": "Replace the failed disk in the signing server", "authority": authority,
        "requirement": requirement, **extra,
    }, format="json")


DUAL = {"principle": "dual control", "roles": ["systems_administrator"]}
FOUR_EYES = {"principle": "four eyes", "executor": ["systems_administrator"],
             "observer": ["access_engineer"]}


def test_it_opens_a_dual_control_task_and_completes_it_with_two_people(org, api):
    response = open_request(api(org.sue), DUAL)
    assert response.status_code == 201, response.json()
    request = response.json()
    assert request["state"] == "pending"
    assert request["action"] == "authority.task"
    assert request["needs"] == ("dual control: person 1 (Systems Administrator), "
                                "person 2 (Systems Administrator)")
    assert request["open_slots"] == ["person 1", "person 2"]
    url = f"/api/signoffs/{request['id']}/"

    assert api(org.sam).get(url).json()["my_open_slots"] == ["person 1", "person 2"]
    first = api(org.sam).post(url + "sign/", {"comment": "disk swapped"}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["open_slots"] == ["person 2"]
    assert first.json()["slots"][0]["signed_by"] == org.sam.pk

    done = api(org.sid).post(url + "sign/", {}, format="json").json()
    assert done["state"] == "complete"
    assert done["completed_at"] is not None
    assert [(s["person_name"], s["slot"]) for s in done["signoffs"]] == [
        ("Sam", "person 1"), ("Sid", "person 2")]
    complete = Event.objects.get(action="signoff.complete", subject_id=str(request["id"]))
    assert [s["person"] for s in complete.signoffs] == ["Sam", "Sid"]


def test_it_refuses_a_second_signature_by_the_same_person_and_writes_nothing(org, api):
    url = f"/api/signoffs/{open_request(api(org.sue), DUAL).json()['id']}/sign/"
    api(org.sam).post(url, {}, format="json")
    before = unchanged(SignOff)
    response = api(org.sam).post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "you have signed this request already: each slot needs a different person",
        "section": "SP 1.2"}
    assert unchanged(SignOff) == before


def test_it_keeps_the_observer_apart_from_the_executor(org, api):
    request = open_request(api(org.sam), FOUR_EYES).json()
    assert request["needs"] == ("four eyes: executor (Systems Administrator), observer "
                                "(Access Engineer)")
    url = f"/api/signoffs/{request['id']}/sign/"
    refused = api(org.pim).post(url, {}, format="json")
    assert refused.status_code == 403
    assert "you hold none of the roles the open slots need" in refused.json()["detail"]
    assert api(org.sam).post(url, {"slot": "executor"}, format="json").status_code == 200
    done = api(org.axel).post(url, {}, format="json").json()
    assert [(s["person_name"], s["slot"]) for s in done["signoffs"]] == [
        ("Sam", "executor"), ("Axel", "observer")]


def test_it_filters_sign_off_requests_by_state(org, api):
    done = open_request(api(org.sue), DUAL).json()
    for person in (org.sam, org.sid):
        api(person).post(f"/api/signoffs/{done['id']}/sign/", {}, format="json")
    waiting = open_request(api(org.sue), FOUR_EYES).json()
    client = api(org.sue)
    assert [r["id"] for r in client.get("/api/signoffs/?status=pending").json()["results"]] == [
        waiting["id"]]
    assert [r["id"] for r in client.get("/api/signoffs/?status=complete").json()["results"]] == [
        done["id"]]
    bad = client.get("/api/signoffs/?status=done")
    assert bad.json() == {"status": [
        '"done" is not accepted: use one of pending, complete, withdrawn, expired']}


def test_it_shows_an_expired_request_as_expired(org, api):
    request = open_request(api(org.sue), DUAL, expires_in_hours=1).json()
    SignOffRequest.objects.filter(pk=request["id"]).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    client = api(org.sue)
    assert client.get(f"/api/signoffs/{request['id']}/").json()["state"] == "expired"
    expired = client.get("/api/signoffs/?status=expired").json()["results"]
    assert [r["id"] for r in expired] == [request["id"]]
    refused = api(org.sam).post(f"/api/signoffs/{request['id']}/sign/", {}, format="json")
    assert "expired" in refused.json()["detail"]


@pytest.mark.parametrize(("requirement", "field", "message"), [
    ({"principle": "three eyes", "roles": ["auditor"]}, "principle",
     '"three eyes" is not accepted: use one of dual control, four eyes'),
    ({"principle": "dual control", "roles": ["wizard"]}, "roles",
     '"wizard" is not a role: use access_engineer, systems_administrator'),
    ({"principle": "dual control", "roles": ["auditor"], "count": 1}, "count",
     "Ensure this value is greater than or equal to 2."),
    ({"principle": "four eyes", "roles": ["auditor"]}, "non_field_errors",
     'four eyes takes "executor" and "observer"'),
])
def test_it_says_what_a_requirement_accepts_and_writes_nothing(
    org, api, requirement, field, message
):
    before = unchanged(SignOffRequest)
    response = open_request(api(org.sue), requirement)
    assert response.status_code == 400
    assert response.json()["requirement"][field][0].startswith(message)
    assert unchanged(SignOffRequest) == before


def test_it_refuses_free_text_as_authority_for_a_task_and_writes_nothing(org, api):
    before = unchanged(SignOffRequest)
    response = open_request(api(org.sue), DUAL, authority="urgent, trust me")
    assert response.status_code == 400
    assert response.json()["section"] == "SP 1.2"
    assert "free text is not an authority" in response.json()["detail"]
    assert unchanged(SignOffRequest) == before


def test_it_leaves_an_auditor_reading_only(org, api):
    assert open_request(api(org.aud), DUAL).status_code == 403
    assert api(org.aud).get("/api/signoffs/").status_code == 200


def test_it_withdraws_a_request_and_takes_no_signature_after(org, api):
    request = open_request(api(org.sue), DUAL).json()
    url = f"/api/signoffs/{request['id']}/"
    assert api(org.sid).post(url + "withdraw/", {"reason": "no"}, format="json"
                             ).status_code == 403
    withdrawn = api(org.sue).post(url + "withdraw/", {"reason": "disk recovered"},
                                  format="json")
    assert withdrawn.json()["state"] == "withdrawn"
    refused = api(org.sam).post(url + "sign/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["detail"] == ("this request is withdrawn; “sign” is only for a "
                                        "request that is pending; it does not change any more")
