"""Incidents (SP/SM 5, 4.4.3): an anomaly promoted to an incident, its severity, the
isolation first, the case, the legal hold on its logs, evidence with custody, the
response checklists that read the registers, and the report without which it does not
close."""

from __future__ import annotations

import datetime as dt

import gnupg
import pytest
from django.utils import timezone

from secman.authority.services import sign
from secman.backups import services as backups
from secman.core.controls import Status
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event, LegalHold
from secman.incidents import controls, services
from secman.incidents.choices import Severity, Source
from secman.incidents.models import Evidence, Incident, ResponseStep
from secman.logs import ingest
from secman.logs import services as logs
from secman.logs.models import Anomaly, AnomalyStatus, Message
from secman.people import services as people
from secman.privileged.secrets_register import register_secret, rotate_secret
from secman.systems.models import System
from tests.backups.conftest import PASSPHRASE, keyring  # noqa: F401 (the fixture)
from tests.logs.support import failures

pytestmark = pytest.mark.django_db
SHA = "a" * 64


def _web1() -> System:
    return System.objects.get_or_create(name="web1", defaults={"kind": "vm"})[0]


def _anomaly() -> Anomaly:
    """A real anomaly: a brute force through the ingest and the Sigma rules."""
    _web1()
    ingest.store_lines(failures(40))
    return Anomaly.objects.get()


def _open(org, **extra) -> Incident:
    values = {"title": "Root login on web1", "description": "sshd accepted root from "
              "203.0.113.9 after the brute force.", "detection_level": "application",
              "severity": Severity.DIRECTED_PROBE, "systems": [_web1()]}
    values.update(extra)
    return services.open_incident(actor=org.sam, **values)


def test_an_anomaly_is_promoted_by_opening_its_incident_and_the_warning_is_mailed(
        org, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_INCIDENT_WARNING_LIST = ["security@ca.example.org"]
    anomaly = _anomaly()
    smtp.messages.clear()  # the anomaly's own mail
    with django_capture_on_commit_callbacks(execute=True):
        incident = _open(org, source=Source.ANOMALY, anomaly=anomaly,
                         cc=["hosting@secure-u.example.org", " "])
    anomaly.refresh_from_db()
    assert anomaly.status == AnomalyStatus.PROMOTED and anomaly.incident == incident
    assert [e.action for e in Event.objects.order_by("-seq")[:2]] == [
        "incidents.incident.open", "logs.anomaly.promote"]
    recipients, mail = smtp.messages[-1]
    assert recipients == ["security@ca.example.org", "hosting@secure-u.example.org"]
    assert f"/incidents/{incident.pk}/" in mail.get_payload()
    assert "Severity:   2.2 Probe: directed" in mail.get_payload()
    assert "sshd accepted root" not in mail.get_payload()  # details stay in secman
    # The same anomaly cannot open a second incident, and the refusal writes nothing.
    before = (Incident.objects.count(), Event.objects.count())
    with pytest.raises(RuleViolation, match="promoted to an incident already"):
        _open(org, source=Source.ANOMALY, anomaly=anomaly)
    assert (Incident.objects.count(), Event.objects.count()) == before


def test_a_security_bug_is_reported_to_the_team_leaders(org, smtp, settings,
                                                       django_capture_on_commit_callbacks):
    settings.SECMAN_INCIDENT_WARNING_LIST = ["security@ca.example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        _open(org, source=Source.SECURITY_BUG, bug_reference="bugs #1312")
    recipients, _mail = smtp.messages[-1]
    assert recipients == ["security@ca.example.org", "ola@example.org", "sam@example.org"]


def test_a_promoted_anomaly_without_incident_or_report_is_a_finding(org):
    anomaly = _anomaly()
    logs.examine(actor=org.sam, anomaly=anomaly, outcome=AnomalyStatus.PROMOTED,
                 reason="looks bad")
    assert [f.status for f in controls.reported()] == [Status.VIOLATED]
    incident = _open(org)
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=controls.REPORT_DAYS + 1))
    assert {f.subject for f in controls.reported()} == {f"anomaly:{anomaly.pk}",
                                                    f"incident:{incident.pk}:report"}


