"""SM 9.1.7's termination and transfer checklist: opened by people's signals, steps done
with evidence (step 1 also from the agents' next reports), closed by the team leader;
refusals write nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.models import Membership
from secman.privileged import checklists, controls
from secman.privileged.models import ChecklistStep, SshKey, TerminationChecklist
from secman.systems import agents
from secman.systems.models import System

pytestmark = pytest.mark.django_db

FP_A = "SHA256:" + "A" * 43
FP_B = "SHA256:" + "B" * 43


def leave(org, login: str, team: str = "support", actor=None):
    membership = Membership.objects.active().get(person=org.people[login], team__kind=team)
    return people_services.end_membership(actor=actor or org.pia, membership=membership,
                                          authority="SP 9.1.7", reason="Resigned.")


def test_a_membership_ending_opens_the_checklist_for_the_team(org):
    leave(org, "pim")
    checklist = TerminationChecklist.objects.get(person=org.pim)
    assert checklist.team.kind == "support" and checklist.trigger == "membership_ended"
    assert [s.number for s in checklist.steps.all()] == [1, 2, 3, 4, 5]
    assert Event.objects.filter(action="privileged.checklist.open").count() == 1
    assert checklists.open_for_leader(org.pia) == [checklist]
    assert checklists.open_for_leader(org.sam) == []
    [finding] = controls.checklists_closed()
    assert finding.status == "due_soon" and finding.section == "SM 9.1.7"
    TerminationChecklist.objects.filter(pk=checklist.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=8))
    assert controls.checklists_closed()[0].status == "overdue"


def transfer(org, login: str = "pim") -> None:
    leave(org, login)
    people_services.add_member(actor=None, team=org.teams["software_assessment"],
                               person=org.people[login], role=Role.SOFTWARE_ASSESSOR,
                               authority=org.decision)


def test_a_transfer_asks_steps_1_and_2(org):
    leave(org, "pim")
    checklist = TerminationChecklist.objects.get(person=org.pim)
    checklists.complete_step(actor=org.pia, step=checklist.steps.get(number=4),
                             evidence="Escrowed.")
    people_services.add_member(actor=None, team=org.teams["software_assessment"],
                               person=org.pim, role=Role.SOFTWARE_ASSESSOR,
                               authority=org.decision)
    checklist.refresh_from_db()
    assert checklist.trigger == "transfer"
    # Step 4 was done: it keeps its evidence; 3 and 5 are no longer asked.
    assert [s.number for s in checklist.steps.all()] == [1, 2, 4]
    entry = Event.objects.get(action="privileged.checklist.transfer")
    assert entry.details["steps_no_longer_asked"] == [3, 5]


def test_a_non_critical_membership_opens_nothing(org):
    membership = Membership.objects.active().get(person=org.bea, team__kind="board")
    people_services.end_membership(actor=org.bea, membership=membership,
                                   authority="SP 9.1.7", reason="Stepped down.")
    assert not TerminationChecklist.objects.exists()


def test_leaving_a_list_opens_the_checklist_of_its_manager_team(org, approve):
    approve("ssh_access", org.sid)
    approve("ssh_access", org.sid, change="remove")
    checklist = TerminationChecklist.objects.get(person=org.sid)
    assert checklist.trigger == "left_list"
    assert checklist.team == org.lists["ssh_access"].manager
    assert checklist.list_entry.access_list.kind == "ssh_access"
    # Sid is still a Systems Administrator, but never completes his own checklist.
    with pytest.raises(NotAllowed):
        checklists.complete_step(actor=org.sid, step=checklist.steps.get(number=3),
                                 evidence="mine")
    assert checklists.may_complete_steps(org.sue, checklist)


def test_an_open_checklist_is_reused_and_given_the_missing_steps(org):
    transfer(org)
    checklist = TerminationChecklist.objects.get(person=org.pim)
    checklists.open_checklist(actor=org.pia, person=org.pim, team=checklist.team,
                              trigger="membership_ended")
    assert TerminationChecklist.objects.filter(person=org.pim).count() == 1
    assert checklist.steps.count() == 5


def test_steps_need_evidence_and_closing_needs_every_step(org):
    leave(org, "pim")
    checklist = TerminationChecklist.objects.get(person=org.pim)
    step3 = checklist.steps.get(number=3)
    before = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        checklists.complete_step(actor=org.pia, step=step3, evidence="  ")
    assert refused.value.field == "evidence" and refused.value.section == "SM 9.1.7"
    with pytest.raises(NotAllowed):
        checklists.complete_step(actor=org.ola, step=step3, evidence="done")
    with pytest.raises(RuleViolation, match="steps not done yet: 1, 2, 3, 4, 5"):
        checklists.close_checklist(actor=org.pia, checklist=checklist)
    assert Event.objects.count() == before
    assert not ChecklistStep.objects.filter(done_at__isnull=False).exists()

    checklists.complete_step(actor=org.sue, step=step3, evidence="DB passwords analysed.")
    with pytest.raises(RuleViolation, match="was done"):
        checklists.complete_step(actor=org.pia, step=step3, evidence="again")
    for number in (1, 2, 4, 5):
        checklists.complete_step(actor=org.pia, step=checklist.steps.get(number=number),
                                 evidence=f"Step {number}: see ticket 42.")
    with pytest.raises(NotAllowed):  # a Systems Administrator completes, the leader closes
        checklists.close_checklist(actor=org.sue, checklist=checklist)
    closed = checklists.close_checklist(actor=org.pia, checklist=checklist)
    assert closed.status == "closed" and closed.closed_by == org.pia
    assert Event.objects.filter(action="privileged.checklist.step").count() == 5
    assert Event.objects.filter(action="privileged.checklist.close").count() == 1
    assert checklists.open_for_leader(org.pia) == []
    assert controls.checklists_closed() == []


def test_step_1_needs_the_keys_blocked(org):
    leave(org, "pim")
    SshKey.objects.create(person=org.pim, fingerprint=FP_A, key_type="ssh-ed25519",
                          authority=_section())
    step1 = TerminationChecklist.objects.get(person=org.pim).steps.get(number=1)
    with pytest.raises(RuleViolation, match="unblocked SSH keys"):
        checklists.complete_step(actor=org.pia, step=step1, evidence="Blocked.")
    assert ChecklistStep.objects.get(pk=step1.pk).done_at is None


def _section():
    from secman.authority.services import resolve_authority

    return resolve_authority("SM 3.4.3")


def _report(system: System, token: str, fingerprints: list[str]) -> None:
    body = {"agent_version": "1", "system": system.name, "hostname": system.name,
            "collected_at": "2026-12-03T10:00:00+00:00", "unavailable": {},
            "authorized_keys": [{"user": "root", "path": "/root/.ssh/authorized_keys",
                                 "bits": "256", "fingerprint": fp, "type": "ED25519",
                                 "comment": ""} for fp in fingerprints]}
    agents.receive_report(token, json.dumps(body).encode())


def test_step_1_from_the_agents_next_reports(org):
    web = System.objects.create(name="web", kind="vm", purpose="test")
    db = System.objects.create(name="db", kind="vm", purpose="test")
    tokens = {s.name: agents.issue_token(actor=org.sam, system=s, authority="SP 3.2.2")
              for s in (web, db)}
    _report(web, tokens["web"], [FP_A])
    SshKey.objects.create(person=org.pim, fingerprint=FP_A, key_type="ssh-ed25519",
                          authority=_section(), blocked_at=timezone.now())
    leave(org, "pim")
    step1 = TerminationChecklist.objects.get(person=org.pim).steps.get(number=1)
    before = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        checklists.complete_keys_step_from_reports(actor=org.pia, step=step1)
    assert "web has not reported since" in str(refused.value)
    _report(web, tokens["web"], [FP_A, FP_B])
    _report(db, tokens["db"], [FP_B])
    before = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        checklists.complete_keys_step_from_reports(actor=org.pia, step=step1)
    assert f"web still has {FP_A}" in str(refused.value) and "db" not in str(refused.value)
    assert Event.objects.count() == before
    _report(web, tokens["web"], [FP_B])
    done = checklists.complete_keys_step_from_reports(actor=org.sue, step=step1)
    assert done.done_at and "show none" in done.evidence
    assert {r.system.name for r in done.reports.all()} == {"web", "db"}
    entry = Event.objects.filter(action="privileged.checklist.step").get()
    assert len(entry.details["agent_reports"]) == 2


def test_the_api_completes_and_closes_with_the_same_rules(org):
    from rest_framework.test import APIClient

    leave(org, "pim")
    pk = TerminationChecklist.objects.get(person=org.pim).pk
    api = APIClient()
    api.force_authenticate(org.pia.user)
    assert [c["id"] for c in api.get("/api/checklists/?status=open").json()["results"]] == [pk]
    refused = api.post(f"/api/checklists/{pk}/step/", {"number": 2, "evidence": ""},
                       format="json")
    assert refused.status_code == 400 and "evidence" in refused.content.decode()
    assert api.post(f"/api/checklists/{pk}/close/").status_code == 400
    for number in range(1, 6):
        done = api.post(f"/api/checklists/{pk}/step/",
                        {"number": number, "evidence": f"ticket {number}"}, format="json")
        assert done.status_code == 200, done.content
    api.force_authenticate(org.sue.user)  # completes steps, does not close
    assert api.post(f"/api/checklists/{pk}/close/").status_code == 403
    api.force_authenticate(org.pia.user)
    closed = api.post(f"/api/checklists/{pk}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    api.force_authenticate(org.pim.user)
    assert api.get("/api/checklists/").status_code == 403


def test_the_command_line(org):
    from click.testing import CliRunner

    from secman.cli import main

    leave(org, "pim")
    pk = TerminationChecklist.objects.get(person=org.pim).pk
    run = CliRunner().invoke
    listed = run(main, ["privileged", "checklists", "list", "--json"])
    assert json.loads(listed.output)[0]["id"] == pk
    refused = run(main, ["privileged", "checklists", "step", str(pk), "2", "--as", "pia"])
    assert refused.exit_code == 1 and "give the evidence" in refused.output
    for number in range(1, 6):
        done = run(main, ["privileged", "checklists", "step", str(pk), str(number),
                          "--evidence", "done", "--as", "sue"])
        assert done.exit_code == 0, done.output
    assert run(main, ["privileged", "checklists", "close", str(pk), "--as", "sue"]).exit_code == 1
    assert run(main, ["privileged", "checklists", "close", str(pk), "--as", "pia"]).exit_code == 0
    shown = run(main, ["privileged", "checklists", "show", str(pk), "--json"])
    assert json.loads(shown.output)["status"] == "closed"
    removed = run(main, ["privileged", "remove-access", "sid", "--event", "ruling",
                         "--reason", "Ruled.", "--authority", "SM 3.4.4", "--as", "sam"])
    assert removed.exit_code == 0, removed.output


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_evidence_is_kept_as_given_or_refused_with_nothing_written(org, text):
    checklist = (TerminationChecklist.objects.filter(person=org.pim).first()
                 or (leave(org, "pim") and TerminationChecklist.objects.get(person=org.pim)))
    step = checklist.steps.get(number=3)
    ChecklistStep.objects.filter(pk=step.pk).update(done_at=None, evidence="")
    before = Event.objects.count()
    try:
        done = checklists.complete_step(actor=org.pia, step=step, evidence=text)
    except RuleViolation as refused:
        assert refused.field == "evidence"
        assert Event.objects.count() == before
        assert ChecklistStep.objects.get(pk=step.pk).done_at is None
    else:
        assert ChecklistStep.objects.get(pk=step.pk).evidence == done.evidence == text.strip()
        assert Event.objects.count() == before + 1
