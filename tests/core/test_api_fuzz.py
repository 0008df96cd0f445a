"""Schemathesis against the API's own OpenAPI schema (/api/schema/): every operation, for
privileged people and a read-only auditor, with data that fits the schema and data that
does not, on the demo organisation in the test database.

Every answer must be no server error, a status code the schema documents for the
operation, the content type it documents, and a body that fits the documented schema.
State-changing operations are fuzzed too: they must refuse what they cannot take with a
4xx. Each example runs in a savepoint that is rolled back, so one example never sees
another's writes (a new token would otherwise lock the fuzzer out).

Bounded: SECMAN_FUZZ_EXAMPLES examples per operation and kind of input (default 6, about
two minutes on SQLite on two cores); under SECMAN_CI=1 the examples are the same every run
(tests/conftest.py's hypothesis profile).
A failing run lists every distinct problem once, with a curl command that reproduces it
against a server holding the demo organisation."""

from __future__ import annotations

import collections
import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from secman import demo
from secman.people import accounts
from secman.people.models import Person

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = int(os.environ.get("SECMAN_FUZZ_EXAMPLES", "6"))

# The Systems Administration team leader (checkpoints, verification, inventory, visits),
# a Board member (decisions, approvals, exceptions), the administrator (records people
# and minutes) and an auditor, who reads everything and may change nothing.
LOGINS = ["samir", "beatrix", "admin", "ursula"]


@pytest.fixture
def app():
    """The WSGI application in this process, on the test database. Django closes the
    connection at the start and end of each request when it is in a transaction, as the
    test's is; Django's test client turns that off for its requests, and so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def demo_org(db):
    demo.load()


@pytest.mark.parametrize("login", LOGINS)
def test_every_operation_answers_as_its_schema_says(demo_org, app, login):
    person = Person.objects.get(user__username=login)
    headers = {"Authorization": f"Token {accounts.issue_api_token(actor=person)}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=headers)
    client = schemathesis.python.wsgi.get_client(app)
    problems: dict[str, list[str]] = collections.defaultdict(list)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        real = real_path_parameters(client, headers, operation.path)
        fuzz(operation, GenerationMode.NEGATIVE, headers, problems)
        fuzz(operation, GenerationMode.POSITIVE, headers, problems, real)
        if real:  # and once with made-up ids, which must be a documented 404
            fuzz(operation, GenerationMode.POSITIVE, headers, problems)
    if problems:
        report = "\n\n".join(f"== {key} ({len(found)}x)\n{found[0]}"
                             for key, found in sorted(problems.items()))
        pytest.fail(f"{len(problems)} kinds of problem as {login}:\n\n{report}",
                    pytrace=False)


def real_path_parameters(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    """For /api/people/{id}/step/: {"id": <the id of a person there is>}, taken from the
    list the path starts with (its items carry the lookup field under the same name)."""
    if "{" not in path:
        return {}
    prefix, rest = path.split("{", 1)
    name = rest.split("}", 1)[0]
    answer = client.get(prefix, query_string={"limit": 1000}, headers=headers)
    if answer.status_code != 200:
        return {}
    body = answer.get_json()
    items = body["results"] if isinstance(body, dict) else body
    values = [item[name] for item in items if name in item]
    # The middle one: neither the oldest nor the newest record of the demo.
    return {name: values[len(values) // 2]} if values else {}


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str],
         problems: dict[str, list[str]], path_parameters: dict[str, Any] | None = None) -> None:
    def record(failure: Failure, case: Any, status: int) -> None:
        problems[f"{operation.label} {status} {failure.title}"].append(
            f"[{mode.value}] {failure.message[:1500]}\n{case.as_curl_command()[:800]}")

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode,
                                      path_parameters=path_parameters or None))
    def run(case: Any) -> None:
        savepoint = transaction.savepoint()
        try:
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    record(failure, case, response.status_code)
            except Failure as failure:
                record(failure, case, response.status_code)
        finally:
            transaction.savepoint_rollback(savepoint)

    try:
        run()
    except Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameters and no body).
        assert mode == GenerationMode.NEGATIVE


# --- what the fuzzer found, kept as plain tests ----------------------------------------------


def test_a_patch_answers_every_field_of_the_case_even_those_without_a_value(org):
    """Schemathesis: a PATCH that left a case without a Case Manager answered without the
    key case_manager_name (DRF skips a read-only field's default in a partial update),
    where the schema requires it."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(org.arne.user)
    number = "a20260101.1"
    created = client.post("/api/cases/", {"number": number, "title": "Dispute",
                                          "filed_on": "2026-01-01",
                                          "arbitrator": org.arne.pk}, format="json")
    assert created.status_code == 201, created.content
    answer = client.patch(f"/api/cases/{number}/", {"case_manager": None}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["case_manager_name"] is None
    assert answer.json()["arbitrator_name"] == "Arne"
