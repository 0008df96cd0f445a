"""SM 4.2.2: "Access to logs is restricted to Systems Administrators". The payload of a
restricted class is theirs alone; the Board and the auditors see every entry's metadata
and whether the log verifies; nobody writes the log through the pages or the API."""

from __future__ import annotations

import io
import re
import tarfile

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from secman.eventlog import checkpoints, services
from secman.eventlog.models import Event, RetentionClass, VerificationRun

SECRET_DETAIL = "root login from 203.0.113.9"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def login_entry(org) -> Event:
    with transaction.atomic():
        return services.record("host.root.login", actor=org.sid, authority="SM 4.2",
                               details={"what": SECRET_DETAIL},
                               retention_class=RetentionClass.LOGIN)


def page(person, url: str) -> str:
    client = Client()
    client.force_login(person.user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def api(person) -> APIClient:
    client = APIClient()
    client.force_login(person.user)
    return client


@pytest.mark.parametrize("who", ["bea", "aud", "axel"])
def test_a_search_by_payload_does_not_find_restricted_entries(org, login_entry, who):
    """Finding a restricted entry by its actor would tell who its actor was."""
    person = getattr(org, who)
    assert "<code>host.root.login</code>" not in page(person, f"/events/?actor={org.sid.pk}")
    assert "<code>host.root.login</code>" not in page(person, "/events/?authority=SM+4.2")
    found = api(person).get(f"/api/events/?actor={org.sid.pk}").json()["results"]
    assert "host.root.login" not in [e["action"] for e in found]
    # Systems Administrators find it; a search by action (metadata) finds it for all.
    assert "<code>host.root.login</code>" in page(org.sam, f"/events/?actor={org.sid.pk}")
    found = api(org.sam).get(f"/api/events/?actor={org.sid.pk}").json()["results"]
    assert "host.root.login" in [e["action"] for e in found]
    assert "<code>host.root.login</code>" in page(person, "/events/?action=host.root.login")


@pytest.mark.parametrize("who", ["bea", "aud", "axel"])
def test_today_names_no_restricted_subject(org, who):
    with transaction.atomic():
        services.record("host.root.login", actor=org.sid, subject=org.ola,
                        authority="SM 4.2", retention_class=RetentionClass.LOGIN)
    today = page(getattr(org, who), "/")
    assert ('<code>host.root.login</code> <span class="muted">restricted to Systems '
            'Administrators</span>') in today
    assert f"<code>host.root.login</code> {org.ola.name}" in page(org.sam, "/")


@pytest.mark.parametrize("who", ["bea", "aud", "axel"])
def test_it_hides_a_restricted_payload_on_the_pages(org, login_entry, who):
    person = getattr(org, who)
    listing = page(person, "/events/")
    assert "host.root.login" in listing  # the metadata
    assert "restricted to Systems Administrators (SM 4.2.2)" in listing
    detail = page(person, f"/events/{login_entry.seq}/")
    assert SECRET_DETAIL not in listing and SECRET_DETAIL not in detail
    assert login_entry.leaf_hash in detail
    assert "The payload of this class is restricted to Systems Administrators" in detail
    # An application entry's payload stays readable by everyone (migration 0005).
    assert "<dt>Authority</dt>" in page(person, f"/events/{login_entry.seq - 1}/")
    assert "<dt>Authority</dt>" not in detail


@pytest.mark.parametrize("who", ["sam", "sue"])
def test_it_shows_a_restricted_payload_to_systems_administrators(org, login_entry, who):
    person = getattr(org, who)
    assert f"Sid (#{org.sid.pk})" in page(person, "/events/")
    detail = page(person, f"/events/{login_entry.seq}/")
    assert SECRET_DETAIL in detail
    assert "restricted to Systems Administrators" not in detail


def test_it_hides_a_restricted_payload_in_the_api(org, login_entry):
    body = api(org.bea).get(f"/api/events/{login_entry.seq}/").json()
    assert body["payload_visible"] is False
    assert (body["action"], body["retention_class"], body["leaf_hash"]) == (
        "host.root.login", "login", login_entry.leaf_hash)
    for name in ("actor", "actor_label", "subject", "authority", "signoffs", "details",
                 "canonical"):
        assert body[name] is None, name
    listed = api(org.aud).get("/api/events/?action=host.root").json()["results"]
    assert [(e["seq"], e["details"]) for e in listed] == [(login_entry.seq, None)]
    assert SECRET_DETAIL not in api(org.aud).get("/api/events/").content.decode()

    body = api(org.sam).get(f"/api/events/{login_entry.seq}/").json()
    assert body["payload_visible"] is True
    assert body["details"] == {"what": SECRET_DETAIL}
    assert body["canonical"] == login_entry.canonical


def test_it_shows_everyone_the_verification_status(org, login_entry):
    assert api(org.aud).get("/api/eventlog/verify/").status_code == 404  # never verified
    response = api(org.sam).post("/api/eventlog/verify/")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    for person in (org.bea, org.aud):
        body = api(person).get("/api/eventlog/verify/").json()
        assert (body["ok"], body["by_label"], body["entries"]) == (True, "Sam",
                                                                    login_entry.seq)
        listing = page(person, "/events/")
        assert "by <bdi>Sam</bdi>" in listing
        assert "Verify now" not in listing and "Download export bundle" not in listing
    assert "Verify now" in page(org.sue, "/events/")


@pytest.mark.parametrize("who", ["bea", "aud", "arne", "admin"])
def test_it_lets_only_systems_administrators_verify_now_and_export(org, login_entry, who):
    person = getattr(org, who)
    response = api(person).post("/api/eventlog/verify/")
    assert response.status_code == 403
    assert response.json()["section"] == "SM 4.2.2"
    assert api(person).post("/api/checkpoints/sign/").status_code == 403
    client = Client()
    client.force_login(person.user)
    assert client.post("/events/verify/").status_code == 403
    assert client.get("/events/export.tar.gz").status_code == 403
    assert not VerificationRun.objects.exists()


def test_it_verifies_and_exports_for_a_systems_administrator(org, login_entry):
    client = Client()
    client.force_login(org.sam.user)
    response = client.post("/events/verify/", follow=True)
    assert "the log is intact" in response.content.decode()
    run = VerificationRun.objects.get()
    assert (run.by, run.ok) == (org.sam, True)

    response = client.get("/events/export.tar.gz")
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(b"".join(response.streaming_content))) as archive:
        names = set(archive.getnames())
        assert {"eventlog-bundle/manifest.json", "eventlog-bundle/entries.jsonl"} <= names
        entries = archive.extractfile("eventlog-bundle/entries.jsonl").read().decode()
    assert SECRET_DETAIL in entries


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_writes_the_log_through_the_api(org, login_entry, method):
    before = list(Event.objects.order_by("seq").values_list("seq", "leaf_hash"))
    client = api(org.sam)
    for url in (f"/api/events/{login_entry.seq}/", "/api/events/", "/api/checkpoints/1/"):
        response = getattr(client, method)(url, {"action": "x", "details": {}}, format="json")
        assert response.status_code == 405, url
    assert list(Event.objects.order_by("seq").values_list("seq", "leaf_hash")) == before


