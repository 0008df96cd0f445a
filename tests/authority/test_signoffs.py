"""SP 1.2 dual control and four eyes: one sign-off mechanism for every module."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from secman.authority import services, signoff
from secman.authority.choices import SignOffStatus
from secman.authority.models import Authority, SignOff, SignOffRequest
from secman.authority.signoff import TASK, Requirement, dual_control, four_eyes
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db

SA, AE = Role.SYSTEMS_ADMINISTRATOR, Role.ACCESS_ENGINEER


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def actions_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


def request(org, requirement, actor="sam", action=TASK, **kwargs):
    return services.request_signoff(actor=getattr(org, actor), action=action,
                                    title="Replace the disk", requirement=requirement,
                                    authority="SM 2.2.3", **kwargs)


def status_of(req) -> str:
    return SignOffRequest.objects.get(pk=req.pk).status


@pytest.fixture
def handled(monkeypatch):
    """A test action whose handler writes a row and remembers what it saw."""
    monkeypatch.setattr(signoff, "_HANDLERS", dict(signoff._HANDLERS))
    seen: list = []

    def on_complete(req: SignOffRequest) -> None:
        seen.append((req.pk, req.status, transaction.get_connection().in_atomic_block,
                     SignOff.objects.filter(request=req).count()))
        Authority.objects.create(reference=f"SM 9.{req.pk}", kind="section", document="SM",
                                 section=f"9.{req.pk}")
        if req.payload.get("fail"):
            raise RuntimeError("the action could not be carried out")

    signoff.register("tests.handled", "A handled test action", on_complete)
    return seen


# --- requirements -------------------------------------------------------------------------


def test_it_describes_what_an_action_needs():
    assert dual_control(SA).describe() == (
        "dual control: person 1 (Systems Administrator), person 2 (Systems Administrator)")
    assert four_eyes(SA, [AE, SA]).describe() == (
        "four eyes: executor (Systems Administrator), "
        "observer (Access Engineer or Systems Administrator)")
    requirement = four_eyes(SA, AE)
    assert Requirement.from_json(requirement.to_json()) == requirement


def test_it_needs_at_least_two_people():
    with pytest.raises(ValueError, match="at least two"):
        dual_control(SA, count=1)


def test_it_opens_a_request_and_records_it(org):
    seq = last_seq()
    req = request(org, dual_control(SA), description="Disk 2 fails")
    assert req.status == SignOffStatus.PENDING
    assert req.state == "pending"
    assert services.open_slots(req) == ["person 1", "person 2"]
    assert actions_since(seq) == ["signoff.request"]
    event = Event.objects.get(seq=seq + 1)
    assert event.authority == "SM 2.2.3"
    assert event.details["requirement"].startswith("dual control")


@pytest.mark.parametrize("login", ["aud", "nobody", "admin"])
def test_it_lets_only_team_members_open_requests(org, login):
    with pytest.raises(NotAllowed):
        request(org, dual_control(SA), actor=login)
    assert not SignOffRequest.objects.exists()


def test_it_refuses_a_request_without_authority_title_or_sensible_expiry(org):
    seq = last_seq()
    with pytest.raises(RuleViolation, match="free text"):
        services.request_signoff(actor=org.sam, action=TASK, title="x",
                                 requirement=dual_control(SA), authority="ops wants it")
    with pytest.raises(RuleViolation, match="say what"):
        services.request_signoff(actor=org.sam, action=TASK, title=" ",
                                 requirement=dual_control(SA), authority="SM 2.2.3")
    for expires_in in (dt.timedelta(minutes=5), dt.timedelta(days=91)):
        with pytest.raises(RuleViolation, match="between 1 hour and 90 days"):
            request(org, dual_control(SA), expires_in=expires_in)
    with pytest.raises(LookupError):
        request(org, dual_control(SA), action="nobody.declared.this")
    assert not SignOffRequest.objects.exists()
    assert actions_since(seq) == []


# --- dual control -------------------------------------------------------------------------


def test_it_completes_dual_control_with_two_distinct_holders_of_the_role(org):
    req = request(org, dual_control(SA))
    seq = last_seq()
    first = services.sign(actor=org.sam, request=req, comment=" looked at it ")
    assert first.slot == "person 1"
    assert first.role == SA
    assert first.comment == "looked at it"
    assert status_of(req) == SignOffStatus.PENDING
    assert actions_since(seq) == ["signoff.sign"]

    seq = last_seq()
    services.sign(actor=org.sue, request=req)
    req.refresh_from_db()
    assert req.status == SignOffStatus.COMPLETE
    assert req.completed_at is not None
    assert actions_since(seq) == ["signoff.sign", "signoff.complete"]
    complete = Event.objects.get(seq=seq + 2)
    assert [(s["slot"], s["person"], s["role"]) for s in complete.signoffs] == [
        ("person 1", "Sam", SA), ("person 2", "Sue", SA)]
    assert complete.actor is None
    assert complete.authority == "SM 2.2.3"


def test_it_refuses_the_same_person_signing_twice(org):
    req = request(org, dual_control(SA))
    services.sign(actor=org.sam, request=req)
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.sign(actor=org.sam, request=req)
    assert "signed this request already" in str(exc_info.value)
    assert "SP 1.2" in str(exc_info.value)
    assert status_of(req) == SignOffStatus.PENDING
    assert SignOff.objects.filter(request=req).count() == 1
    assert actions_since(seq) == []


@pytest.mark.parametrize("login", ["axel", "aud", "nobody", "bea", "admin"])
def test_it_refuses_a_signature_from_someone_without_the_role(org, login):
    req = request(org, dual_control(SA))
    seq = last_seq()
    with pytest.raises(NotAllowed) as exc_info:
        services.sign(actor=getattr(org, login), request=req)
    assert "Systems Administrator" in str(exc_info.value)
    assert not SignOff.objects.exists()
    assert actions_since(seq) == []


def test_it_lists_the_slots_a_person_could_fill(org):
    req = request(org, four_eyes(SA, AE))
    assert services.slots_for(org.sue, req) == ["executor"]
    assert services.slots_for(org.axel, req) == ["observer"]
    assert services.slots_for(org.pim, req) == []
    services.sign(actor=org.sue, request=req)
    assert services.slots_for(org.sid, req) == []
    assert services.slots_for(org.sue, req) == []


# --- four eyes ----------------------------------------------------------------------------


def test_it_keeps_the_executor_from_observing(org):
    req = request(org, four_eyes(SA, SA))
    services.sign(actor=org.sam, request=req, slot="executor")
    with pytest.raises(RuleViolation, match="already"):
        services.sign(actor=org.sam, request=req, slot="observer")
    services.sign(actor=org.sid, request=req, slot="observer")
    assert status_of(req) == SignOffStatus.COMPLETE
    slots = dict(SignOff.objects.filter(request=req).values_list("slot", "person__name"))
    assert slots == {"executor": "Sam", "observer": "Sid"}


def test_it_fills_the_slot_the_signer_qualifies_for(org):
    req = request(org, four_eyes(SA, AE))
    with pytest.raises(NotAllowed, match="executor"):
        services.sign(actor=org.axel, request=req, slot="executor")
    assert services.sign(actor=org.axel, request=req).slot == "observer"
    with pytest.raises(RuleViolation, match="not open"):
        services.sign(actor=org.sue, request=req, slot="observer")
    with pytest.raises(RuleViolation, match="not open"):
        services.sign(actor=org.sue, request=req, slot="witness")
    assert services.sign(actor=org.sue, request=req).slot == "executor"
    assert status_of(req) == SignOffStatus.COMPLETE


def test_it_takes_no_signature_after_completion(org):
    req = request(org, dual_control(SA))
    services.sign(actor=org.sam, request=req)
    services.sign(actor=org.sue, request=req)
    with pytest.raises(RuleViolation, match="complete"):
        services.sign(actor=org.sid, request=req)
    assert SignOff.objects.filter(request=req).count() == 2


# --- expiry and withdrawal ----------------------------------------------------------------


def test_it_refuses_signatures_once_the_request_expired(org):
    req = request(org, dual_control(SA))
    services.sign(actor=org.sam, request=req)
    SignOffRequest.objects.filter(pk=req.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    req.refresh_from_db()
    assert req.is_expired
    assert req.state == "expired"
    assert services.slots_for(org.sue, req) == []
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        services.sign(actor=org.sue, request=req)
    assert "expired" in str(exc_info.value)
    assert "open a new one" in str(exc_info.value)
    assert status_of(req) == SignOffStatus.PENDING
    assert SignOff.objects.filter(request=req).count() == 1
    assert actions_since(seq) == []


def test_it_takes_signatures_until_the_expiry(org):
    req = request(org, dual_control(SA))
    SignOffRequest.objects.filter(pk=req.pk).update(
        expires_at=timezone.now() + dt.timedelta(minutes=1))
    services.sign(actor=org.sam, request=req)
    services.sign(actor=org.sue, request=req)
    assert status_of(req) == SignOffStatus.COMPLETE


def test_it_withdraws_a_request(org):
    req = request(org, dual_control(SA), actor="sue")
    services.sign(actor=org.sue, request=req)
    with pytest.raises(NotAllowed):
        services.withdraw_signoff(actor=org.sid, request=req, reason="no")
    with pytest.raises(RuleViolation, match="why"):
        services.withdraw_signoff(actor=org.sue, request=req, reason=" ")
    seq = last_seq()
    services.withdraw_signoff(actor=org.sue, request=req, reason="the disk recovered")
    assert status_of(req) == SignOffStatus.WITHDRAWN
    assert actions_since(seq) == ["signoff.withdraw"]
    assert Event.objects.get(seq=seq + 1).details == {"reason": "the disk recovered"}
    with pytest.raises(RuleViolation, match="withdrawn"):
        services.sign(actor=org.sam, request=req)
    with pytest.raises(RuleViolation, match="pending"):
        services.withdraw_signoff(actor=org.sue, request=req, reason="again")


def test_it_lets_the_requesters_team_leader_withdraw_a_request(org):
    req = request(org, dual_control(SA), actor="sue")
    with pytest.raises(NotAllowed, match="leader of the requester's team"):
        services.withdraw_signoff(actor=org.axel, request=req, reason="not yours")  # AE
    services.withdraw_signoff(actor=org.sam, request=req, reason="duplicate")  # SA leader
    assert status_of(req) == SignOffStatus.WITHDRAWN


def test_it_refuses_to_withdraw_a_completed_request(org):
    req = request(org, dual_control(SA))
    services.sign(actor=org.sam, request=req)
    services.sign(actor=org.sue, request=req)
    with pytest.raises(RuleViolation, match="pending"):
        services.withdraw_signoff(actor=org.sam, request=req, reason="too late")
    assert status_of(req) == SignOffStatus.COMPLETE


# --- handlers -----------------------------------------------------------------------------


def test_it_runs_the_handler_on_completion_in_the_same_transaction(org, handled):
    req = request(org, dual_control(SA), action="tests.handled")
    services.sign(actor=org.sam, request=req)
    assert handled == []
    assert not Authority.objects.filter(reference=f"SM 9.{req.pk}").exists()
    services.sign(actor=org.sue, request=req)
    assert handled == [(req.pk, SignOffStatus.COMPLETE, True, 2)]
    assert Authority.objects.filter(reference=f"SM 9.{req.pk}").exists()
    assert status_of(req) == SignOffStatus.COMPLETE


def test_it_keeps_nothing_of_the_last_signature_when_the_handler_fails(org, handled):
    req = request(org, dual_control(SA), action="tests.handled", payload={"fail": True})
    services.sign(actor=org.sam, request=req)
    seq = last_seq()
    with pytest.raises(RuntimeError, match="could not be carried out"):
        services.sign(actor=org.sue, request=req)
    assert handled  # it ran
    req.refresh_from_db()
    assert req.status == SignOffStatus.PENDING
    assert req.completed_at is None
    assert list(SignOff.objects.filter(request=req).values_list("person__name", flat=True)) \
        == ["Sam"]
    assert not Authority.objects.filter(reference=f"SM 9.{req.pk}").exists()
    assert actions_since(seq) == []
    # The first signature stands and the last slot is still open.
    assert services.open_slots(req) == ["person 2"]


def test_it_labels_registered_actions(handled):
    assert signoff.label_for("tests.handled") == "A handled test action"
    assert signoff.label_for("unknown.action") == "unknown.action"
    with pytest.raises(LookupError):
        signoff.handler_for("unknown.action")


def test_the_withdraw_button_shows_only_to_who_may_withdraw(client, org):
    req = request(org, dual_control(SA), actor="sue")
    for login, shown in (("sue", True), ("sam", True), ("axel", False), ("sid", False)):
        client.force_login(org.people[login].user)
        page = client.get(req.get_absolute_url()).content.decode()
        assert ("withdraw/" in page) is shown, login
