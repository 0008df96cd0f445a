"""The Today page: its cost does not grow with the records it lists, and the body kept
for a reader is that reader's and is made again as soon as something is recorded. Speed
itself is measured in benchmarks/pages_bench.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from secman.authority.services import request_signoff
from secman.authority.signoff import TASK, dual_control
from secman.compliance import evaluation
from secman.core.roles import Role
from secman.eventlog.services import record


def ask_systems_administrators(org, title: str):
    return request_signoff(actor=org.sam, action=TASK, title=title,
                           requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
                           authority="SM 4.2.3")


def queries_for_today(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_it_asks_as_many_queries_for_many_sign_offs_and_events_as_for_one(client, org):
    client.force_login(org.sue.user)
    ask_systems_administrators(org, "Rotate the signing key 0")
    few = queries_for_today(client)
    for n in range(1, 6):
        ask_systems_administrators(org, f"Rotate the signing key {n}")
        record("test.event", actor=org.sam, authority="SP 1.2")
    page = client.get("/").content.decode()
    assert page.count("Rotate the signing key") == 6 * 2  # waiting for me, and the events
    assert queries_for_today(client) == few


@pytest.fixture
def reused(monkeypatch):
    monkeypatch.setattr(evaluation, "REUSE_SECONDS", 60)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_keeps_each_readers_own_page_until_something_is_recorded(client, reused):
    from tests.conftest import build_org

    org = build_org()
    client.force_login(org.sue.user)
    first = client.get("/").content.decode()
    assert "Sue" in first and "Rotate the signing key" not in first
    # Kept: the second request reads the session, the log's head and what the header
    # needs, and nothing of what the page lists.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").content.decode().split("<main>")[1] == first.split("<main>")[1]
    listed = ("authority_signoffrequest", "eventlog_event", "compliance_occurrence",
              "people_listchangeproposal", "people_listentry")
    assert not [q["sql"] for q in queries.captured_queries
                if any(f'"{table}"' in q["sql"] for table in listed)]

    ask_systems_administrators(org, "Rotate the signing key")
    assert "Rotate the signing key" in client.get("/").content.decode()

    client.force_login(org.aud.user)
    page = client.get("/").content.decode()
    assert '<p class="lead">Aud · Auditor</p>' in page
    assert "Nothing is waiting for your sign-off." in page


@pytest.mark.django_db
def test_it_offers_a_sign_off_request_only_to_those_the_service_would_accept(client, org):
    """The auditor reads and requests nothing (authority.services.may_request_signoff);
    a team member may open a request."""
    link = 'href="/authority/signoffs/new/"'
    client.force_login(org.aud.user)
    assert link not in client.get("/").content.decode()
    client.force_login(org.sue.user)
    assert link in client.get("/").content.decode()
