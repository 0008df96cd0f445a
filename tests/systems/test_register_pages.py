"""The register's pages, API and command line: shown to the readers docs/systems.md
names, forms only to those who may submit them, refusals written nowhere; the same
services behind each."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from rest_framework.test import APIClient

from secman.cli import main
from secman.eventlog.models import Event
from secman.systems import services
from secman.systems.models import Flow, System

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(org):
    system = services.add_system(actor=org.sue, name="web", kind="physical",
                                 status="in_service", authority="SP 3.2.2",
                                 purpose="the web site", primary_admin=org.sue)
    services.set_addresses(actor=org.sue, system=system, authority="SM 3.1.2",
                           addresses=[{"network": "internet", "address": "192.0.2.7"}])
    return system


@pytest.fixture
def waiting(org, web):
    return services.request_flow(actor=org.sue, system=web, direction="ingress", port=443,
                                 service="https", peer="ANY", purpose="members' site")


def forms(web, flow):
    base = web.get_absolute_url()
    return ["/systems/new/", *(f"{base}{step}/" for step in (
        "edit", "administrators", "addresses", "inspect", "retire", "flows/new")),
        f"/systems/flows/{flow.pk}/end/"]


@pytest.mark.parametrize("login", ["sue", "sam", "bea", "aud", "admin", "pia"])
def test_it_shows_the_register_to_its_readers_and_forms_to_administrators(
        client, org, web, waiting, login):
    client.force_login(org.people[login].user)
    page = client.get("/systems/")
    assert page.status_code == 200
    text = page.content.decode()
    # The list says at a glance what is wrong: web has one administrator, no inspection.
    assert "web is in service with 1 administrator" in text
    assert "was never inspected" in text
    system = client.get(web.get_absolute_url()).content.decode()
    assert "192.0.2.7" in system and "members&#x27; site" in system
    assert "systems.system.addresses" in system  # the history, from the Event Log
    assert "443/tcp" in client.get("/systems/flows/").content.decode()
    may_change = login in ("sue", "sam")
    for url in forms(web, waiting):
        assert client.get(url).status_code == (200 if may_change else 403), url
    decide = client.get(f"/systems/flows/{waiting.pk}/decide/")
    assert decide.status_code == (200 if login == "sam" else 403)


@pytest.mark.parametrize("login", ["abby", "otto", "arne", "nobody"])
def test_it_refuses_the_register_to_others(client, org, web, waiting, login):
    client.force_login(org.people[login].user)
    for url in ["/systems/", web.get_absolute_url(), "/systems/flows/",
                *forms(web, waiting)]:
        assert client.get(url).status_code == 403, url


def test_a_flow_requested_on_its_form_is_decided_by_the_team_leader(client, org, web):
    client.force_login(org.sue.user)
    response = client.post(f"{web.get_absolute_url()}flows/new/", {
        "direction": "egress", "protocol": "tcp", "port": "5432", "service": "postgresql",
        "peer": "10.0.0.5", "purpose": "the database", "authority": "SP 3.1.1.2"})
    assert response.status_code == 302
    flow = Flow.objects.get(system=web, port=5432)
    assert flow.status == "requested"
    client.force_login(org.sam.user)
    flows_page = client.get("/systems/flows/").content.decode()
    assert f"/systems/flows/{flow.pk}/decide/" in flows_page
    response = client.post(f"/systems/flows/{flow.pk}/decide/", {
        "decision": "approve", "reason": "", "authority": "SP 3.1.1.2"})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert (flow.status, flow.decided_by) == ("approved", org.sam)


def test_a_refused_form_writes_nothing_and_says_why(client, org, web):
    client.force_login(org.sue.user)
    before = Event.objects.count()
    response = client.post(f"{web.get_absolute_url()}administrators/", {
        "primary": org.sue.pk, "secondary": org.sue.pk, "authority": "SP 1.2"})
    assert "two distinct people" in response.content.decode()
    response = client.post("/systems/new/", {
        "name": "signer", "kind": "physical", "criticality": "critical", "status": "planned",
        "disk_encryption": "unknown", "authority": "SP 3.2.2"})
    assert "needs a Board decision" in response.content.decode()
    assert Event.objects.count() == before
    assert not System.objects.filter(name="signer").exists()


def test_the_api_reads_for_readers_and_acts_for_the_right_people(org, web, waiting):
    api = APIClient()
    api.force_authenticate(org.aud.user)
    listed = api.get("/api/systems/")
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()["results"]] == ["web"]
    assert api.get("/api/systems/web/").json()["addresses"][0]["address"] == "192.0.2.7"
    assert api.post("/api/systems/", {"name": "x"}, format="json").status_code == 403
    api.force_authenticate(org.abby.user)
    assert api.get("/api/flows/").status_code == 403
    api.force_authenticate(org.sue.user)
    before = Event.objects.count()
    refused = api.post(f"/api/flows/{waiting.pk}/decide/", {"approve": True}, format="json")
    assert refused.status_code == 403 and "team leader" in refused.json()["detail"]
    bad = api.post("/api/systems/web/request-flow/", {
        "direction": "ingress", "port": 99999, "peer": "ANY", "purpose": "x"}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "port"
    assert Event.objects.count() == before
    made = api.post("/api/systems/web/request-flow/", {
        "direction": "ingress", "port": 22, "peer": "10.0.0.0/24", "purpose": "ssh"},
        format="json")
    assert made.status_code == 201 and made.json()["status"] == "requested"
    api.force_authenticate(org.sam.user)
    decided = api.post(f"/api/flows/{made.json()['id']}/decide/", {"approve": True},
                       format="json")
    assert decided.status_code == 200 and decided.json()["in_effect"] is True
    pending = api.get("/api/flows/", {"status": "requested"}).json()["results"]
    assert [f["id"] for f in pending] == [waiting.pk]


def test_the_command_line_lists_shows_and_lists_flows(org, web, waiting):
    runner = CliRunner()
    listed = runner.invoke(main, ["systems", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["name"], row["flows_waiting"], row["findings"]) == ("web", 1, 3)
    shown = runner.invoke(main, ["systems", "show", "web", "--json"])
    assert json.loads(shown.output)["addresses"][0]["address"] == "192.0.2.7"
    flows = runner.invoke(main, ["systems", "flows", "web", "--json"])
    assert [f["port"] for f in json.loads(flows.output)] == ["443/tcp"]
    table = runner.invoke(main, ["systems", "flows", "--status", "requested"])
    assert table.exit_code == 0 and "443/tcp" in table.output
    missing = runner.invoke(main, ["systems", "show", "nothere"])
    assert missing.exit_code == 1 and "no system named 'nothere'" in missing.output