def test_a_compromise_needs_a_case_and_refusals_change_nothing(org):
    before = (Incident.objects.count(), Event.objects.count())
    with pytest.raises(RuleViolation, match="Arbitration is required"):
        _open(org, severity=Severity.COMPROMISE)
    with pytest.raises(RuleViolation, match="name the security bug"):
        _open(org, source=Source.SECURITY_BUG)
    with pytest.raises(RuleViolation, match="not an email address"):
        _open(org, cc=["not an address"])
    with pytest.raises(NotAllowed):
        services.open_incident(actor=org.aud, title="x", description="y",
                               detection_level="application", severity="automated_probe",
                               systems=[_web1()])
    assert (Incident.objects.count(), Event.objects.count()) == before
    incident = _open(org)
    with pytest.raises(RuleViolation, match="Arbitration is required"):
        services.change_severity(actor=org.sam, incident=incident,
                                 severity=Severity.BREACH, reason="data left")
    incident.refresh_from_db()
    assert incident.severity == Severity.DIRECTED_PROBE
    services.change_severity(actor=org.sam, incident=incident, severity=Severity.COMPROMISE,
                             reason="root shell found", file_case=True)
    incident.refresh_from_db()
    assert incident.case is not None and incident.case.title.startswith("Incident: ")
    entry = Event.objects.filter(action="incidents.incident.severity").get()
    assert entry.details["from"] == "directed_probe" and entry.details["to"] == "compromise"
    assert [f.subject for f in controls.logs_archived()] == [f"incident:{incident.pk}:logs"]
    assert [f.subject for f in controls.response_chosen()] == [
        f"incident:{incident.pk}:response"]
    # The compromise puts the recovery checklist in and marks the secrets due.
    assert incident.steps.filter(checklist="recovery").count() == 2
    assert Event.objects.filter(action="privileged.system.compromised").exists()


def test_an_intrusion_is_isolated_first_and_the_registers_decide_the_checked_steps(
        org, tmp_path):
    web1 = _web1()
    secret = register_secret(actor=org.sam, name="web1 root", kind="root_password",
                             authority="SM 4.1.1", systems=[web1])
    incident = _open(org, severity=Severity.EXPLOIT_NO_LOSS)
    services.choose_checklist(actor=org.sam, incident=incident, name="os_compromise")
    forensics = incident.steps.get(key="forensics")
    with pytest.raises(RuleViolation, match="isolate first"):
        services.complete_step(actor=org.sam, step=forensics)
    services.record_isolation(actor=org.sam, incident=incident, how="port shut on fw01")
    assert incident.steps.get(key="isolate").done_at is not None
    services.complete_step(actor=org.sam, step=forensics, note="disk imaged")

    # logs_held: needs the case and a hold per system.
    with pytest.raises(RuleViolation, match="Arbitration case"):
        services.complete_step(actor=org.sam, step=incident.steps.get(key="logging"))
    services.escalate(actor=org.sam, incident=incident, file_case=True)
    incident.refresh_from_db()
    services.archive_logs(actor=org.sam, incident=incident,
                          since=timezone.localdate() - dt.timedelta(days=7))
    hold = LegalHold.objects.get()
    assert (hold.case, hold.subject_type, hold.subject_id) == (
        incident.case, "systems.system", str(web1.pk))
    services.complete_step(actor=org.sam, step=incident.steps.get(key="logging"))

    # secrets_changed reads the secrets register.
    with pytest.raises(RuleViolation, match="web1 root"):
        services.complete_step(actor=org.sam, step=incident.steps.get(key="secrets"))
    rotate_secret(actor=org.sam, secret=secret, reason="compromise", authority="SM 4.1.1")
    services.complete_step(actor=org.sam, step=incident.steps.get(key="secrets"))

    # reference_backup_known and new_reference_backup read the backups register.
    with pytest.raises(RuleViolation, match="no stored full reference backup of web1"):
        services.complete_step(actor=org.sam, step=incident.steps.get(key="reference"))
    job = backups.add_job(actor=org.sam, system=web1, name="reference", kind="reference",
                          frequency_days=365, authority="SM 3.2.2")
    made = backups.record_set(actor=org.sam, job=job, label="REF-1", methods=["filesystem"])
    sign(actor=org.sue, request=made.made_signoff, slot="person 2")
    made.refresh_from_db()
    backups.start_verification(actor=org.sam, backup_set=made, comment="booted it")
    made.refresh_from_db()
    sign(actor=org.sid, request=made.verify_signoff, slot="person 2")
    made.refresh_from_db()
    backups.store_set(actor=org.sam, backup_set=made, location="safe")
    services.complete_step(actor=org.sam, step=incident.steps.get(key="reference"))
    services.complete_step(actor=org.sam, step=incident.steps.get(key="new_reference"))
    assert set(Event.objects.filter(action="incidents.step.done")
               .values_list("details__step", flat=True)) == {
        "forensics", "logging", "secrets", "reference", "new_reference"}


def test_logs_under_the_incidents_hold_outlive_their_retention(org):
    web1 = _web1()
    ingest.store_lines(failures(3))
    incident = _open(org, severity=Severity.EXPLOIT_NO_LOSS)
    services.escalate(actor=org.sam, incident=incident, file_case=True)
    incident.refresh_from_db()
    services.archive_logs(actor=org.sam, incident=incident,
                          since=timezone.localdate() - dt.timedelta(days=1))
    Message.objects.update(system=web1)
    later = timezone.now() + dt.timedelta(days=5 * 365)
    logs.purge(now=later)
    assert Message.objects.filter(purged_at__isnull=True).count() == 3
    # Only the Arbitrator releases it; the systems administrator placed it.
    with pytest.raises(NotAllowed):
        from secman.eventlog.retention import release_hold
        release_hold(actor=org.sam, hold=LegalHold.objects.first())


