"""Hostile input is answered 400 with a message, never a server error; whatever goes
wrong under /api/ is answered in JSON without a traceback; pages and API answers for
signed-in people are not kept in caches."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from rest_framework.test import APIClient
from rest_framework.views import APIView

from secman.cli import main
from secman.eventlog.models import Event
from secman.people import accounts

HUGE = "9223372036854775808"  # 2**63: one more than the largest integer a database holds

LISTS = ["people", "teams", "lists", "proposals", "decisions", "cases", "signoffs", "events",
         "checkpoints", "computers", "media", "facilities", "visits", "devices",
         "occurrences"]


@pytest.fixture
def api(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {accounts.issue_api_token(actor=org.sam)}")
    return client


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- finding 6: server errors from input -------------------------------------------------


def test_every_list_endpoint_is_paginated_by_the_bounded_class():
    from rest_framework.settings import api_settings

    from secman.core.api_input import Pagination

    assert api_settings.DEFAULT_PAGINATION_CLASS is Pagination


@pytest.mark.parametrize("name", LISTS)
def test_a_limit_or_offset_out_of_range_is_a_400_that_says_what_is_accepted(api, name):
    for query in [f"limit={HUGE}", f"offset={HUGE}", "limit=0", "limit=-1", "limit=ten",
                  "limit=1001", "offset=-1", "offset=1e3", "limit="]:
        body = refused(api.get(f"/api/{name}/?{query}"))
        field = query.split("=")[0]
        assert "whole number" in body[field][0], (query, body)


@pytest.mark.parametrize("name", ["people", "events"])
def test_limit_and_offset_in_range_still_page(api, name):
    everything = api.get(f"/api/{name}/?limit=1000").json()
    assert everything["count"] >= 3
    page = api.get(f"/api/{name}/?limit=2&offset=1").json()
    assert page["results"] == everything["results"][1:3]
    assert api.get(f"/api/{name}/").json()["results"] == everything["results"][:100]


@pytest.mark.parametrize("query", [f"actor={HUGE}", "actor=-1", "actor=1.5", "actor=x"])
def test_an_event_filter_by_an_id_out_of_range_is_a_400(api, query):
    body = refused(api.get(f"/api/events/?{query}"))
    assert "actor" in body


@pytest.mark.parametrize("query", [f"seq={HUGE}", f"seq=1&size={HUGE}"])
def test_a_proof_of_an_entry_out_of_range_is_a_400(api, query):
    refused(api.get(f"/api/eventlog/proofs/inclusion/?{query}"))


@pytest.mark.parametrize("url", ["/api/people/{}/", "/api/proposals/{}/", "/api/events/{}/",
                                 "/api/signoffs/{}/", "/api/computers/{}/"])
def test_an_id_out_of_range_in_the_path_is_not_found(api, url):
    body = refused(api.get(url.format(HUGE)), 404)
    assert body["detail"]


@pytest.mark.parametrize("depth", [100_000, 1_000, 33])
def test_a_json_body_nested_too_deep_is_a_400_and_changes_nothing(api, org, depth):
    events = Event.objects.count()
    body = "[" * depth + "]" * depth
    response = api.post("/api/proposals/", body, content_type="application/json")
    assert "nested" in refused(response)["detail"]
    nested = '{"a": ' * depth + "1" + "}" * depth
    response = api.post("/api/signoffs/", nested, content_type="application/json")
    assert "nested" in refused(response)["detail"]
    assert Event.objects.count() == events


def test_json_nested_as_deep_as_the_api_takes_is_read(api, org):
    deep = {"title": "t", "description": "d", "authority": "SM 2.2.1",
            "requirement": {"principle": "dual control", "roles": ["systems_administrator"],
                            "count": 2}}
    response = api.post("/api/signoffs/", json.dumps(deep), content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_json_body_larger_than_django_keeps_in_memory_is_a_413_and_changes_nothing(
        api, org, settings):
    events = Event.objects.count()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"title": "t", "description": "x" * 10_000, "authority": "SM 2.2.1",
                       "requirement": {"principle": "dual control", "count": 2,
                                       "roles": ["systems_administrator"]}})
    response = api.post("/api/signoffs/", body, content_type="application/json")
    assert "larger than the 10000 bytes" in refused(response, 413)["detail"]
    assert Event.objects.count() == events
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    response = api.post("/api/signoffs/", body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_every_operation_documents_the_errors_it_can_give(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, url)
            if "{" in url:
                assert "404" in codes, (method, url)
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if operation.get("requestBody") or query:
                assert "400" in codes, (method, url)
            if method in ("post", "patch"):
                assert "413" in codes, (method, url)
    assert schema["components"]["schemas"]["BadRequest"]["additionalProperties"] is True


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/api/proposals/", "{", content_type="application/json")
    assert "JSON" in refused(response)["detail"]


@pytest.mark.parametrize(("first", "last"), [("0001-01-01", "9999-12-31"),
                                             ("2026-01-01", "9999-12-31")])
def test_a_report_period_at_the_end_of_the_calendar_is_a_400_on_the_page(
        org, client, first, last):
    client.force_login(org.bea.user)
    for url in ["/compliance/report/", "/compliance/report/oscal/"]:
        response = client.get(url, {"from": first, "to": last})
        assert response.status_code == 400, (url, response.status_code)
        assert "9999-12-30" in response.content.decode()


def test_a_report_period_at_the_end_of_the_calendar_is_a_clear_error_on_the_cli(tmp_path):
    out = tmp_path / "audit.html"
    result = CliRunner().invoke(main, ["report", "audit", "--from", "0001-01-01", "--to",
                                       "9999-12-31", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --to" in result.output
    assert "9999-12-30" in result.output
    assert isinstance(result.exception, SystemExit)  # click's usage error, no traceback
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_report_of_every_day_a_date_can_hold_but_the_last_is_made(org, client):
    client.force_login(org.bea.user)
    response = client.get("/compliance/report/oscal/", {"from": "0001-01-01",
                                                        "to": "9999-12-30"})
    assert response.status_code == 200


# --- finding 11: errors in JSON, no caching -----------------------------------------------


class Broken(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals: /srv/secman/db.sqlite3")


@login_not_required
def broken_plain(request):
    raise RuntimeError("secret internals: /srv/secman/db.sqlite3")


urlpatterns = [
    path("api/broken/", Broken.as_view()),
    path("api/broken-plain/", broken_plain),
    path("", include("secman.urls")),
]


@pytest.fixture
def broken_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


@pytest.mark.parametrize("url", ["/api/broken/", "/api/broken-plain/"])
def test_an_uncaught_error_under_the_api_is_a_json_500_without_the_traceback(
        db, broken_urls, url, caplog):
    client = APIClient(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(url)
    body = refused(response, 500)
    assert set(body) == {"detail"}
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # The operator still has the traceback, in the server's log.
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1])
               for record in caplog.records)


def test_an_unknown_api_url_is_a_json_404(api):
    body = refused(api.get("/api/no-such-thing/"), 404)
    assert body["detail"]


def test_a_page_error_outside_the_api_is_still_the_html_page(org, client):
    client.force_login(org.sam.user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url", ["/", "/people/", "/api/me/", "/api/people/?limit=1"])
def test_pages_and_api_answers_for_signed_in_people_are_not_stored(org, client, url):
    client.force_login(org.sam.user)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_token_api_answers_and_refusals_are_not_stored(api):
    assert "no-store" in api.get("/api/me/")["Cache-Control"]
    assert "no-store" in api.get("/api/people/?limit=x")["Cache-Control"]


def test_static_files_stay_cacheable(org, client):
    client.force_login(org.sam.user)
    response = client.get("/static/report.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
