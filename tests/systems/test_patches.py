"""SP 3.2.3 and 3.2.3.1, SM 3.2.3: every rule of patching that secman.systems.patches
enforces, each broken once (refused, nothing written: no row, no Event Log entry) and
followed once (the entries it writes, the mail a real SMTP server on loopback receives).

Test                                                         Section
--------------------------------------------------------------------------------------
test_patches_are_proposed_by_systems_administrators           SP 3.2.3
test_a_proposal_names_advisory_packages_and_systems           SP 3.2.3
test_an_emergency_describes_its_exploit                       SP 3.2.3.1
test_only_the_sa_team_leader_approves                         SP 3.2.3
test_a_normal_patch_is_not_applied_before_approval            SP 3.2.3
test_applied_under_four_eyes_and_reported_to_the_sa_list      SP 3.2.3, SP 4.1
test_without_a_list_the_patch_stays_unreported                SP 3.2.3
test_a_backup_follows_the_patch                               SM 3.2.3
test_an_emergency_patch_is_applied_first_then_approved_and_referred  SP 3.2.3.1
test_or_the_team_leader_instructs_remedial_action             SP 3.2.3.1
test_withdrawal                                               SP 3.2.3
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from secman.authority import services as authority
from secman.authority.models import ArbitrationCase, SignOff, SignOffRequest
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.systems import controls, patches
from secman.systems.choices import PatchStatus
from secman.systems.models import Patch, System
from tests.refusals import actions_since, last_seq, refused

TABLES = (Patch, SignOffRequest, SignOff, ArbitrationCase)
LIST = "sysadmins@ca.example.org"


def no_change(exc_type, match, section=None):
    return refused(exc_type, match, *TABLES, section=section)


@pytest.fixture
def webdb(db):
    return System.objects.create(name="webdb", kind="physical", os_name="Debian GNU/Linux",
                                 os_release="12.5")


def propose(org, webdb, **overrides):
    kwargs = {"actor": org.sue, "advisory": "DSA-5678-1", "title": "openssl: remote DoS",
              "packages": ["openssl", "libssl3"], "systems": [webdb]} | overrides
    return patches.propose_patch(**kwargs)


def approved(org, webdb, **overrides):
    return patches.approve_patch(actor=org.sam, patch=propose(org, webdb, **overrides))


def apply(org, patch):
    """Sue executes, Sid observes: the second signature applies the patch."""
    request = patches.start_application(actor=org.sue, patch=patch)
    authority.sign(actor=org.sid, request=request, slot="observer")
    return Patch.objects.get(pk=patch.pk)


def to_the_list(inbox):
    """The mail to the SA list (the sign-off requests mail their signers too)."""
    return [(to, message) for to, message in inbox.messages if LIST in to]


def reload(patch):
    return Patch.objects.get(pk=patch.pk)


@pytest.mark.parametrize("login", ["bea", "aud", "ola", "axel", "admin"])
def test_patches_are_proposed_by_systems_administrators(org, webdb, login):
    with no_change(NotAllowed, "Systems Administrators", section="SP 3.2.3"):
        propose(org, webdb, actor=org.people[login])
    seq = last_seq()
    patch = propose(org, webdb)
    assert actions_since(seq) == ["systems.patch.propose"]
    assert patch.status == PatchStatus.PROPOSED and list(patch.systems.all()) == [webdb]
    assert patch.packages == ["openssl", "libssl3"]


@pytest.mark.parametrize(("change", "match"), [
    ({"advisory": "see mail"}, "is not an advisory"),
    ({"title": "  "}, "say what the patch fixes"),
    ({"packages": []}, "name the packages"),
    ({"packages": ["OpenSSL!"]}, "not a Debian package name"),
    ({"systems": []}, "name the systems"),
    ({"title": "x" * 301}, "longer than 300"),
    ({"authority": "because"}, r"authority|reference"),
])
def test_a_proposal_names_advisory_packages_and_systems(org, webdb, change, match):
    with no_change(RuleViolation, match):
        propose(org, webdb, **change)


def test_an_emergency_describes_its_exploit(org, webdb):
    with no_change(RuleViolation, "describes the known exploit", section="SP 3.2.3.1"):
        propose(org, webdb, emergency=True)
    with no_change(RuleViolation, "only for an emergency", section="SP 3.2.3.1"):
        propose(org, webdb, exploit="remote code execution")
    patch = propose(org, webdb, emergency=True, exploit="public RCE exploit on port 443")
    assert patch.emergency and patch.exploit.startswith("public RCE")


@pytest.mark.parametrize("login", ["sue", "sid", "bea", "admin", "axel"])
def test_only_the_sa_team_leader_approves(org, webdb, login):
    patch = propose(org, webdb)
    with no_change(NotAllowed, "Systems Administration team leader only",
                   section="SP 3.2.3"):
        patches.approve_patch(actor=org.people[login], patch=patch)
    seq = last_seq()
    patch = patches.approve_patch(actor=org.sam, patch=patch)
    assert actions_since(seq) == ["systems.patch.approve"]
    assert (patch.status, patch.approved_by) == (PatchStatus.APPROVED, org.sam)
    assert patch.case is None  # a normal patch is not a dispute
    with no_change(RuleViolation, "decided on this patch already"):
        patches.approve_patch(actor=org.sam, patch=patch)


def test_a_normal_patch_is_not_applied_before_approval(org, webdb):
    patch = propose(org, webdb)
    with no_change(RuleViolation, "is not approved", section="SP 3.2.3"):
        patches.start_application(actor=org.sue, patch=patch)
    other = approved(org, webdb, advisory="DSA-1-1")
    with no_change(NotAllowed, "Systems Administrators"):
        patches.start_application(actor=org.axel, patch=other)


def test_applied_under_four_eyes_and_reported_to_the_sa_list(
        org, webdb, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = LIST
    patch = approved(org, webdb)
    seq = last_seq()
    request = patches.start_application(actor=org.sue, patch=patch)
    assert actions_since(seq) == ["signoff.request", "signoff.sign"]
    assert reload(patch).status == PatchStatus.APPROVED  # waits for the observer
    with no_change(RuleViolation, "waiting for its observer"):
        patches.start_application(actor=org.sid, patch=patch)
    # The executor cannot also observe (SP 1.2, four eyes).
    with no_change(RuleViolation, "signed this request already"):
        authority.sign(actor=org.sue, request=request, slot="observer")
    with no_change(NotAllowed, "hold none of the roles"):
        authority.sign(actor=org.axel, request=request, slot="observer")
    with django_capture_on_commit_callbacks(execute=True):
        authority.sign(actor=org.sid, request=request, slot="observer")
    patch = reload(patch)
    assert actions_since(seq)[2:] == ["signoff.sign", "systems.patch.applied",
                                      "signoff.complete", "systems.patch.report"]
    assert patch.status == PatchStatus.REPORTED and patch.applied_at and patch.reported_at
    [(recipients, message)] = to_the_list(smtp)
    assert recipients == [LIST]
    body = message.get_payload()
    assert "DSA-5678-1" in message["Subject"] and "webdb" in message["Subject"]
    assert "executor: Sue" in body and "observer: Sid" in body and "openssl, libssl3" in body
    assert "full encrypted backup" in body
    with no_change(RuleViolation, "is not applied again"):
        patches.start_application(actor=org.sue, patch=patch)


def test_without_a_list_the_patch_stays_unreported(
        org, webdb, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = ""
    with django_capture_on_commit_callbacks(execute=True):
        patch = apply(org, approved(org, webdb))
    assert patch.status == PatchStatus.APPLIED and patch.reported_at is None
    assert to_the_list(smtp) == []
    [finding] = controls.patches_reported()
    assert finding.status == Status.VIOLATED and finding.subject == f"patch:{patch.pk}"
    with no_change(RuleViolation, "SECMAN_SYSADMIN_LIST is not set"):
        patches.report_patch(actor=org.sue, patch=patch)
    settings.SECMAN_SYSADMIN_LIST = LIST
    with no_change(NotAllowed, "Systems Administrators"):
        patches.report_patch(actor=org.bea, patch=patch)
    seq = last_seq()
    assert patches.report_patch(actor=org.sue, patch=patch)
    assert actions_since(seq) == ["systems.patch.report"]
    assert len(to_the_list(smtp)) == 1 and controls.patches_reported() == []


def test_a_backup_follows_the_patch(org, webdb):
    patch = approved(org, webdb)
    with no_change(RuleViolation, "this patch is not applied", section="SM 3.2.3"):
        patches.record_backup_after_patch(actor=org.sue, patch=patch, reference="b-1")
    patch = apply(org, patch)
    [finding] = controls.backups_after_patches()
    assert finding.status == Status.DUE_SOON and "backup of each patched system is due" in (
        finding.message)
    later = timezone.now() + controls.BACKUP_AFTER_PATCH * 2
    assert controls.backups_after_patches(later)[0].status == Status.OVERDUE
    with no_change(NotAllowed, "Systems Administrators", section="SM 3.2.3"):
        patches.record_backup_after_patch(actor=org.bea, patch=patch, reference="b-1")
    with no_change(RuleViolation, "name the backup"):
        patches.record_backup_after_patch(actor=org.sue, patch=patch, reference=" ")
    seq = last_seq()
    patch = patches.record_backup_after_patch(actor=org.sue, patch=patch,
                                              reference="restic snapshot 4f2a9c")
    assert actions_since(seq) == ["systems.patch.backup"]
    assert controls.backups_after_patches() == []
    with no_change(RuleViolation, "recorded already"):
        patches.record_backup_after_patch(actor=org.sue, patch=patch, reference="again")


def test_an_emergency_patch_is_applied_first_then_approved_and_referred(org, webdb):
    patch = propose(org, webdb, advisory="CVE-2026-1234", emergency=True,
                    exploit="a remote exploit is public")
    patch = apply(org, patch)
    assert patch.status == PatchStatus.APPLIED and patch.approved_at is None
    [finding] = controls.emergency_patches_decided()
    assert finding.status == Status.VIOLATED and "neither approved" in finding.message
    with no_change(NotAllowed, "team leader only"):
        patches.approve_patch(actor=org.sue, patch=patch)
    seq = last_seq()
    patch = patches.approve_patch(actor=org.sam, patch=patch)
    assert actions_since(seq) == ["authority.case.file", "systems.patch.approve"]
    assert patch.case is not None and patch.case.number.startswith("a")
    assert "CVE-2026-1234" in patch.case.title
    assert patch.status == PatchStatus.APPLIED  # approved after the fact
    assert controls.emergency_patches_decided() == []
    # A case without a decision is no less a finding: take the case away behind secman.
    Patch.objects.filter(pk=patch.pk).update(case=None)
    assert "not referred" in controls.emergency_patches_decided()[0].message


def test_or_the_team_leader_instructs_remedial_action(org, webdb):
    patch = propose(org, webdb, emergency=True, exploit="remote exploit")
    with no_change(RuleViolation, "applied before approval", section="SP 3.2.3.1"):
        patches.instruct_remedial_action(actor=org.sam, patch=patch, instruction="roll back")
    patch = apply(org, patch)
    with no_change(NotAllowed, "team leader only"):
        patches.instruct_remedial_action(actor=org.sid, patch=patch, instruction="roll back")
    with no_change(RuleViolation, "say what is to be done"):
        patches.instruct_remedial_action(actor=org.sam, patch=patch, instruction="")
    seq = last_seq()
    patch = patches.instruct_remedial_action(actor=org.sam, patch=patch,
                                             instruction="Roll back to 3.0.11 and rebuild")
    assert actions_since(seq) == ["authority.case.file", "systems.patch.remedial"]
    assert patch.case and patch.remedial_by == org.sam
    assert controls.emergency_patches_decided() == []
    with no_change(RuleViolation, "decided on this patch already"):
        patches.approve_patch(actor=org.sam, patch=patch)


def test_withdrawal(org, webdb):
    patch = propose(org, webdb)
    with no_change(NotAllowed, "whoever proposed it or the team leader"):
        patches.withdraw_patch(actor=org.sid, patch=patch, reason="not needed")
    seq = last_seq()
    patch = patches.withdraw_patch(actor=org.sue, patch=patch, reason="superseded")
    assert actions_since(seq) == ["systems.patch.withdraw"]
    with no_change(RuleViolation, "withdrawn"):
        patches.approve_patch(actor=org.sam, patch=patch)
    with no_change(RuleViolation, "withdrawn"):
        patches.start_application(actor=org.sue, patch=patch)
