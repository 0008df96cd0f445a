"""Controls as a reader checks them: each declared with its sections, evaluated from
records, with attestations and accepted exceptions that need authority."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.compliance import evaluation, services
from secman.compliance.models import Acceptance, Attestation
from secman.core.controls import Control, Kind, Status, control, declared_controls
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import TeamKind
from secman.eventlog import verification
from secman.eventlog.models import Checkpoint, Event, VerificationRun
from secman.people.choices import ListKind

pytestmark = pytest.mark.django_db


def result(control_id: str) -> evaluation.Result:
    return evaluation.evaluate([control(control_id)])[0]


def test_every_app_declares_its_controls_with_sections_the_documents_have():
    ids = {c.id for c in declared_controls()}
    assert {"people.redundancy", "people.one_team", "people.list_exclusivity",
            "people.list_changes_approved", "documents.counterparts", "documents.procedures",
            "documents.owners", "documents.reviewed", "eventlog.verified",
            "eventlog.published", "logs.automated_review", "logs.anomaly_examination",
            "keys.escrow_check", "physical.inventory", "visits.two_persons_reported"} <= ids
    assert {c.kind for c in declared_controls()} == set(Kind)


def test_a_control_must_name_a_real_section_and_its_evidence():
    with pytest.raises(ValueError, match=r"is not like 'SP 9\.1\.2'"):
        Control("x.y", ("9.1.2",), "s", TeamKind.BOARD, check=list)
    with pytest.raises(ValueError, match="has no check"):
        Control("x.y", ("SP 9.1.2",), "s", TeamKind.BOARD)
    with pytest.raises(ValueError, match="has no schedule"):
        Control("x.y", ("SP 9.1.2",), "s", TeamKind.BOARD, Kind.DUTY)


def test_redundancy_flags_a_list_with_one_person(org, approve):
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    found = result("people.redundancy")
    messages = [f.message for f in found.findings]
    assert "the Repository Access List has 1 active person; redundancy needs at least 2" \
        in messages
    assert found.status == Status.VIOLATED


def test_the_log_must_have_been_verified_within_a_day(org, settings):
    assert result("eventlog.verified").status == Status.NOT_EVIDENCED
    run = verification.run(by=org.sam)
    assert run.ok
    assert result("eventlog.verified").status == Status.OK
    VerificationRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=25))
    finding = result("eventlog.verified").findings[0]
    assert finding.status == Status.OVERDUE and "more than 24 hours ago" in finding.message


def test_checkpoints_must_be_published_to_witnesses(org, settings):
    settings.EVENTLOG_WITNESSES = []
    assert "no witnesses are configured" in result("eventlog.published").findings[0].message
    settings.EVENTLOG_WITNESSES = ["witness@example.org"]
    from secman.eventlog.services import write_checkpoint

    checkpoint = write_checkpoint(actor=org.sam)
    # The mail goes after the commit, which this test's transaction never reaches.
    assert Checkpoint.objects.get(pk=checkpoint.pk).emailed_at is None
    found = result("eventlog.published")
    assert found.status == Status.OVERDUE
    assert "has not been mailed to the witnesses" in found.findings[0].message
    Checkpoint.objects.filter(pk=checkpoint.pk).update(emailed_at=timezone.now())
    assert result("eventlog.published").status == Status.OK


# --- attestations ------------------------------------------------------------------------


def test_an_attestation_needs_the_role_and_expires(org):
    assert result("staffing.background_checks").status == Status.NOT_EVIDENCED
    before = Event.objects.count()
    with pytest.raises(NotAllowed, match="only an Arbitrator attests"):
        services.attest(actor=org.bea, control_id="staffing.background_checks",
                        statement="all checked", authority="SP 9.1.4")
    with pytest.raises(RuleViolation, match="what you checked"):
        services.attest(actor=org.arne, control_id="staffing.background_checks",
                        statement=" ", authority="SP 9.1.4")
    with pytest.raises(RuleViolation, match="not a"):
        services.attest(actor=org.arne, control_id="people.redundancy",
                        statement="fine", authority="SP 9.1.4")
    assert Event.objects.count() == before and not Attestation.objects.exists()
    attestation = services.attest(actor=org.arne, control_id="staffing.background_checks",
                                  statement="ABC files of all 12 people reviewed",
                                  authority="SP 9.1.4")
    assert result("staffing.background_checks").status == Status.OK
    Attestation.objects.filter(pk=attestation.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=10))
    assert result("staffing.background_checks").status == Status.DUE_SOON
    Attestation.objects.filter(pk=attestation.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1))
    assert result("staffing.background_checks").status == Status.OVERDUE


# --- exceptions --------------------------------------------------------------------------


@pytest.fixture
def short_list(org, approve):
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    return "list:repository_access"


def test_an_exception_needs_authority_and_expiry_and_the_right_people(org, short_list):
    in_a_month = timezone.localdate() + dt.timedelta(days=30)
    before = Event.objects.count()
    cases = [
        (dict(actor=org.sam, authority=org.decision, expires_on=in_a_month), NotAllowed,
         "Board members and Arbitrators"),
        (dict(actor=org.bea, authority="SP 1.2", expires_on=in_a_month), RuleViolation,
         "needs an arbitration case or board decision"),
        (dict(actor=org.bea, authority=org.decision, expires_on=None), RuleViolation,
         "needs an expiry date"),
        (dict(actor=org.bea, authority=org.decision,
              expires_on=timezone.localdate()), RuleViolation, "not in the future"),
        (dict(actor=org.bea, authority="m20990101.1", expires_on=in_a_month), RuleViolation,
         "not recorded"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            services.accept(control_id="people.redundancy", kind="exception",
                            reason="second committer being recruited", subject=short_list,
                            **kwargs)
    with pytest.raises(RuleViolation, match="say why"):
        services.accept(actor=org.bea, control_id="people.redundancy", kind="exception",
                        reason="", authority=org.decision, expires_on=in_a_month)
    assert Event.objects.count() == before and not Acceptance.objects.exists()


def test_an_accepted_exception_is_shown_beside_the_finding_until_it_expires(org, short_list):
    assert result("people.redundancy").status == Status.VIOLATED
    acceptance = services.accept(
        actor=org.bea, control_id="people.redundancy", kind="exception", subject=short_list,
        reason="second committer being recruited", authority=org.decision,
        expires_on=timezone.localdate() + dt.timedelta(days=30))
    found = result("people.redundancy")
    assert short_list not in {f.subject for f in found.findings}
    assert [(f.subject, a.pk) for f, a in found.accepted] == [(short_list, acceptance.pk)]
    entry = Event.objects.get(action="compliance.accept")
    assert entry.authority == org.decision.minute_id
    Acceptance.objects.filter(pk=acceptance.pk).update(expires_at=timezone.now())
    assert short_list in {f.subject for f in result("people.redundancy").findings}


def test_withdrawing_an_exception_brings_the_finding_back(org, short_list):
    acceptance = services.accept(
        actor=org.bea, control_id="people.redundancy", kind="exception", subject=short_list,
        reason="recruiting", authority=org.decision,
        expires_on=timezone.localdate() + dt.timedelta(days=30))
    services.withdraw_acceptance(actor=org.tom, acceptance=acceptance, authority=org.decision)
    assert short_list in {f.subject for f in result("people.redundancy").findings}
    with pytest.raises(RuleViolation, match="withdrawn already"):
        services.withdraw_acceptance(actor=org.tom, acceptance=acceptance,
                                     authority=org.decision)


def test_a_whole_control_not_applicable_shows_as_such(org):
    services.accept(actor=org.arne, control_id="eventlog.published", kind="not_applicable",
                    reason="witnessing is done by the auditor's own copy", authority=org.decision)
    assert result("eventlog.published").status == Status.NOT_APPLICABLE


# --- documents, against the real CAcert texts ----------------------------------------------


def drop_manual_leaf(sm) -> str:
    """Take one section without subsections out of the stored manual."""
    leaf = sm.sections.filter(children__isnull=True, number__startswith="9.").order_by(
        "sort_key").first()
    leaf.delete()
    return leaf.number


def test_document_controls_on_the_cacert_policy_and_manual(stored):
    # The CAcert manual has every heading of the policy (SP 1.4.2 holds)...
    assert result("documents.counterparts").status == Status.OK
    # ...but only some chapters name the team that manages them,
    owners = result("documents.owners")
    assert owners.status == Status.VIOLATED
    assert "SM 1.1 Motivation and Scope has no owner team" in [f.message for f in owners.findings]
    assert all(f.section.startswith("SM ") for f in owners.findings)
    # and two sections are marked PROCEDURE: open work, a warning.
    procedures = result("documents.procedures")
    assert [f.section for f in procedures.findings] == ["SM 1.4.3", "SM 4.3.4"]
    assert procedures.status == Status.WARNING
    assert result("documents.reviewed").status == Status.OK  # imported today


def test_a_policy_section_without_its_manual_counterpart_is_not_evidenced(stored):
    _sp, sm = stored
    number = drop_manual_leaf(sm)
    found = result("documents.counterparts")
    assert found.status == Status.NOT_EVIDENCED
    assert [f.subject for f in found.findings] == [f"section:SP {number}"]
    assert found.findings[0].url.endswith(f"#s{number}")


def test_a_section_unchanged_for_a_year_is_due_for_review(stored, settings):
    from secman.documents.models import Version

    _sp, sm = stored
    Version.objects.filter(pk=sm.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    found = result("documents.reviewed")
    assert found.status == Status.OVERDUE
    assert {f.section for f in found.findings} == {
        f"SM {n}" for n in sm.sections.values_list("number", flat=True)}
    settings.COMPLIANCE_REVIEW_DAYS = 500
    assert result("documents.reviewed").status == Status.OK


def test_policy_only_sections_are_accepted_one_by_one(org, stored):
    drop_manual_leaf(stored[1])
    first = result("documents.counterparts").findings[0]
    services.accept(actor=org.bea, control_id="documents.counterparts", kind="not_applicable",
                    subject=first.subject, reason="policy-only: no practice to describe",
                    authority=org.decision)
    after = result("documents.counterparts")
    assert first.subject not in {f.subject for f in after.findings}
    assert first.subject in {f.subject for f, _a in after.accepted}


def test_sections_roll_up_to_the_worst_status(org, approve):
    approve(ListKind.REPOSITORY_ACCESS, org.otto)
    sections = evaluation.by_section(evaluation.evaluate())
    assert sections["1.2"].status == Status.VIOLATED
    assert any(r.control.id == "people.redundancy" for r in sections["1.2"].results)
