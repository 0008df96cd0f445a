"""One authorisation table (issue 13): every URL the resolver knows, for every kind of
person, with every method it answers, gets the outcome tests/core/authorisation_table.py
declares (what docs/security.md and the SP say). A URL without a declared rule fails the
meta-test, so a new page or endpoint cannot go unchecked.

The world is the demo organisation, loaded once for the module inside a transaction that
is rolled back at the end; every request runs in a savepoint rolled back after it, so a
POST that acts (an empty or minimal body may still complete a step) leaves nothing for
the next row. `AUTHZ_OBSERVED=1` prints what each row answers today instead of failing."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from secman.core import errors
from tests.core.authorisation_table import (
    ALLOWED,
    LOGIN,
    METHOD,
    NOT_FOUND,
    REDIRECT,
    REFUSED,
    SUBJECTS,
    TABLE,
    route_key,
)

# --- the resolver's routes -------------------------------------------------------------------


def resolver_routes() -> dict[str, URLPattern]:
    """Every URL pattern, keyed as the table keys them (route_key)."""
    found: dict[str, URLPattern] = {}

    def walk(patterns: Any, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                found[route_key(prefix + str(pattern.pattern))] = pattern

    walk(get_resolver().url_patterns, "")
    return found


def drf_methods(pattern: URLPattern) -> set[str] | None:
    """The methods a REST framework route answers besides GET/HEAD/OPTIONS, or None for a
    plain Django view (whose methods the table declares)."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return {m.upper() for m in actions if m not in ("head", "options")}
    cls = getattr(callback, "cls", None)
    if cls is not None and hasattr(cls, "http_method_names") and hasattr(cls, "permission_classes"):
        return {m.upper() for m in cls.http_method_names
                if m not in ("options", "head", "trace") and hasattr(cls, m)}
    return None


def test_every_route_has_a_declared_rule():
    routes = resolver_routes()
    undeclared = sorted(set(routes) - set(TABLE))
    assert not undeclared, ("routes without a rule in tests/core/authorisation_table.py: "
                            + ", ".join(undeclared))
    stale = sorted(set(TABLE) - set(routes))
    assert not stale, "rules for routes that no longer exist: " + ", ".join(stale)


def test_every_api_method_has_a_declared_rule():
    missing = []
    for key, pattern in resolver_routes().items():
        methods = drf_methods(pattern)
        if methods is None:
            continue
        declared = set(TABLE[key].methods)
        missing += [f"{m} {key}" for m in sorted(methods - declared)]
    assert not missing, "API methods without a rule: " + ", ".join(missing)


def test_every_rule_declares_every_kind_of_person():
    for key, entry in TABLE.items():
        for method, rule in entry.methods.items():
            assert set(rule) == set(SUBJECTS), (key, method, set(SUBJECTS) ^ set(rule))