def test_evidence_is_handed_over_only_by_its_holder_each_step_an_entry(org):
    incident = _open(org)
    item = services.add_evidence(actor=org.sam, incident=incident, label="web1 disk",
                                 description="dd image of /dev/sda", sha256=SHA.upper(),
                                 location="evidence safe", size=1024)
    assert item.sha256 == SHA and item.holder == org.sam
    with pytest.raises(RuleViolation, match="64 hexadecimal"):
        services.add_evidence(actor=org.sam, incident=incident, label="x", description="y",
                              sha256="abc", location="z")
    with pytest.raises(NotAllowed, match="held by Sam"):
        services.hand_over(actor=org.sue, evidence=item, to=org.arne, location="x",
                           reason="y", sha256_checked=True)
    with pytest.raises(RuleViolation, match="may not hold"):
        services.hand_over(actor=org.sam, evidence=item, to=org.pim, location="x",
                           reason="y", sha256_checked=True)
    services.hand_over(actor=org.sam, evidence=item, to=org.arne, location="Arbitrator's safe",
                       reason="for the case", sha256_checked=True)
    item.refresh_from_db()
    assert item.holder == org.arne and item.location == "Arbitrator's safe"
    assert [e.details["to"] for e in Event.objects.filter(
        action="incidents.evidence.hand_over")] == ["Arne"]
    assert Evidence.objects.get().custody.count() == 1


def test_it_closes_only_with_its_report_and_a_sensitive_appendix_is_kept_encrypted(
        org, keyring):  # noqa: F811
    public = gnupg.GPG(gnupghome=keyring.home).export_keys(keyring.fingerprint)
    people.set_openpgp_key(actor=org.sam, person=org.sam, armoured=public)
    incident = _open(org, severity=Severity.EXPLOIT_NO_LOSS)
    services.record_isolation(actor=org.sam, incident=incident, how="unplugged")
    services.escalate(actor=org.sam, incident=incident, file_case=True)
    services.choose_checklist(actor=org.sam, incident=incident, name="application")
    incident.refresh_from_db()
    with pytest.raises(RuleViolation, match="report is not published"):
        services.close(actor=org.sam, incident=incident)
    with pytest.raises(RuleViolation, match="goes to the Board"):
        services.publish_report(actor=org.sam, incident=incident, summary="s",
                                audience=["sysadmins"])
    report = services.publish_report(
        actor=org.sam, incident=incident, summary="An exploit of the web app, no loss.",
        audience=["sysadmins", "board", "software"], appendix="the exploit: ' OR 1=1 --",
        sensitive=True, embargoed=True)
    assert report.appendix == "" and "BEGIN PGP MESSAGE" in report.appendix_encrypted
    assert report.appendix_recipients == [keyring.fingerprint]
    decrypted = gnupg.GPG(gnupghome=keyring.home).decrypt(report.appendix_encrypted,
                                                         passphrase=PASSPHRASE)
    assert decrypted.ok and str(decrypted) == "the exploit: ' OR 1=1 --"
    entry = Event.objects.get(action="incidents.report.publish")
    assert "OR 1=1" not in str(entry.details)  # only its SHA-256
    with pytest.raises(RuleViolation, match="not done"):
        services.close(actor=org.sam, incident=incident)
    for step in ResponseStep.objects.filter(incident=incident, done_at__isnull=True):
        if not step.register_check:  # the checked ones wait for the registers
            services.complete_step(actor=org.sam, step=step)
    incident.refresh_from_db()
    assert any("management" in r or "team leader" in r
               for r in services.why_not_close(incident))
    services.bring_in_management(actor=org.sam, incident=incident, person=org.sam)
    ResponseStep.objects.filter(incident=incident).update(done_at=timezone.now())
    services.close(actor=org.sam, incident=incident)
    incident.refresh_from_db()
    assert incident.status == "closed"
    with pytest.raises(RuleViolation, match="closed"):
        services.write_timeline(actor=org.sam, incident=incident, kind="follow_up", text="x")


def test_management_is_the_team_leader_or_a_board_member_with_a_reason(org):
    incident = _open(org)
    with pytest.raises(RuleViolation, match="neither"):
        services.bring_in_management(actor=org.sam, incident=incident, person=org.sue)
    with pytest.raises(RuleViolation, match="say why"):
        services.bring_in_management(actor=org.sam, incident=incident, person=org.bea)
    services.bring_in_management(actor=org.sam, incident=incident, person=org.bea,
                                 reason="Sam is on holiday")
    incident.refresh_from_db()
    assert incident.management == org.bea
