"""Recurring duties: occurrences on a schedule, completed with evidence, four eyes where
the section asks for it, skipped only with authority; refusals write nothing."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from secman.authority.models import SignOffRequest
from secman.authority.services import sign
from secman.compliance import evaluation, schedules, services
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.core.controls import Status, control
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db

REVIEW = "logs.automated_review"        # daily, Systems Administration
MONITOR = "logs.anomaly_examination"    # weekly, designated primary log monitor
ESCROW = "keys.escrow_check"            # quarterly, four eyes


def status_of(control_id: str) -> evaluation.Result:
    return evaluation.evaluate([control(control_id)])[0]


@pytest.fixture
def duties(org):
    """Duties that started ten days ago, so some occurrences are already overdue."""
    started = timezone.now() - dt.timedelta(days=10)
    services.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    services.generate_occurrences()
    return {d.control_id: d for d in Duty.objects.all()}


def overdue(control_id: str) -> Occurrence:
    return Occurrence.objects.filter(duty__control_id=control_id, due_at__lte=timezone.now(),
                                     status=OccurrenceStatus.OPEN).order_by("due_at").first()


def test_it_generates_occurrences_up_to_the_horizon_and_catches_up(duties):
    daily = Occurrence.objects.filter(duty=duties[REVIEW])
    due = list(daily.values_list("due_at", flat=True))
    assert due == sorted(due)
    assert all(d.hour == 0 and d.minute == 0 for d in due)
    assert min(due) < timezone.now() < max(due)
    assert max(due) <= timezone.now() + services.HORIZON
    assert daily.filter(due_at__lte=timezone.now()).count() in (9, 10)
    # A second run adds nothing: the (duty, due time) constraint and generated_until agree.
    assert services.generate_occurrences() == 0
    assert Occurrence.objects.filter(duty=duties[REVIEW]).count() == len(due)


def test_missed_occurrences_are_overdue_and_stay_visible(duties):
    result = status_of(REVIEW)
    assert result.status == Status.OVERDUE
    assert sum(f.status == Status.OVERDUE for f in result.findings) >= 9
    assert all(f.url.startswith("/compliance/occurrences/") for f in result.findings)


def test_completing_without_evidence_is_refused_and_writes_nothing(org, duties):
    occurrence = overdue(REVIEW)
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="completed with evidence"):
        services.complete_occurrence(actor=org.sam, occurrence=occurrence, note="   ")
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.OPEN and occurrence.completed_by is None
    assert Event.objects.count() == before


def test_only_the_owning_team_completes_a_duty(org, duties):
    with pytest.raises(NotAllowed, match="Critical System Administration team"):
        services.complete_occurrence(actor=org.axel, occurrence=overdue(REVIEW),
                                     note="looked at it")


def test_an_unknown_event_as_evidence_is_refused(org, duties):
    with pytest.raises(RuleViolation, match="no Event Log entry #999999"):
        services.complete_occurrence(actor=org.sam, occurrence=overdue(REVIEW),
                                     note="reviewed", event_seq=999999)


def test_completing_with_a_note_file_and_event_records_the_evidence(org, duties, settings):
    occurrence = overdue(REVIEW)
    event = Event.objects.order_by("-seq").first()
    content = b"logwatch: 0 anomalies\n"
    done = services.complete_occurrence(
        actor=org.sam, occurrence=occurrence, note="Automated review read; nothing unusual.",
        evidence=("../../etc/logwatch.txt", content), event_seq=event.seq)
    assert done.status == OccurrenceStatus.DONE
    assert done.evidence_sha256 == hashlib.sha256(content).hexdigest()
    assert done.evidence_name == "logwatch.txt"  # no path from the client is kept
    assert services.evidence_path(done).read_bytes() == content
    assert services.evidence_path(done).is_relative_to(settings.DATA_DIR)
    entry = Event.objects.get(action="compliance.duty.complete")
    assert entry.details["evidence_sha256"] == done.evidence_sha256
    assert entry.details["event_seq"] == event.seq
    assert entry.authority == "SM 4.2.3"
    with pytest.raises(RuleViolation, match="cannot be completed again"):
        services.complete_occurrence(actor=org.sue, occurrence=occurrence, note="again")


def test_evidence_files_are_read_through_the_service_that_checks_who_asks(org, duties):
    done = services.complete_occurrence(actor=org.sam, occurrence=overdue(REVIEW),
                                        note="reviewed", evidence=("r.txt", b"x"))
    for reader in (org.sue, org.bea, org.aud):  # the team, the Board, an auditor
        assert services.evidence_for(reader=reader, occurrence=done).read_bytes() == b"x"
    for reader in (org.axel, org.pia):  # other teams
        with pytest.raises(NotAllowed, match="owning team, the Board and auditors"):
            services.evidence_for(reader=reader, occurrence=done)
    assert services.evidence_for(reader=org.sue, occurrence=overdue(REVIEW)) is None


def test_completing_every_overdue_occurrence_turns_the_duty_ok(org, duties):
    while (occurrence := overdue(REVIEW)) is not None:
        services.complete_occurrence(actor=org.sam, occurrence=occurrence, note="reviewed")
    assert status_of(REVIEW).status in (Status.OK, Status.DUE_SOON)


def test_a_future_period_cannot_be_completed_in_advance(org, duties):
    later = Occurrence.objects.filter(duty=duties[REVIEW],
                                      period_start__gt=timezone.now()).first()
    with pytest.raises(RuleViolation, match="before that period begins"):
        services.complete_occurrence(actor=org.sam, occurrence=later, note="pre-done")


def test_a_four_eyes_duty_is_done_only_when_a_second_person_signs(org, duties):
    occurrence = overdue(ESCROW) or Occurrence.objects.filter(duty=duties[ESCROW]).first()
    occurrence.period_start = timezone.now() - dt.timedelta(days=1)
    occurrence.save()
    waiting = services.complete_occurrence(actor=org.sam, occurrence=occurrence,
                                           note="Envelopes seen in the safe, seals intact.")
    assert waiting.status == OccurrenceStatus.AWAITING_SIGNOFF
    request = SignOffRequest.objects.get(pk=waiting.signoff_id)
    with pytest.raises(RuleViolation, match="signed this request already"):
        sign(actor=org.sam, request=request)
    sign(actor=org.sue, request=request)
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE
    entry = Event.objects.filter(action="compliance.duty.complete").get()
    assert {s["person"] for s in entry.signoffs} == {"Sam", "Sue"}


@pytest.mark.parametrize("how", ["expired", "withdrawn"])
def test_a_four_eyes_occurrence_whose_request_lapsed_is_reopened_with_an_entry(
        org, duties, how):
    occurrence = overdue(ESCROW) or Occurrence.objects.filter(duty=duties[ESCROW]).first()
    occurrence.period_start = timezone.now() - dt.timedelta(days=1)
    occurrence.save()
    waiting = services.complete_occurrence(actor=org.sam, occurrence=occurrence,
                                           note="Envelopes seen in the safe, seals intact.")
    request = SignOffRequest.objects.get(pk=waiting.signoff_id)
    assert services.reopen_expired_signoffs() == 0  # still waiting: nothing to reopen
    assert not Event.objects.filter(action="compliance.duty.reopen").exists()
    if how == "expired":
        SignOffRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1))
    else:
        SignOffRequest.objects.filter(pk=request.pk).update(status="withdrawn")
    assert services.reopen_expired_signoffs() == 1
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.OPEN and occurrence.signoff is None
    entry = Event.objects.get(action="compliance.duty.reopen")
    assert entry.subject_id == str(occurrence.pk)
    assert entry.details["signoff_request"] == request.pk
    assert entry.details["because"] == how
    assert services.reopen_expired_signoffs() == 0  # once
    assert Event.objects.filter(action="compliance.duty.reopen").count() == 1


def test_a_designated_duty_is_performed_by_the_designated_person_only(org, duties):
    duty = duties[MONITOR]
    assert any(f.subject == "designation" for f in status_of(MONITOR).findings)
    occurrence = overdue(MONITOR)
    with pytest.raises(NotAllowed, match="designated primary log monitor"):
        services.complete_occurrence(actor=org.sam, occurrence=occurrence, note="looked")
    with pytest.raises(NotAllowed, match="team leader designates"):
        services.designate(actor=org.sue, duty=duty, person=org.sue, authority="SM 5.2")
    with pytest.raises(RuleViolation, match="not an active member"):
        services.designate(actor=org.sam, duty=duty, person=org.axel, authority="SM 5.2")
    services.designate(actor=org.sam, duty=duty, person=org.sue, authority="SM 5.2")
    with pytest.raises(NotAllowed, match=r"designated primary log monitor \(Sue\)"):
        services.complete_occurrence(actor=org.sam, occurrence=occurrence, note="looked")
    services.complete_occurrence(actor=org.sue, occurrence=occurrence,
                                 note="auth.log and nginx logs: no anomalies")
    assert not any(f.subject == "designation" for f in status_of(MONITOR).findings)


def test_skipping_needs_a_decision_or_ruling_and_a_reason(org, duties):
    occurrence = overdue(REVIEW)
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="needs an arbitration case or board decision"):
        services.skip_occurrence(actor=org.sam, occurrence=occurrence, reason="server moved",
                                 authority="SM 4.2.3")
    with pytest.raises(RuleViolation, match="say why"):
        services.skip_occurrence(actor=org.sam, occurrence=occurrence, reason="",
                                 authority=org.decision)
    with pytest.raises(NotAllowed):
        services.skip_occurrence(actor=org.sue, occurrence=occurrence, reason="x",
                                 authority=org.decision)
    with pytest.raises(NotAllowed, match="Critical System Administration team leader"):
        services.skip_occurrence(actor=org.axel, occurrence=occurrence, reason="x",
                                 authority=org.decision)  # leads another team
    assert Event.objects.count() == before
    skipped = services.skip_occurrence(actor=org.sam, occurrence=occurrence,
                                       reason="server moved that day",
                                       authority=org.decision)
    assert skipped.status == OccurrenceStatus.SKIPPED
    assert skipped.authority.reference == org.decision.minute_id


def test_a_schedule_change_is_checked_and_regenerates_what_is_not_due(org, duties):
    duty = duties[REVIEW]
    before = Event.objects.count()
    for bad, message in [("every day", "neither daily"), ("61 * * * *", "malformed"),
                         ("* * * * *", "at most once per"), ("", "give a schedule")]:
        with pytest.raises(RuleViolation, match=message):
            services.set_schedule(actor=org.sam, duty=duty, schedule=bad, authority="SM 4.2.3")
    with pytest.raises(NotAllowed):
        services.set_schedule(actor=org.sue, duty=duty, schedule="weekly", authority="SM 4.2.3")
    with pytest.raises(NotAllowed):  # a team leader, of another team
        services.set_schedule(actor=org.axel, duty=duty, schedule="weekly",
                              authority="SM 4.2.3")
    assert Event.objects.count() == before
    assert Duty.objects.get(pk=duty.pk).schedule == "daily"
    overdue_before = Occurrence.objects.filter(duty=duty, due_at__lte=timezone.now()).count()
    services.set_schedule(actor=org.sam, duty=duty, schedule="0 9 * * 1",
                          authority="SM 4.2.3")
    future = Occurrence.objects.filter(duty=duty, due_at__gt=timezone.now())
    assert future.exists()
    assert all(o.due_at.weekday() == 0 and o.due_at.hour == 9 for o in future)
    assert Occurrence.objects.filter(duty=duty, due_at__lte=timezone.now()).count() == \
        overdue_before
    assert Event.objects.filter(action="compliance.duty.schedule").get().details == {
        "from": "daily", "to": "0 9 * * 1"}


def test_each_occurrence_keeps_the_procedure_text_as_it_was_when_due(org, duties, sm_text):
    from secman.documents.services import import_document

    import_document(actor=None, data=sm_text("The automated review runs nightly."),
                    name="Security Manual", kind="manual", format="markdown")
    services.refresh_procedures()
    occurrence = overdue(REVIEW)
    upcoming = Occurrence.objects.filter(duty=duties[REVIEW], due_at__gt=timezone.now()).first()
    assert "runs nightly" in upcoming.procedure_text
    assert "SM 4.2.3" in upcoming.procedure_reference
    assert occurrence.procedure_text == ""  # it fell due before the manual was imported
    import_document(actor=None, data=sm_text("The automated review runs hourly."),
                    name="Security Manual", kind="manual", format="markdown")
    services.refresh_procedures()
    upcoming.refresh_from_db()
    assert "runs hourly" in upcoming.procedure_text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_schedule_parser_never_accepts_what_cronsim_cannot_run(text):
    try:
        cron = schedules.expression(text)
    except RuleViolation as exc:
        assert exc.field == "schedule"
        return
    ticks = schedules.ticks(text, timezone.now())
    first, second = next(ticks), next(ticks)
    assert second - first >= schedules.SHORTEST_PERIOD
    assert len(cron.split(" ")) == 5
