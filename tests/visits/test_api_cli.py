"""The API and the command line give the same answers as the UI: same services."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from django.utils import timezone
from rest_framework.test import APIClient

from secman.cli import main
from secman.eventlog.models import Event
from secman.visits.models import Device, Participant, Visit


@pytest.fixture
def api(physical):
    def signed_in(person):
        client = APIClient()
        client.force_login(person.user)
        return client

    return signed_in


def test_it_walks_a_visit_through_the_api(physical, api):
    org = physical
    now = timezone.now()
    created = api(org.sam).post("/api/visits/", {
        "purpose": "Swap disk", "systems": "signer1",
        "window_start": (now - dt.timedelta(minutes=30)).isoformat(),
        "window_end": (now + dt.timedelta(hours=2)).isoformat()}, format="json")
    assert created.status_code == 201, created.json()
    url = f"/api/visits/{created.json()['id']}/"
    assert api(org.axel).post(url + "authorise/", {"reference": "MoU B #7"},
                              format="json").status_code == 200
    lonely = api(org.axel).post(url + "check-in/", {"people": [org.axel.pk]}, format="json")
    assert lonely.status_code == 400
    assert lonely.json()["section"] == "SP 2.3"
    assert "at least 2 authorised persons" in lonely.json()["detail"]
    assert api(org.axel).post(url + "check-in/", {"people": [org.axel.pk, org.sam.pk]},
                              format="json").status_code == 200
    assert api(org.axel).post(url + "check-out/", {"people": [org.axel.pk, org.sam.pk]},
                              format="json").status_code == 200
    api(org.sam).post(url + "report/", {"kind": "accessor", "text": "Swapped."},
                      format="json")
    api(org.axel).post(url + "report/", {"kind": "access_engineer", "text": "Watched."},
                       format="json")
    closed = api(org.sam).post(url + "close/", format="json")
    assert closed.status_code == 200
    body = closed.json()
    assert body["status"] == "closed"
    axel = next(p for p in body["participants"] if p["person"] == org.axel.pk)
    assert axel["accesses_data"] is False


def test_it_refuses_an_unauthorised_holder_through_the_api(physical, api):
    org = physical
    device = api(org.axel).post("/api/devices/", {
        "kind": "rack_key", "label": "Rack 12 key #1", "controlling_party": "BIT"},
        format="json")
    assert device.status_code == 201, device.json()
    before = Event.objects.count()
    refused = api(org.axel).post(f"/api/devices/{device.json()['id']}/issue/",
                                 {"holder": org.sid.pk, "reference": "MoU B"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["section"] == "SP 2.3.5"
    assert Event.objects.count() == before


def test_it_runs_a_visit_from_the_command_line(physical, django_capture_on_commit_callbacks):
    runner = CliRunner()
    now = timezone.now()
    fmt = "%Y-%m-%d %H:%M"
    result = runner.invoke(main, [
        "visits", "request", "--as", "sam", "--purpose", "Swap disk", "--systems", "signer1",
        "--from", f"{now - dt.timedelta(hours=1):{fmt}}",
        "--until", f"{now + dt.timedelta(hours=2):{fmt}}"])
    assert result.exit_code == 0, result.output
    pk = str(Visit.objects.get().pk)
    assert runner.invoke(main, ["visits", "authorise", pk, "--as", "axel", "--reference",
                                "MoU B"]).exit_code == 0
    refused = runner.invoke(main, ["visits", "check-in", pk, "--as", "axel",
                                   "--person", "axel"])
    assert refused.exit_code == 1
    assert "(SP 2.3)" in refused.output
    assert not Participant.objects.exists()
    for args in (["check-in", pk, "--as", "axel", "--person", "axel", "--person", "sam"],
                 ["check-out", pk, "--as", "axel", "--person", "axel", "--person", "sam"],
                 ["report", pk, "--as", "sam", "--kind", "accessor", "--text", "Swapped."],
                 ["report", pk, "--as", "axel", "--kind", "access_engineer", "--text", "Ok."],
                 ["close", pk, "--as", "sam"]):
        result = runner.invoke(main, ["visits", *args])
        assert result.exit_code == 0, (args, result.output)
    assert Visit.objects.get().status == "closed"
    shown = runner.invoke(main, ["visits", "show", pk])
    assert "does not access the data" in shown.output


def test_it_keeps_the_register_from_the_command_line(physical):
    runner = CliRunner()
    assert runner.invoke(main, ["visits", "devices", "add", "--as", "axel", "--kind",
                                "rack_key", "--label", "Rack 12 key #1",
                                "--controlling-party", "BIT"]).exit_code == 0
    secret = runner.invoke(main, ["visits", "devices", "add", "--as", "axel", "--kind",
                                  "code", "--label", "Door code 482913",
                                  "--controlling-party", "BIT"])
    assert secret.exit_code == 1 and "never the code itself" in secret.output
    assert runner.invoke(main, ["visits", "devices", "issue", "Rack 12 key #1", "--as",
                                "axel", "--holder", "sam", "--reference", "MoU B"]
                         ).exit_code == 0
    copy = runner.invoke(main, ["visits", "devices", "issue", "Rack 12 key #1", "--as",
                                "axel", "--holder", "sue", "--reference", "MoU B"])
    assert copy.exit_code == 1 and "copies of Rack 12 key #1 are not permitted" in copy.output
    assert Device.objects.get().holdings.count() == 1
