"""The chapter 2 pages: shown to the roles SP 2.2.1 names (and the Board and auditors),
refused to others; forms report refusals and write nothing."""

from __future__ import annotations

import pytest

from secman.eventlog.models import Event
from secman.physical import services
from secman.physical.models import Computer

READ = ["/physical/computers/", "/physical/computers/export.csv", "/physical/media/",
        "/physical/media/export.csv", "/physical/facilities/"]
# The forms that record hardware: for those who may submit them (SP 2.2.1).
RECORD = ["/physical/computers/new/", "/physical/computers/import/", "/physical/media/new/",
          "/physical/media/import/"]
PAGES = READ + RECORD


@pytest.mark.parametrize("login", ["axel", "sam", "bea", "aud"])
def test_it_serves_every_page_to_the_roles_that_may_see_the_inventory(client, org, rack, login):
    media = services.register_media(actor=org.sam, serial_number="D-1", media_type="hdd",
                                    capacity_gb=1, location="safe", present=[org.sam],
                                    steps_taken="wiped", erased_and_reformatted=True)
    client.force_login(org.people[login].user)
    for url in [*READ, rack.get_absolute_url(), f"{rack.get_absolute_url()}label/",
                media.get_absolute_url()]:
        assert client.get(url).status_code == 200, url
    records = login in ("axel", "sam")  # an Access Engineer, a Systems Administrator
    for url in RECORD:
        assert client.get(url).status_code == (200 if records else 403), url


@pytest.mark.parametrize("login", ["pia", "ola", "nobody"])
def test_it_refuses_the_inventory_to_other_roles(client, org, login):
    client.force_login(org.people[login].user)
    for url in PAGES:
        assert client.get(url).status_code == 403, url


def test_it_refuses_service_before_inventory_through_the_page(client, org):
    computer = services.create_computer(actor=org.axel, authority="SP 2.2.1.1",
                                        asset_tag="CA-7")
    client.force_login(org.axel.user)
    before = Event.objects.count()
    response = client.post(computer.get_absolute_url(), {
        "step": "in_service", "note": "Foundation", "authority": "SP 2.2.1"})
    assert "inventoried before being put into service" in response.content.decode()
    assert Computer.objects.get(pk=computer.pk).status == "acquired"
    assert Event.objects.count() == before


def test_it_offers_the_inventory_through_the_api_to_the_same_roles(org, rack):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(org.sam.user)
    body = api.get("/api/computers/").json()
    assert [c["asset_tag"] for c in body["results"]] == ["CA-0001"]
    created = api.post("/api/media/", {
        "serial_number": "API-1", "media_type": "usb", "capacity_gb": 32, "location": "safe",
        "critical_data": False, "erased_and_reformatted": True, "steps_taken": "wiped",
        "present": [org.sam.pk]}, format="json")
    assert created.status_code == 201, created.json()
    step = api.post(f"/api/media/{created.json()['id']}/step/", {
        "to_status": "stored", "present": [org.sam.pk], "steps_taken": "kept",
        "location": "safe"}, format="json")
    assert step.status_code == 400
    assert "erased securely before storage" in step.json()["detail"]
    api.force_authenticate(org.pia.user)
    assert api.get("/api/computers/").status_code == 403


def test_it_imports_a_csv_through_the_page_or_names_the_bad_rows(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    header = ("asset_tag,nickname,vendor,model,serial_number,maintenance_contact,"
              "rack_location,intended_use,legal_owner,acquisition_notes\n")
    client.force_login(org.sam.user)
    bad = SimpleUploadedFile("c.csv", (header + "CA-1,a,V,M,S,c,r,u,,\nCA-1,b,V,M,T,c,r,u,,\n")
                             .encode(), content_type="text/csv")
    html = client.post("/physical/computers/import/", {"file": bad,
                                                       "authority": "SP 2.2.1"}).content.decode()
    assert "Nothing was written" in html and "line 3: asset_tag" in html
    assert Computer.objects.count() == 0
    good = SimpleUploadedFile("c.csv", (header + "CA-1,a,V,M,S,c,r,u,,\n").encode())
    html = client.post("/physical/computers/import/", {"file": good,
                                                       "authority": "SP 2.2.1"}).content.decode()
    assert "1 imported" in html and Computer.objects.filter(asset_tag="CA-1").exists()


def test_an_upload_over_the_cap_is_refused_with_a_clear_message(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from secman.physical import csvio

    client.force_login(org.sam.user)
    big = SimpleUploadedFile("c.csv", b"asset_tag\n" + b"x" * csvio.MAX_BYTES)
    html = client.post("/physical/computers/import/", {
        "file": big, "authority": "SP 2.2.1", "dry_run": "on"}).content.decode()
    assert "Nothing was written" in html
    assert "the file is larger than 5 MB, the most an import reads: split it" in html
    assert Computer.objects.count() == 0
