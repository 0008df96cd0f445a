"""Agent tokens and reports in-process (systems.agents): tokens shown once and kept as a
hash, one live per system; hostile reports refused whole with nothing written."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed
from secman.eventlog.models import Event
from secman.systems import agents
from secman.systems.models import AgentReport, AgentToken, System

pytestmark = pytest.mark.django_db


def make_system(name: str = "web") -> System:
    return System.objects.create(name=name, kind="vm", purpose="test")


def report(system: str = "web", **facts) -> bytes:
    body = {"agent_version": "1", "system": system, "hostname": system,
            "collected_at": "2026-12-03T10:00:00+00:00", "unavailable": {},
            "listening": [{"protocol": "tcp", "address": "0.0.0.0", "port": 443,
                           "process": "nginx"}]}
    body.update(facts)
    return json.dumps(body).encode()


def test_a_token_is_shown_once_and_kept_as_its_hash(org):
    system = make_system()
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    stored = AgentToken.objects.get(system=system)
    assert token.startswith("sma_") and len(token) > 40
    assert stored.token_hash == agents.hash_token(token) and token not in stored.token_hash
    assert stored.prefix == token[:12]
    entry = Event.objects.get(action="systems.agent.token_issue")
    assert token not in json.dumps(entry.details) and entry.details["prefix"] == stored.prefix


def test_a_new_token_revokes_the_old_one(org):
    system = make_system()
    first = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    second = agents.issue_token(actor=org.sue, system=system, authority="SP 3.2.2")
    assert AgentToken.objects.filter(system=system, revoked_at__isnull=True).count() == 1
    with pytest.raises(agents.ReportRefused) as refused:
        agents.receive_report(first, report())
    assert refused.value.status == 403 and first not in str(refused.value)
    assert agents.receive_report(second, report()).system == system


def test_only_systems_administrators_manage_tokens(org):
    system = make_system()
    for outsider in (org.pia, org.aud, org.bea):
        with pytest.raises(NotAllowed):
            agents.issue_token(actor=outsider, system=system, authority="SP 3.2.2")
    assert not AgentToken.objects.exists()


def test_revoked_token_is_refused(org):
    system = make_system()
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    agents.revoke_token(actor=org.sam, system=system, authority="SP 3.2.2")
    with pytest.raises(agents.ReportRefused) as refused:
        agents.receive_report(token, report())
    assert refused.value.status == 403 and "revoked" in str(refused.value)


def hostile_cases(token: str, other: str) -> list[tuple[str, str, bytes, int, str]]:
    deep = b"[" * 5000 + b"]" * 5000
    nested = json.loads(report())
    nested["ruleset"] = json.loads("[" * 40 + "]" * 40)
    return [
        ("unknown token", "sma_" + "x" * 43, report(), 401, "not known"),
        ("no token", "", report(), 401, "Bearer"),
        ("another system's token", other, report("web"), 403, "is db's"),
        ("forged system name", token, report("db"), 403, "is web's"),
        ("oversized", token, report(packages=[["p" * 100, "1"]] * 20000), 413, "KB"),
        ("malformed JSON", token, b'{"system": "web",', 400, "not JSON"),
        ("invalid UTF-8", token, b'{"system": "w\xffeb"}', 400, "not UTF-8"),
        ("deeply nested", token, deep, 400, "deeper"),
        ("nested in a free part", token, json.dumps(nested).encode(), 400, "deeper"),
        ("not an object", token, b"[1, 2]", 400, "object"),
        ("unknown key", token, report(extra=1), 400, "unknown keys: extra"),
        ("wrong type", token, report(listening=[{"protocol": "tcp", "address": "x",
                                                  "port": "80", "process": ""}]),
         400, "report.listening[0].port must be a whole number"),
        ("NUL character", token, report(hostname="a\u0000b"), 400, "NUL"),
        ("lone surrogate", token, b'{"agent_version": "1", "system": "web", '
                                  b'"collected_at": "2026-12-03T10:00:00+00:00", '
                                  b'"hostname": "\\ud800"}', 400, "surrogate"),
        ("NaN", token, report(listening=[]).replace(b'"listening": []',
                                                    b'"block_devices": NaN'), 400, "NaN"),
        ("no time zone", token, report(collected_at="2026-12-03T10:00:00"), 400,
         "collected_at"),
    ]


def test_hostile_reports_are_refused_and_write_nothing(org):
    web, db = make_system("web"), make_system("db")
    token = agents.issue_token(actor=org.sam, system=web, authority="SP 3.2.2")
    other = agents.issue_token(actor=org.sam, system=db, authority="SP 3.2.2")
    events = Event.objects.count()
    for case, credential, body, status, words in hostile_cases(token, other):
        with pytest.raises(agents.ReportRefused) as refused:
            agents.receive_report(credential, body)
        assert refused.value.status == status, case
        assert words in str(refused.value), (case, str(refused.value))
        assert token not in str(refused.value) and other not in str(refused.value), case
    assert not AgentReport.objects.exists()
    assert Event.objects.count() == events
    assert AgentToken.objects.filter(last_used_at__isnull=False).count() == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=20)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode())
       | st.dictionaries(st.sampled_from(sorted(agents.SHAPE)), JSON_VALUES).map(
           lambda d: json.dumps({**d, "system": "web"}).encode()))
def test_any_body_is_stored_or_refused_with_a_status(org, body):
    system = System.objects.filter(name="web").first() or make_system()
    # A fresh token each example (issuing revokes the previous one).
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    before = AgentReport.objects.count()
    try:
        agents.receive_report(token, body)
    except agents.ReportRefused as refused:
        assert refused.status in (400, 403, 413)
        assert refused.message.strip()
        assert AgentReport.objects.count() == before
    else:
        assert AgentReport.objects.count() == before + 1


def test_a_report_is_kept_with_its_hash_and_no_event_of_its_own(org):
    system = make_system()
    system.flows.create(direction="ingress", protocol="tcp", port=443, status="approved")
    token = agents.issue_token(actor=org.sam, system=system, authority="SP 3.2.2")
    newest = Event.objects.order_by("-seq").first().seq
    body = report()
    stored = agents.receive_report(token, body)
    assert stored.size == len(body) and stored.facts["system"] == "web"
    assert stored.derived["exposed"] == [["tcp", 443, "0.0.0.0", "nginx"]]
    # 443 is documented; the report carries no secman ruleset, so the one entry is the
    # drift appearing (the ruleset is not loaded), not the report.
    written = list(Event.objects.filter(seq__gt=newest).values_list("action", flat=True))
    assert written == ["systems.agent.drift"]
    assert AgentToken.objects.get(system=system).last_used_at == stored.received_at
    # The same report again: the drift is unchanged, and a report is no entry of its own.
    agents.receive_report(token, report())
    assert Event.objects.filter(seq__gt=newest).count() == 1


def test_pages_issue_once_revoke_and_download(org, client):
    system = make_system()
    client.force_login(org.sam.user)
    issued = client.post(f"/systems/hosts/{system.name}/agent/token/",
                         {"authority": "SP 3.2.2"})
    assert issued.status_code == 200 and "no-store" in issued["Cache-Control"]
    live = AgentToken.objects.get(system=system, revoked_at__isnull=True)
    token = next(word.strip("'") for word in issued.content.decode().split()
                 if word.strip("'").startswith(live.prefix))
    assert agents.hash_token(token) == live.token_hash
    panel = client.get(f"/systems/hosts/{system.name}/agent/").content.decode()
    assert live.prefix in panel and token not in panel
    client.post(f"/systems/hosts/{system.name}/agent/revoke/", {"authority": "SP 3.2.2"})
    assert not AgentToken.objects.filter(system=system, revoked_at__isnull=True).exists()
    script = client.get("/systems/agent/secman-agent")
    assert script["Content-Type"] == "text/x-python"
    assert script["Content-Disposition"] == 'attachment; filename="secman-agent"'
    assert b"def main(" in b"".join(script.streaming_content)
    client.force_login(org.pia.user)
    assert client.get(f"/systems/hosts/{system.name}/agent/").status_code == 403
    assert client.post(f"/systems/hosts/{system.name}/agent/token/",
                       {"authority": "SP 3.2.2"}).status_code == 403