# --- the world --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker,
          tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The demo organisation plus one of each record a URL names, and the values that
    fill the table's URL templates. One data dir for the module: the log's signing key
    made with the demo must be there for every row that signs."""
    data_dir = tmp_path_factory.mktemp("authorisation-data")
    with (override_settings(DATA_DIR=data_dir), django_db_blocker.unblock(),
          transaction.atomic()):
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def isolated_data_dir():
    """Instead of tests/conftest.py's data dir per test: the world's, set above."""


def _build_world() -> dict[str, Any]:
    from secman import demo
    from secman.authority.models import ArbitrationCase, BoardDecision, SignOffRequest
    from secman.compliance import services as compliance
    from secman.compliance.models import Acceptance, Occurrence
    from secman.compliance.report import Period
    from secman.compliance.report import services as report_services
    from secman.documents import services as documents
    from secman.documents.models import Document
    from secman.eventlog import checkpoints
    from secman.eventlog.models import Checkpoint, Event
    from secman.people import services as people
    from secman.people.models import ListChangeProposal, Person
    from secman.physical.models import Computer, Facility, Media
    from secman.privileged.models import AccessRemoval, TerminationChecklist
    from secman.systems.models import ConfigurationChange, Flow, Patch
    from secman.visits.models import Device, Holding, Visit

    demo.load()
    people.create_person(actor=None, authority="SP 9.1.3", name="Nobody Inparticular",
                         email="nobody@example.org", username="nobody",
                         password="a password nobody guesses")
    by = {u: Person.objects.get(user__username=u) for u in ("samir", "ursula", "lena")}
    checkpoints.write_checkpoint()
    manual = Document.objects.get(kind="manual")
    section = next(s for s in manual.current.sections.order_by("sort_key")
                   if documents.may_edit(by["samir"], manual, s))
    draft = documents.save_draft(actor=by["samir"], document=manual, number=section.number,
                                 title=section.title or "A title", text="Changed text.")
    delegation = documents.delegate_editing(actor=by["samir"], team="systems_administration",
                                            person=by["lena"])
    feed, token = compliance.create_calendar_feed(actor=by["samir"])
    today = timezone.localdate()
    job = report_services.request_job(actor=by["ursula"], format="pdf",
                                      period=Period(today - dt.timedelta(days=30), today))
    occurrence = Occurrence.objects.filter(duty__control_id="logs.automated_review").first()
    return {
        "person": Person.objects.get(user__username="piet").pk,
        "team": "access", "list": "ssh_access",
        "proposal": ListChangeProposal.objects.filter(status="pending").first().pk,
        "decision": BoardDecision.objects.filter(confirmed_by=None).first().minute_id,
        # The demo's staffing decision, confirmed; its minute id carries a date relative to
        # today, so it is looked up rather than written here.
        "confirmed_decision": BoardDecision.objects.get(
            title="Staffing of the critical teams and Arbitration").minute_id,
        "in_a_year": f"{today + dt.timedelta(days=365):%Y-%m-%d}",
        "case": ArbitrationCase.objects.filter(status="running").first().number,
        "signoff": SignOffRequest.objects.filter(status="pending").first().pk,
        "event": Event.objects.order_by("-seq").first().seq,
        "checkpoint": Checkpoint.objects.first().pk,
        "draft": draft.pk, "delegation": delegation.pk,
        "document": manual.slug, "version": manual.current.label, "section": section.number,
        "computer": Computer.objects.first().pk, "medium": Media.objects.first().pk,
        "facility": Facility.objects.first().pk,
        "system": "webdb", "flow": Flow.objects.filter(status="requested").first().pk,
        "visit": Visit.objects.filter(status="requested").first().pk,
        "device": Device.objects.first().pk, "holding": Holding.objects.first().pk,
        "control": "logs.automated_review", "acceptance": Acceptance.objects.first().pk,
        "occurrence": occurrence.pk, "job": job.pk, "feed": feed.pk, "token": token,
        "patch": Patch.objects.get(emergency=True).pk,
        "change": ConfigurationChange.objects.first().pk,
        **_privileged_world(),
        **_backups_world(),
        **_incidents_world(),
        "removal": AccessRemoval.objects.first().pk,
        "checklist": TerminationChecklist.objects.filter(status="open").first().pk,
    }


def _privileged_world() -> dict[str, Any]:
    """The privileged-access rows of the demo (secman.privileged.demo_*)."""
    from secman.logs.models import Anomaly
    from secman.privileged.models import (
        Account,
        AdminOrigin,
        AuthenticationScheme,
        Secret,
        SecretHolder,
        SshKey,
        TemporaryGrant,
    )

    secret = Secret.objects.order_by("pk").first()
    return {"ssh_key": SshKey.objects.filter(blocked_at=None).first().pk,
            "account": Account.objects.filter(removed_at=None).first().pk,
            "origin": AdminOrigin.objects.filter(ended_at=None).first().pk,
            "scheme": AuthenticationScheme.objects.first().pk,
            "grant": TemporaryGrant.objects.filter(revoked_at=None).order_by("-ends_at")
            .first().pk,
            "secret": secret.pk,
            "secret_holder": SecretHolder.objects.filter(secret=secret, until=None).first().pk,
            "anomaly": Anomaly.objects.order_by("pk").first().pk}


def _incidents_world() -> dict[str, Any]:
    """The open incident of the demo (secman.incidents.demo) and its evidence; the
    finished exercise of secman.recovery.demo."""
    from secman.incidents.models import Evidence, Incident
    from secman.recovery.models import Exercise

    incident = Incident.objects.get(status="open")
    return {"incident": incident.pk,
            "evidence": Evidence.objects.filter(incident=incident).first().pk,
            "exercise": Exercise.objects.get().pk}


def _backups_world() -> dict[str, Any]:
    """The backups rows of the demo (secman.backups.demo)."""
    from secman.backups.models import (
        BackupJob,
        BackupSet,
        Examination,
        RetentionDecision,
        SealedEnvelope,
    )

    return {"backup_job": BackupJob.objects.order_by("pk").first().pk,
            # DR-webdb-2026-49, waiting for its second verifier: a verification started
            # again is refused by its lifecycle, whoever asks.
            "backup_set": BackupSet.objects.get(status="verifying").pk,
            "examination": Examination.objects.order_by("pk").first().pk,
            "envelope": SealedEnvelope.objects.order_by("pk").first().pk,
            "retention": RetentionDecision.objects.order_by("pk").first().pk}


# --- asking -----------------------------------------------------------------------------------


class NotAllowedSeen:
    """The refusals (NotAllowed) made while a request ran. Pages that show a refusal as a
    message after redirecting answer 302 either way: the message tells them apart. Only
    messages count, since predicates also make NotAllowed without raising it, to say why
    a button is not offered."""

    def __init__(self) -> None:
        self.made: list[errors.NotAllowed] = []
        self._original = errors.NotAllowed.__init__

    def __enter__(self) -> NotAllowedSeen:
        made, original = self.made, self._original

        def keeping(exc: Any, *args: Any, **kwargs: Any) -> None:
            original(exc, *args, **kwargs)
            made.append(exc)

        errors.NotAllowed.__init__ = keeping  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        errors.NotAllowed.__init__ = self._original  # type: ignore[method-assign]

    def shown(self, response: Any, method: str) -> bool:
        refusals = {str(exc) for exc in self.made}
        if method != "GET" and response.status_code == 200 and refusals:
            page = html.unescape(response.content.decode(errors="replace"))
            if any(text in page for text in refusals):  # core.views.perform's form error
                return True
        request = getattr(response, "wsgi_request", None)
        if request is None or not hasattr(request, "_messages"):
            return False
        return any(m.level == message_levels.ERROR and str(m) in refusals
                   for m in get_messages(request))


def outcome(client: Client, method: str, url: str,
            body: dict[str, str] | None = None) -> tuple[str, str]:
    """(outcome class, what was answered) for one request, rolled back after."""
    cookies = copy.deepcopy(client.cookies)  # a POST to /logout/ must not sign out the rest
    with NotAllowedSeen() as seen, transaction.atomic():
        send = getattr(client, method.lower())
        if method == "GET":
            response = send(url)
        elif url.startswith("/api/"):
            response = send(url, data=json.dumps(body or {}), content_type="application/json")
        else:
            response = send(url, data=body or {})
        transaction.set_rollback(True)
    client.cookies = cookies
    status = response.status_code
    location = response.get("Location", "")
    said = f"{status} {location}".strip()
    if status == 401 or (status in (301, 302) and location.startswith("/login/")):
        return LOGIN, said
    if status == 403:
        return REFUSED, said
    if seen.shown(response, method):
        return REFUSED, said + " with the refusal as a message"
    if status == 404:
        return NOT_FOUND, said
    if status == 405:
        return METHOD, said
    if status in (301, 302):
        return (REDIRECT if method == "GET" else ALLOWED), said
    if status < 500:
        return ALLOWED, said
    return f"server error {status}", said


def client_for(subject: str) -> Client:
    client = Client(raise_request_exception=False)
    login = SUBJECTS[subject]
    if login is not None:
        client.force_login(User.objects.get(username=login))
    return client


@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_each_kind_of_person_meets_the_declared_outcome_everywhere(world, db, subject):
    client = client_for(subject)
    wrong, observed = [], []
    for key, entry in TABLE.items():
        url = entry.url.format(**world)
        assert route_key(resolve(url.split("?")[0]).route) == key, (key, url)
        for method, rule in entry.methods.items():
            body = {k: v.format(**world) for k, v in entry.body.items()}
            got, said = outcome(client, method, url, body if method != "GET" else None)
            observed.append(f"{key!r:60} {method:5} {subject:22} {got:10} {said}")
            if got != rule[subject]:
                wrong.append(f"{method} {url} as {subject}: expected {rule[subject]}, "
                             f"got {got} ({said})")
    if os.environ.get("AUTHZ_OBSERVED"):
        print("\n".join(observed))
        return
    assert not wrong, f"{len(wrong)} rows differ from the table:\n" + "\n".join(wrong)


def test_route_keys_read_like_paths():
    assert route_key("api/^people/(?P<pk>[^/.]+)/$") == "api/people/<pk>/"
    assert route_key("people/<int:pk>/edit/") == "people/<int:pk>/edit/"
    assert re.fullmatch(r"[\w./<>:-]*", route_key("events/checkpoints/<int:pk>.txt"))
