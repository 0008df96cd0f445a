"""The patch, change, OS and summary pages and API as each kind of person meets them: the
forms only for those who may submit them, the actions each may take, a refusal shown and
nothing written."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.authority.models import SignOffRequest
from secman.eventlog.models import Event
from secman.systems import patches
from secman.systems.choices import PatchStatus
from secman.systems.models import ConfigurationChange, Patch, System

PAGES = ["/systems/patches/", "/systems/changes/", "/systems/os/", "/systems/summary/"]
FORMS = ["/systems/patches/new/", "/systems/changes/new/"]


@pytest.fixture
def webdb(db):
    return System.objects.create(name="webdb", kind="vm", os_name="Debian GNU/Linux",
                                 os_release="12.5")


@pytest.mark.parametrize(("login", "reads", "records"), [
    ("sue", True, True), ("sam", True, True), ("bea", True, False), ("aud", True, False),
    ("admin", True, False), ("pia", False, False), ("arne", False, False)])
def test_each_page_to_those_who_may_read_and_forms_to_those_who_record(
        client, org, webdb, login, reads, records):
    patch = patches.propose_patch(actor=org.sue, advisory="DSA-1-1", title="t",
                                  packages=["openssl"], systems=[webdb])
    client.force_login(org.people[login].user)
    for url in [*PAGES, patch.get_absolute_url()]:
        assert client.get(url).status_code == (200 if reads else 403), url
    for url in FORMS:
        assert client.get(url).status_code == (200 if records and reads else 403), url


def test_a_patch_goes_through_the_pages(client, org, webdb):
    client.force_login(org.sue.user)
    response = client.post("/systems/patches/new/", {
        "advisory": "DSA-5678-1", "title": "openssl: overread", "packages": "openssl, libssl3",
        "systems": [webdb.pk], "authority": "SP 3.2.3"})
    patch = Patch.objects.get()
    assert response.status_code == 302 and response["Location"] == patch.get_absolute_url()
    page = client.get(patch.get_absolute_url()).content.decode()
    # Sue may withdraw her proposal; she may not approve it, nor apply it yet.
    assert 'value="withdraw"' in page and 'value="approve"' not in page
    assert 'value="apply"' not in page
    # A forged approval from Sue is refused, shown, and writes nothing.
    before = Event.objects.count()
    response = client.post(patch.get_absolute_url(), {"action": "approve"}, follow=True)
    assert "team leader only" in response.content.decode()
    assert Event.objects.count() == before and Patch.objects.get().approved_at is None
    client.force_login(org.sam.user)
    assert 'value="approve"' in client.get(patch.get_absolute_url()).content.decode()
    client.post(patch.get_absolute_url(), {"action": "approve"})
    assert Patch.objects.get().status == PatchStatus.APPROVED
    client.force_login(org.sue.user)
    response = client.post(patch.get_absolute_url(), {"action": "apply"})
    request = SignOffRequest.objects.get()
    assert response["Location"] == request.get_absolute_url()
    # The auditor reads the patch and is offered nothing.
    client.force_login(org.aud.user)
    page = client.get(patch.get_absolute_url()).content.decode()
    assert "What you may do" not in page and "DSA-5678-1" in page


def test_a_bad_change_is_shown_on_the_form_and_nothing_written(client, org, webdb):
    client.force_login(org.sue.user)
    response = client.post("/systems/changes/new/", {
        "system": webdb.pk, "summary": "sshd", "rcs_reference": "somewhere",
        "authority": "SM 4.1.3"})
    assert response.status_code == 200 and "is not an RCS reference" in (
        response.content.decode())
    assert ConfigurationChange.objects.count() == 0
    response = client.post("/systems/changes/new/", {
        "system": webdb.pk, "summary": "sshd", "rcs_reference": "infra@1a2b3c4",
        "covers": ["sshd"], "authority": "SM 4.1.3"})
    assert response.status_code == 302 and ConfigurationChange.objects.count() == 1


def test_the_summary_downloads_as_csv_that_runs_nothing(client, org, webdb):
    patches.propose_patch(actor=org.sue, advisory="DSA-1-1", title="=HYPERLINK(evil)",
                          packages=["openssl"], systems=[webdb])
    client.force_login(org.bea.user)
    today = timezone.localdate()
    response = client.get(f"/systems/summary/?from={today}&to={today}&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["kind", "when", "what"]
    assert rows[1][2] == "DSA-1-1 =HYPERLINK(evil)"
    response = client.get(f"/systems/summary/?from={today}&to=2000-01-01")
    assert "before it begins" in response.content.decode()


def test_the_api_proposes_and_refuses_the_wrong_approver(org, webdb):
    api = APIClient()
    api.force_authenticate(org.sue.user)
    response = api.post("/api/patches/", {
        "advisory": "CVE-2026-1234", "title": "sshd", "packages": ["openssh-server"],
        "systems": ["webdb"], "emergency": True, "exploit": "public"}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = api.post(f"/api/patches/{pk}/approve/", {}, format="json")
    assert response.status_code == 403 and response.json()["section"] == "SP 3.2.3"
    response = api.post(f"/api/patches/{pk}/apply/", {}, format="json")
    assert response.status_code == 202
    assert api.get("/api/os-lifecycle/").json()[0]["system"] == "webdb"
    assert api.get("/api/patch-summary/").status_code == 200
    api.force_authenticate(org.pia.user)
    assert api.get("/api/patches/").status_code == 403