def test_nobody_writes_the_log_through_the_pages(org, login_entry):
    before = list(Event.objects.order_by("seq").values_list("seq", "canonical"))
    client = Client()
    client.force_login(org.admin.user)
    for url in ("/events/", f"/events/{login_entry.seq}/", "/events/checkpoints/"):
        response = client.post(url, {"action": "x", "details": "{}", "authority": "SP 1.2"})
        assert response.status_code in (200, 403, 405)  # read as a page, or refused
    assert list(Event.objects.order_by("seq").values_list("seq", "canonical")) == before


def test_it_refuses_verification_checkpoints_and_export_in_the_services_too(org, tmp_path):
    """The pages and the API check the role first; the services check it again, so any
    future caller cannot skip it (SM 4.2.2)."""
    from secman.core.errors import NotAllowed
    from secman.eventlog import bundle, verification
    from secman.eventlog.models import VerificationRun

    for call in (lambda: verification.run(by=org.bea),
                 lambda: checkpoints.write_checkpoint(actor=org.aud),
                 lambda: bundle.export(tmp_path / "b", actor=org.axel)):
        with pytest.raises(NotAllowed) as refused:
            call()
        assert refused.value.section == "SM 4.2.2"
    assert not VerificationRun.objects.exists() and not (tmp_path / "b").exists()
    assert verification.run(by=org.sam).ok  # a Systems Administrator may


def test_everyone_filters_by_class_and_sees_refused_sign_ins_counted(client, org,
                                                                    login_entry):
    for _ in range(2):
        client.post("/login/", {"username": "sam", "password": "wrong"})
    listing = page(org.bea, "/events/?retention_class=login")
    assert listing.count("<code>login.failed</code>") == 2
    assert "<code>host.root.login</code>" in listing
    assert "<code>people." not in listing  # application entries filtered out
    tile = re.search(r'<a class="tile (\w+)" href="\?action=login.failed"><span '
                     r'class="count">(\d+)</span>', page(org.bea, "/events/"))
    assert tile is not None and tile.groups() == ("warn", "2")
    found = api(org.bea).get("/api/events/?retention_class=login").json()["results"]
    assert sorted(e["action"] for e in found) == [
        "host.root.login", "login.failed", "login.failed"]
    refused = api(org.bea).get("/api/events/?retention_class=nonsense")
    assert refused.status_code == 400
