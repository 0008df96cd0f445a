"""The codes & devices register (SP/SM 2.3.5) and the mail visits send (SM 2.3.3, 2.3.4)
through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.models import Membership
from secman.visits import controls, devices, services
from secman.visits.models import Device, Holding


def test_it_flags_a_holder_who_left_their_team(physical):
    org = physical
    key = devices.register_device(actor=org.axel, kind="rack_key", label="Rack 12 key #1",
                                   controlling_party="BIT")
    devices.issue_device(actor=org.axel, device=key, holder=org.sue, reference="MoU B")
    assert controls.holder_findings() == []
    membership = Membership.objects.active().get(person=org.sue)
    people_services.end_membership(actor=org.sue, membership=membership, authority="SP 9.1.7",
                                   reason="resignation", end=timezone.localdate())
    [finding] = controls.holder_findings()
    assert finding.section == "SP 2.3.5"
    assert "Sue is on the Physical Access List but is no longer a Systems Administrator" in (
        finding.message)


def test_it_never_stores_a_code(physical):
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="never the code itself"):
        devices.register_device(actor=physical.axel, kind="code", label="Cage door",
                                 notes="it is 90210-7", controlling_party="BIT")
    assert not Device.objects.exists() and Event.objects.count() == before
    assert not {f.name for f in Device._meta.get_fields()} & {"value", "code", "secret"}


def test_it_records_returns(physical):
    key = devices.register_device(actor=physical.axel, kind="rack_key", label="Key 1",
                                   controlling_party="BIT")
    holding = devices.issue_device(actor=physical.axel, device=key, holder=physical.sam,
                                    reference="MoU B")
    devices.return_device(actor=physical.sam, holding=holding)
    devices.issue_device(actor=physical.axel, device=key, holder=physical.sue,
                          reference="MoU B")
    assert Holding.objects.current().get().holder == physical.sue


def test_it_mails_the_closed_visit_to_the_sysadmin_list(
        physical, visited, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@lists.example.org"
    services.file_report(actor=physical.sam, visit=visited, kind="accessor",
                         text="Swapped disk 2.")
    services.file_report(actor=physical.axel, visit=visited, kind="access_engineer",
                         text="Rack 12 opened and closed.")
    with django_capture_on_commit_callbacks(execute=True):
        services.close_visit(actor=physical.sam, visit=visited)
    [(recipients, message)] = smtp.messages
    assert recipients == ["sysadmins@lists.example.org"]
    assert message["Subject"].startswith("[secman] Physical visit closed: Visit #")
    body = message.get_payload()
    assert "Swapped disk 2." in body and "Rack 12 opened and closed." in body
    assert "did not access the data" in body
    entry = Event.objects.get(action="visits.visit.close")
    assert entry.details["mailed_to"] == "sysadmins@lists.example.org"
    assert "not_mailed" not in entry.details


def file_reports(physical, visit) -> None:
    services.file_report(actor=physical.sam, visit=visit, kind="accessor", text="Disk 2.")
    services.file_report(actor=physical.axel, visit=visit, kind="access_engineer",
                         text="Rack 12.")


def test_it_says_the_close_was_not_mailed_when_no_list_is_set(
        physical, visited, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = ""
    file_reports(physical, visited)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_visit(actor=physical.sam, visit=visited)
    assert smtp.messages == []
    entry = Event.objects.get(action="visits.visit.close")
    assert entry.details["not_mailed"] == "SECMAN_SYSADMIN_LIST is not set"
    assert "mailed_to" not in entry.details


@pytest.mark.parametrize(("address", "said"), [
    ("sysadmins@lists.example.org", "Visit closed; mailed to sysadmins@lists.example.org."),
    ("", "Visit closed; not mailed: SECMAN_SYSADMIN_LIST is not set."),
])
def test_the_page_says_whether_the_close_was_mailed(
        client, physical, visited, smtp, settings, django_capture_on_commit_callbacks,
        address, said):
    settings.SECMAN_SYSADMIN_LIST = address
    file_reports(physical, visited)
    client.force_login(physical.sam.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/visits/{visited.pk}/close/", follow=True)
    html = response.content.decode()
    assert said in html
    assert said[len("Visit closed; "):-1] in html[html.index("<dt>Closed</dt>"):]
    assert "reported to the systems administration list" not in html
    assert len(smtp.messages) == (1 if address else 0)


def test_it_mails_the_dispute_for_an_emergency(
        physical, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_DISPUTE_ADDRESS = "dispute@example.org"
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        visit = services.record_emergency(
            actor=physical.sam, purpose="Fire alarm", systems="signer1",
            circumstances="Smoke in the rack; the hosting staff called at 03:10.",
            started_at=now - dt.timedelta(hours=2), ended_at=now - dt.timedelta(hours=1),
            people=[physical.sam, physical.axel])
    [(recipients, message)] = smtp.messages
    assert recipients == ["dispute@example.org"]
    assert visit.case.number in message["Subject"]
    assert "Smoke in the rack" in message.get_payload()


def test_it_refuses_a_bad_list_address(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import secman.settings

    monkeypatch.setenv("SECMAN_SYSADMIN_LIST", "a@x.org, b@x.org")
    with pytest.raises(ImproperlyConfigured, match="SECMAN_SYSADMIN_LIST"):
        importlib.reload(secman.settings)
    monkeypatch.delenv("SECMAN_SYSADMIN_LIST")
    importlib.reload(secman.settings)
