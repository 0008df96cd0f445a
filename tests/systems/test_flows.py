"""Flows (SM 3.1.2; SP 3.1.1.1, 3.1.1.2): every rule broken once (the refusal writes
nothing) and followed once.

Test                                                          Section
-----------------------------------------------------------------------------------------
test_flows_are_requested_by_systems_administrators             SM 3.1.2
test_a_flow_documents_ports_peer_and_purpose                   SM 3.1.2
test_only_the_team_leader_decides_and_never_his_own_request    SP 3.1.1.2
test_a_request_takes_effect_only_when_approved                 SP 3.1.1.2
test_a_refusal_says_why_and_a_decided_flow_is_not_decided_again SP 3.1.1.2
test_a_peer_naming_a_system_links_it                           SM 3.1.2
test_a_temporary_access_is_mailed_to_the_team_and_ends         SP 3.1.1.1
test_a_request_waiting_too_long_is_a_finding                   SP 3.1.1.2
test_a_flow_ends_or_a_request_is_withdrawn_with_a_reason       SM 3.1.2
test_hostile_flow_input_is_refused_or_stored_cleanly           (bad input)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.systems import controls, selectors, services
from secman.systems.models import Flow, System
from tests.refusals import actions_since, entries_since, last_seq, refused

pytestmark = pytest.mark.django_db
TABLES = (System, Flow)


def no_change(exc_type, match, section=None):
    return refused(exc_type, match, *TABLES, section=section)


@pytest.fixture
def web(org):
    return services.add_system(actor=org.sue, name="web", kind="physical",
                               status="in_service", authority="SP 3.2.2")


def https(org, web, actor=None, **fields):
    values = {"direction": "ingress", "port": 443, "service": "https", "peer": "ANY",
              "purpose": "the web site", **fields}
    return services.request_flow(actor=actor or org.sue, system=web, **values)


def test_flows_are_requested_by_systems_administrators(org, web):
    for outsider in (org.bea, org.aud, org.axel, org.admin):
        with no_change(NotAllowed, "Systems Administrators"):
            https(org, web, actor=outsider)
    seq = last_seq()
    flow = https(org, web)
    assert (flow.status, flow.requested_by, flow.peer) == ("requested", org.sue, "ANY")
    [entry] = entries_since(seq)
    assert (entry.action, entry.authority) == ("systems.flow.request", "SP 3.1.1.2")
    assert entry.details["port"] == "443/tcp"


def test_a_flow_documents_ports_peer_and_purpose(org, web):
    for fields, match in (
        ({"port": 0}, "from 1 to 65535"),
        ({"port": 70000}, "from 1 to 65535"),
        ({"port": 2000, "port_end": 1999}, "range ends"),
        ({"port": None, "port_end": 80}, "starts with a port"),
        ({"protocol": "icmp"}, "ICMP has no ports"),
        ({"protocol": "sctp"}, "protocol must be"),
        ({"direction": "sideways"}, "direction must be"),
        ({"purpose": "  "}, "purpose"),
        ({"peer": ""}, "origin"),
        ({"peer": "not a host!"}, "neither ANY"),
        ({"peer": "web"}, "another"),
    ):
        with no_change(RuleViolation, match):
            https(org, web, **fields)
    https(org, web)
    with no_change(RuleViolation, "already requested", section="SM 3.1.2"):
        https(org, web, purpose="the same again")
    ranged = https(org, web, direction="egress", port=2000, port_end=2010,
                   peer="192.0.2.0/28", purpose="signer")
    ping = https(org, web, direction="egress", protocol="icmp", port=None,
                 peer="2001:db8::1", purpose="monitoring")
    assert (ranged.port_label, ping.port_label, ping.peer) == (
        "2000-2010/tcp", "any/icmp", "2001:db8::1")


def test_only_the_team_leader_decides_and_never_his_own_request(org, web):
    flow = https(org, web)
    for not_leader in (org.sue, org.sid, org.bea, org.axel, org.admin):
        with no_change(NotAllowed, "team leader", section="SP 3.1.1.2"):
            services.decide_flow(actor=not_leader, flow=flow, approve=True)
    with no_change(NotAllowed, "team leader"):
        services.decide_flow(actor=None, flow=flow, approve=True)
    own = https(org, web, actor=org.sam, port=80, purpose="redirect")
    with no_change(NotAllowed, "requested a flow does not decide it", section="SP 3.1.1.2"):
        services.decide_flow(actor=org.sam, flow=own, approve=True)


def test_a_request_takes_effect_only_when_approved(org, web):
    flow = https(org, web)
    assert list(selectors.flows_in_effect(web)) == []
    seq = last_seq()
    flow = services.decide_flow(actor=org.sam, flow=flow, approve=True)
    assert (flow.status, flow.decided_by) == ("approved", org.sam)
    assert list(selectors.flows_in_effect(web)) == [flow]
    [entry] = entries_since(seq)
    assert entry.action == "systems.flow.approve" and entry.actor == org.sam
    assert entry.details["before"] == {"status": "requested"}
    assert entry.details["after"] == {"status": "approved"}


def test_a_refusal_says_why_and_a_decided_flow_is_not_decided_again(org, web):
    flow = https(org, web)
    with no_change(RuleViolation, "say why"):
        services.decide_flow(actor=org.sam, flow=flow, approve=False)
    flow = services.decide_flow(actor=org.sam, flow=flow, approve=False,
                                reason="use the reverse proxy")
    assert (flow.status, flow.reason) == ("refused", "use the reverse proxy")
    with no_change(RuleViolation, "is refused"):
        services.decide_flow(actor=org.sam, flow=flow, approve=True)
    assert list(selectors.flows_in_effect(web)) == []


def test_a_peer_naming_a_system_links_it(org, web):
    db = services.add_system(actor=org.sue, name="db", kind="physical", authority="SP 3.2.2")
    flow = https(org, web, direction="egress", port=5432, service="postgresql", peer="DB",
                 purpose="database")
    assert (flow.peer, flow.peer_system) == ("db", db)


def test_a_temporary_access_is_mailed_to_the_team_and_ends(
        org, web, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = ""
    with no_change(RuleViolation, "ends in the future", section="SP 3.1.1.1"):
        https(org, web, direction="egress", peer="deb.debian.org",
              temporary_until=timezone.now() - dt.timedelta(minutes=1))
    until = timezone.now() + dt.timedelta(hours=4)
    with django_capture_on_commit_callbacks(execute=True):
        flow = https(org, web, direction="egress", peer="deb.debian.org",
                     purpose="upgrade to 12.8", temporary_until=until)
        flow = services.decide_flow(actor=org.sam, flow=flow, approve=True)
    assert len(smtp.messages) == 2
    team = sorted(f"{login}@example.org" for login in ("sam", "sid", "sue"))
    for recipients, message in smtp.messages:
        assert sorted(recipients) == team
        body = message.get_payload()
        assert "deb.debian.org" in body and "upgrade to 12.8" in body
    assert smtp.messages[0][1]["Subject"].startswith("[secman] Temporary access requested")
    assert smtp.messages[1][1]["Subject"].startswith("[secman] Temporary access granted on web")
    assert list(selectors.flows_in_effect(web)) == [flow]
    assert controls.temporary_access_ended() == []
    # Its end passes: no longer in effect, and a finding until someone ends it.
    Flow.objects.filter(pk=flow.pk).update(temporary_until=timezone.now()
                                           - dt.timedelta(minutes=1))
    assert list(selectors.flows_in_effect(web)) == []
    [finding] = controls.temporary_access_ended()
    assert (finding.section, finding.url) == ("SP 3.1.1.1", web.get_absolute_url())
    services.end_flow(actor=org.sid, flow=flow, reason="upgrade done")
    assert controls.temporary_access_ended() == []
    # A permanent flow is not mailed.
    with django_capture_on_commit_callbacks(execute=True):
        https(org, web)
    assert len(smtp.messages) == 2


def test_a_request_waiting_too_long_is_a_finding(org, web):
    flow = https(org, web)
    assert controls.requests_decided() == []
    Flow.objects.filter(pk=flow.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=selectors.REQUEST_WAIT_DAYS + 1))
    [finding] = controls.requests_decided()
    assert (finding.section, finding.url) == ("SP 3.1.1.2", web.get_absolute_url())
    services.decide_flow(actor=org.sam, flow=flow, approve=True)
    assert controls.requests_decided() == []


def test_a_flow_ends_or_a_request_is_withdrawn_with_a_reason(org, web):
    flow = https(org, web)
    with no_change(RuleViolation, "say why the flow ends"):
        services.end_flow(actor=org.sid, flow=flow, reason="")
    with no_change(NotAllowed, "Systems Administrators"):
        services.end_flow(actor=org.aud, flow=flow, reason="audit says so")
    seq = last_seq()
    services.end_flow(actor=org.sue, flow=flow, reason="not needed after all")
    approved = services.decide_flow(actor=org.sam, flow=https(org, web, port=8443,
                                                               purpose="admin"),
                                    approve=True)
    services.end_flow(actor=org.sid, flow=approved, reason="moved behind the VPN")
    assert actions_since(seq) == ["systems.flow.withdraw", "systems.flow.request",
                                  "systems.flow.approve", "systems.flow.end"]
    with no_change(RuleViolation, "is ended"):
        services.end_flow(actor=org.sid, flow=approved, reason="again")


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(peer=st.text(max_size=120), port=st.one_of(st.none(), st.integers(-5, 70000)),
       purpose=st.text(max_size=400), service=st.text(max_size=80))
def test_hostile_flow_input_is_refused_or_stored_cleanly(org, web, peer, port, purpose,
                                                          service):
    try:
        flow = services.request_flow(actor=org.sue, system=web, direction="ingress",
                                     port=port, peer=peer, purpose=purpose, service=service)
    except RuleViolation:
        return
    assert flow.purpose == purpose.strip() and 1 <= (flow.port or 1) <= 65535
    Flow.objects.filter(pk=flow.pk).delete()
