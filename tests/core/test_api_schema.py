"""The API's front door: the OpenAPI schema, the docs page under the strict CSP, and
how anonymous clients are answered."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

ENDPOINTS = ["/api/", "/api/me/", "/api/people/", "/api/teams/", "/api/lists/",
             "/api/proposals/", "/api/decisions/", "/api/cases/", "/api/signoffs/",
             "/api/events/"]


@pytest.fixture
def client(org):
    client = APIClient()
    client.force_login(org.sue.user)
    return client


def test_it_generates_a_valid_schema_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/proposals/{id}/approve/" in schema["paths"]
    assert "/api/signoffs/{id}/sign/" in schema["paths"]


def test_it_serves_the_schema_to_signed_in_people(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "secman API"
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_answers_anonymous_api_clients_401_json_instead_of_redirecting(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_it_keeps_the_schema_for_signed_in_people(db):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 401
    assert b"openapi" not in response.content


def test_it_lists_the_endpoints_at_the_api_root(client):
    body = client.get("/api/").json()
    assert body["proposals"] == "http://testserver/api/proposals/"
    assert set(body) == {"people", "teams", "lists", "proposals", "decisions", "cases",
                         "signoffs", "events", "checkpoints", "computers", "media",
                         "facilities", "visits", "devices", "occurrences", "systems", "flows",
                         "patches", "changes", "ssh-keys", "accounts",
                         "authentication-schemes", "grants", "secrets", "access-removals",
                         "checklists"}


def test_it_serves_the_docs_page_from_local_files_without_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources[:2] == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
    ]
    assert sources[2] == "/api/docs/?script="
    assert "<script>" not in html  # every script has a src: nothing inline for the CSP
    assert "<style" not in html  # secman's template override drops the packaged inline style
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "cdn" not in html


def test_it_serves_the_docs_script_and_assets_itself(client):
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema/"' in script.content.decode()
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_it_sends_anonymous_visitors_of_the_docs_page_to_the_login_page(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/api/docs/")
