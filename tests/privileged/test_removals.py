"""Removing access (SP 3.4.4, SM 3.4.4): at once (keys blocked, grants revoked, list
removals proposed, checklist opened), permanent when the Board approves, restored when it
rejects; refusals write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority import services as authority_services
from secman.authority.services import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.models import ListChangeProposal
from secman.privileged import controls, removals
from secman.privileged.models import (
    AccessRemoval,
    SshKey,
    TemporaryGrant,
    TerminationChecklist,
)
from secman.systems.models import System

pytestmark = pytest.mark.django_db

FP = "SHA256:" + "C" * 43


def setup_sid(org, approve):
    approve("ssh_access", org.sid)
    approve("console_access", org.sid)
    key = SshKey.objects.create(person=org.sid, fingerprint=FP, key_type="ssh-ed25519",
                                authority=resolve_authority("SM 3.4.3"))
    system = System.objects.create(name="web", kind="vm", purpose="test")
    grant = TemporaryGrant.objects.create(
        person=org.sid, system=system, reason="debugging", granted_by=org.sam,
        authority=resolve_authority("SP 4.1.1"), ends_at=timezone.now() + dt.timedelta(days=1))
    return key, grant


def remove(org, actor=None, **kwargs):
    values = {"person": org.sid, "event": "ruling", "reason": "Ruling a20261201.1.",
              "authority": "SM 3.4.4"} | kwargs
    return removals.remove_access(actor=actor or org.sam, **values)


def test_access_is_removed_at_once(org, approve):
    key, grant = setup_sid(org, approve)
    removal = remove(org)
    key.refresh_from_db(), grant.refresh_from_db()
    assert removal.status == "temporary" and removal.removed_by == org.sam
    assert key.blocked_at and key.blocked_by == org.sam
    assert grant.revoked_at and grant.revoked_by == org.sam
    proposals = list(removal.proposals.order_by("access_list__kind"))
    assert [(p.access_list.kind, p.change, p.status) for p in proposals] == [
        ("console_access", "remove", "pending"), ("ssh_access", "remove", "pending")]
    checklist = TerminationChecklist.objects.get(person=org.sid)
    assert checklist.trigger == "removal" and checklist.removal == removal
    assert checklist.team.kind == "systems_administration"
    for action in ("privileged.access.remove", "privileged.key.block",
                   "privileged.grant.revoke", "privileged.checklist.open"):
        assert Event.objects.filter(action=action).count() == 1, action
    assert Event.objects.filter(action="people.list.propose").count() == 4  # 2 adds + 2
    [finding] = controls.removals_decided()
    assert finding.status == "due_soon" and finding.section == "SM 3.4.4"
    AccessRemoval.objects.filter(pk=removal.pk).update(
        removed_at=timezone.now() - dt.timedelta(days=15))
    assert controls.removals_decided()[0].status == "overdue"


def test_permanent_when_the_board_approves_every_list_removal(org, approve):
    setup_sid(org, approve)
    removal = remove(org)
    first, second = removal.proposals.all()
    people_services.approve_proposal(actor=org.tom, proposal=first, decision=org.decision)
    removal.refresh_from_db()
    assert removal.status == "temporary"
    people_services.approve_proposal(actor=org.tom, proposal=second, decision=org.decision)
    removal.refresh_from_db()
    assert removal.status == "permanent" and removal.decided_at
    entry = Event.objects.get(action="privileged.access.permanent")
    assert entry.details["board_decision"] == org.decision.minute_id
    assert controls.removals_decided() == []


def test_restored_when_the_board_rejects_one(org, approve):
    key, _ = setup_sid(org, approve)
    removal = remove(org)
    no = authority_services.record_board_decision(
        actor=org.bea, minute_id="m20261201.9", decided_on=timezone.localdate(),
        title="Sid stays", text="The Board does not approve removing Sid.",
        votes={org.bea: "aye", org.tom: "aye", org.ida: "aye"})
    no = authority_services.confirm_board_decision(actor=org.tom, decision=no)
    people_services.reject_proposal(actor=org.tom, proposal=removal.proposals.first(),
                                    decision=no)
    removal.refresh_from_db()
    key.refresh_from_db()
    assert removal.status == "restored"
    assert key.blocked_at is not None  # the keys stay blocked: a new key is registered
    assert Event.objects.filter(action="privileged.access.restore").count() == 1


def test_someone_on_no_list_is_removed_for_good(org):
    removal = removals.remove_access(actor=org.pia, person=org.pim, event="termination",
                                     reason="Left.", authority="SM 3.4.4")
    assert removal.status == "permanent"
    checklist = TerminationChecklist.objects.get(person=org.pim)
    assert checklist.team.kind == "support"


def test_who_may_remove(org):
    assert removals.may_remove_access(org.sam, org.pim)  # SA team leader
    assert removals.may_remove_access(org.pia, org.pim)  # pim's team leader
    assert removals.may_remove_access(org.bea, org.pim)  # Board
    assert removals.may_remove_access(org.arne, org.pim)  # Arbitrator
    assert not removals.may_remove_access(org.ola, org.pim)  # another team's leader
    assert not removals.may_remove_access(org.sue, org.pim)
    assert not removals.may_remove_access(None, org.pim)


def test_a_list_the_remover_may_not_propose_waits_for_its_manager(org, approve):
    setup_sid(org, approve)
    removal = remove(org, actor=org.arne)
    entry = Event.objects.get(action="privileged.access.remove")
    assert removal.proposals.count() == 0
    assert sorted(entry.details["lists_for_their_manager"]) == [
        "Console Access List", "SSH Access List"]
    # The key was blocked by the Arbitrator, under the removal.
    assert SshKey.objects.get(fingerprint=FP).blocked_by == org.arne
    for kind in ("ssh_access", "console_access"):
        proposal = people_services.propose_list_change(
            actor=org.sam, access_list=org.lists[kind], person=org.sid, change="remove",
            reason="Per the ruling.")
        people_services.approve_proposal(actor=org.tom, proposal=proposal,
                                         decision=org.decision)
    removal.refresh_from_db()
    assert removal.status == "permanent" and removal.proposals.count() == 2


@pytest.mark.parametrize("change", [
    {"reason": "  "}, {"authority": ""}, {"event": "whim"}, {"actor": "sue"},
    {"actor": "ola"}])
def test_refusals_write_nothing(org, approve, change):
    setup_sid(org, approve)
    before = (Event.objects.count(), ListChangeProposal.objects.count())
    actor = org.people[change.pop("actor")] if "actor" in change else None
    with pytest.raises((RuleViolation, NotAllowed)) as refused:
        remove(org, actor=actor, **change)
    assert refused.value.section == "SM 3.4.4"
    assert (Event.objects.count(), ListChangeProposal.objects.count()) == before
    assert not AccessRemoval.objects.exists() and not TerminationChecklist.objects.exists()
    assert not SshKey.objects.filter(blocked_at__isnull=False).exists()


def test_a_removal_waiting_for_the_board_is_not_made_twice(org, approve):
    setup_sid(org, approve)
    remove(org)
    with pytest.raises(RuleViolation, match="already removed"):
        remove(org, actor=org.bea)


def test_the_api_and_the_page_remove_under_the_same_rules(org, approve, client):
    from rest_framework.test import APIClient

    setup_sid(org, approve)
    api = APIClient()
    api.force_authenticate(org.sue.user)
    body = {"person": org.sid.pk, "event": "compromise", "reason": "Laptop stolen.",
            "authority": "SM 3.4.4"}
    refused = api.post("/api/access-removals/", body, format="json")
    assert refused.status_code == 403 and refused.json()["section"] == "SM 3.4.4"
    assert not AccessRemoval.objects.exists()
    client.force_login(org.sue.user)
    assert client.get("/privileged/removals/new/").status_code == 403
    client.force_login(org.sam.user)
    response = client.post("/privileged/removals/new/", {**body, "reason": ""})
    assert response.status_code == 200 and not AccessRemoval.objects.exists()
    response = client.post("/privileged/removals/new/", body)
    removal = AccessRemoval.objects.get()
    assert response.status_code == 302 and response["Location"] == \
        f"/privileged/removals/{removal.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "remove Sid from the SSH Access List" in page and "Waiting for the Board" in page
    api.force_authenticate(org.aud.user)
    [row] = api.get("/api/access-removals/").json()["results"]
    assert row["status"] == "temporary" and len(row["proposals"]) == 2
