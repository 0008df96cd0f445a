"""Firewall rules from the register (SM 3.1.2): the generated nftables ruleset, checked by
the real nft, loaded into a real network namespace, and compared with what nft lists."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.systems import firewall
from tests.systems.test_firewall_support import (
    hours,
    in_ns,
    make_flow,
    make_system,
    namespace,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def webdb():
    """A web and database server with the flows CAcert's infradocs document for such a
    machine, plus a hop host that administers it."""
    hop = make_system("hop", "10.0.0.5", "2001:db8::5")
    web = make_system("webdb", "10.0.0.10", "2001:db8::10")
    make_flow(web, "ingress", 443, "ANY", purpose="HTTPS for everybody")
    make_flow(web, "ingress", 22, "hop", peer_system=hop, purpose="admin console")
    make_flow(web, "ingress", 5432, "local", purpose="database for the web application")
    make_flow(web, "ingress", 60000, "10.1.0.0/16", protocol="udp", port_end=61000,
              purpose="mosh from the intranet")
    make_flow(web, "ingress", None, "10.0.0.0/24", protocol="icmp", purpose="monitoring ping")
    make_flow(web, "egress", 53, "2001:db8::53", protocol="udp", purpose="DNS resolver")
    make_flow(web, "egress", 25, "10.0.0.25", purpose="mail relay")
    make_flow(web, "egress", None, "10.0.0.26", purpose="backups to anywhere on the host")
    return web


def listed(ns: str) -> dict:
    return json.loads(in_ns(ns, "nft", "-j", "list", "ruleset").stdout)


def load(ns: str, text: str, tmp_path) -> None:
    path = tmp_path / "ruleset.nft"
    path.write_text(text)
    in_ns(ns, "nft", "-f", str(path))


def test_the_ruleset_allows_each_flow_in_effect_by_a_rule_naming_it(webdb):
    text, warnings = firewall.generate(webdb)
    assert warnings == []
    assert "table inet secman {" in text and "delete table inet secman" in text
    assert text.count("policy drop;") == 3
    for flow in webdb.flows.all():
        assert f'comment "flow {flow.pk}: {flow.purpose}"' in text
    assert 'ip saddr 10.0.0.5 tcp dport 22 accept' in text
    assert 'ip6 saddr 2001:db8::5 tcp dport 22 accept' in text
    assert 'iifname "lo" tcp dport 5432 accept' in text
    assert 'ip saddr 10.1.0.0/16 udp dport 60000-61000 accept' in text
    assert 'ip6 daddr 2001:db8::53 udp dport 53 accept' in text
    assert 'ip daddr 10.0.0.26 meta l4proto tcp accept' in text
    assert 'counter log prefix "secman-drop-in " drop' in text
    assert 'counter log prefix "secman-drop-out " drop' in text


def test_nft_accepts_the_generated_ruleset(webdb):
    assert firewall.check(firewall.ruleset(webdb)) == []


def test_nft_errors_come_back_as_messages_naming_the_line():
    errors = firewall.check("table inet secman {\n chain input {\n  tcp dport nonsense-port "
                            "accept\n }\n}\n")
    assert errors and all("line 3" in e for e in errors), errors


def test_flows_not_in_effect_are_not_allowed(webdb):
    requested = make_flow(webdb, "ingress", 8080, "ANY", status="requested", purpose="wanted")
    expired = make_flow(webdb, "ingress", 8081, "ANY", purpose="temporary debugging",
                        temporary_until=timezone.now() - hours(1))
    running = make_flow(webdb, "ingress", 8082, "ANY", purpose="temporary vendor access",
                        temporary_until=timezone.now() + hours(1))
    ended = make_flow(webdb, "ingress", 8083, "ANY", status="ended", purpose="old")
    text = firewall.ruleset(webdb)
    for gone in (requested, expired, ended):
        assert f"flow {gone.pk}:" not in text
    # SP 3.1.1.1: a temporary access is logged while it lasts, and says until when.
    until = f"{timezone.localtime(running.temporary_until):%Y-%m-%d %H:%M}"
    assert (f'tcp dport 8082 log prefix "secman-temporary " accept comment "flow {running.pk} '
            f'until {until}: temporary vendor access"') in text
    assert firewall.check(text) == []


def test_unresolvable_peers_are_not_allowed_and_are_reported(webdb):
    lonely = make_system("lonely")
    nameless = make_flow(webdb, "ingress", 9000, "some-host-not-registered", purpose="legacy")
    make_flow(webdb, "egress", 9001, "lonely", peer_system=lonely, purpose="sync")
    text, warnings = firewall.generate(webdb)
    assert len(warnings) == 2
    assert f"flow {nameless.pk}: legacy" in warnings[0] + warnings[1]
    assert any("lonely has no addresses" in w for w in warnings)
    header = text.split("\ntable inet secman\n", 1)[0]
    assert "NOT allowed" in header and "some-host-not-registered" in header
    assert "dport 9000" not in text and "dport 9001" not in text
    assert firewall.check(text) == []


def test_hostile_names_cannot_break_out_of_a_comment(webdb):
    make_flow(webdb, "ingress", 7000, "ANY",
              purpose='x" accept\n}\ntable ip evil { chain c { type filter hook input '
                      'priority 0; policy accept; } } # \\')
    make_flow(webdb, "egress", 7001, "bad\nname ; flush ruleset", purpose="é ünïcode")
    text, warnings = firewall.generate(webdb)
    assert not re.search(r"^\s*table ip evil", text, re.M)
    assert not re.search(r"^\s*flush ruleset", text, re.M)
    assert firewall.check(text) == []
    assert warnings and "flush ruleset" in warnings[0]


def test_a_loaded_ruleset_agrees_with_the_register_and_a_change_is_found(webdb, tmp_path):
    make_flow(webdb, "ingress", 8443, "192.0.2.7", purpose="vendor support",
              temporary_until=timezone.now() + hours(2))
    with namespace() as ns:
        load(ns, firewall.ruleset(webdb), tmp_path)
        assert firewall.ruleset_differences(webdb, listed(ns)) == []
        # Loading it again replaces the table (no duplicate rules).
        load(ns, firewall.ruleset(webdb), tmp_path)
        assert firewall.ruleset_differences(webdb, listed(ns)) == []

        ssh = webdb.flows.get(port=22)
        in_ns(ns, "nft", "insert", "rule", "inet", "secman", "input", "tcp", "dport", "8080",
              "accept")
        rules = listed(ns)["nftables"]
        handle = next(r["rule"]["handle"] for r in rules if "rule" in r
                      and r["rule"].get("comment", "").startswith(f"flow {ssh.pk}:")
                      and "10.0.0.5" in json.dumps(r))
        in_ns(ns, "nft", "delete", "rule", "inet", "secman", "input", "handle", str(handle))
        in_ns(ns, "nft", "chain", "inet", "secman", "output", "{", "policy", "accept", ";",
              "}")
        found = firewall.ruleset_differences(webdb, listed(ns))
        assert sorted(found) == sorted([
            "allows 8080/tcp from ANY that no flow documents (rule: rule "
            + str(_handle_of(listed(ns), "8080")) + ")",
            f"does not allow 22/tcp from 10.0.0.5 (flow {ssh.pk}: admin console)",
            "default policy of output is accept",
        ]), found


def _handle_of(document: dict, port: str) -> int:
    return next(r["rule"]["handle"] for r in document["nftables"] if "rule" in r
                and f'"right": {port}' in json.dumps(r))


def test_a_host_without_the_table_or_with_a_changed_register_differs(webdb, tmp_path):
    assert firewall.ruleset_differences(webdb, {"nftables": []}) == [
        "the generated rules are not loaded: no table inet secman in the host's ruleset"]
    with namespace() as ns:
        load(ns, firewall.ruleset(webdb), tmp_path)
        new = make_flow(webdb, "egress", 873, "10.0.0.40", purpose="rsync mirror")
        assert firewall.ruleset_differences(webdb, listed(ns)) == [
            f"does not allow 873/tcp to 10.0.0.40 (flow {new.pk}: rsync mirror)"]
        new.status = "ended"
        new.save()
        in_ns(ns, "nft", "delete", "rule", "inet", "secman", "input", "handle",
              str(_log_rule(listed(ns), "input")))
        assert firewall.ruleset_differences(webdb, listed(ns)) == [
            'does not log and drop undocumented traffic in input (prefix "secman-drop-in")']


def _log_rule(document: dict, chain: str) -> int:
    return next(r["rule"]["handle"] for r in document["nftables"] if "rule" in r
                and r["rule"]["chain"] == chain and "log" in json.dumps(r))


def test_rules_secman_cannot_read_are_reported_not_ignored(webdb, tmp_path):
    with namespace() as ns:
        load(ns, firewall.ruleset(webdb), tmp_path)
        in_ns(ns, "nft", "add", "rule", "inet", "secman", "input", "meta", "mark", "42",
              "accept", "comment", '"backdoor"')
        found = firewall.ruleset_differences(webdb, listed(ns))
    assert len(found) == 1 and "cannot read" in found[0] and "backdoor" in found[0], found


def test_a_drop_rule_ahead_of_a_flow_is_reported(webdb, tmp_path):
    with namespace() as ns:
        load(ns, firewall.ruleset(webdb), tmp_path)
        in_ns(ns, "nft", "insert", "rule", "inet", "secman", "input", "tcp", "dport", "443",
              "drop", "comment", '"blocks https"')
        found = firewall.ruleset_differences(webdb, listed(ns))
    assert found == ["drops traffic by a rule secman did not generate (it may block a "
                     "documented flow): input: blocks https"]


# --- hostile input: an agent's report is not trusted ------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=12)
    | st.sampled_from(["inet", "secman", "input", "output", "forward", "accept", "drop",
                       "10.0.0.5", "::1", "tcp", "dport", "saddr", "lo"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["nftables", "table", "chain", "rule", "family", "name", "table",
                         "hook", "policy", "expr", "match", "left", "right", "op", "payload",
                         "protocol", "field", "meta", "key", "set", "prefix", "range",
                         "accept", "drop", "log", "counter", "comment", "handle", "ct"]),
        inner, max_size=5),
    max_leaves=25)


def _with_our_table(items: list) -> dict:
    return {"nftables": [{"table": {"family": "inet", "name": "secman"}},
                         {"chain": {"family": "inet", "table": "secman", "name": "input",
                                    "hook": "input", "policy": "drop"}}, *items]}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values, items=st.lists(json_values, max_size=4))
def test_any_json_gives_sentences_never_an_error(webdb, document, items):
    for candidate in (document, _with_our_table(items), _with_our_table(
            [{"rule": {"family": "inet", "table": "secman", "chain": "input", "expr": items}}])):
        found = firewall.ruleset_differences(webdb, candidate)
        assert found and all(isinstance(line, str) and line for line in found)


# Text a row can hold on both databases (no NUL, no lone surrogate; the services refuse
# control characters before anything is stored).
STORABLE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(peer=st.text(STORABLE, max_size=60), purpose=st.text(STORABLE, max_size=300))
def test_any_register_text_gives_a_ruleset_nft_accepts(webdb, peer, purpose):
    flow = make_flow(webdb, "ingress", 4000, peer, purpose=purpose)
    try:
        text, _ = firewall.generate(webdb)
        assert firewall.check(text) == [], text
        assert all(line.startswith(("#", "\t", "table", "delete", "}")) or not line
                   for line in text.splitlines())
    finally:
        flow.delete()
