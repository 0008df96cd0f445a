"""The network diagram (SP 3.1.1): drawn from the register by the real Graphviz, a
revision only when the drawing changes (with its Event Log entry), the control that
finds a diagram older than an approved change, its pages and the command line."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.cli import main
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.systems import diagram
from secman.systems.controls import CONTROLS, diagram_up_to_date
from secman.systems.models import DiagramRevision, Flow
from tests.systems.test_firewall_support import make_flow, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    host = make_system("infra02", "213.154.225.230", kind="physical", network="internet")
    web = make_system("webdb", "10.0.0.10", host=host, criticality="critical")
    hop = make_system("hop", "10.0.0.5", host=host)
    make_system("intranet-box", "172.16.0.3", network="intranet")
    make_flow(web, "ingress", 443, "ANY", purpose="https")
    make_flow(web, "ingress", 22, "hop", peer_system=hop, purpose="admin")
    make_flow(web, "egress", 25, "192.0.2.25", purpose="mail relay")
    make_flow(web, "ingress", 8443, "ANY", status="requested", purpose="not yet approved")
    return {"host": host, "web": web, "hop": hop}


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_drawing_shows_networks_hosts_flows_and_critical_systems(register):
    dot = diagram.dot_source()
    # The host's cluster holds its guests, inside the network cluster it faces.
    host_cluster = dot.index(f"cluster_host_{register['host'].pk}")
    assert dot.index("cluster_internet") < host_cluster < dot.index(f"s{register['web'].pk} [")
    assert "cluster_intranet" in dot
    assert 'color="#b00020"' in dot.split(f"s{register['web'].pk} [", 1)[1].split("\n")[0]
    assert f'internet -> s{register["web"].pk} [label="443/tcp"]' in dot
    assert f's{register["hop"].pk} -> s{register["web"].pk} [label="22/tcp"]' in dot
    assert "8443" not in dot  # requested, not in effect
    texts = svg_texts(diagram.render_svg(dot))
    for expected in ("webdb", "critical", "hop", "Internet", "443/tcp", "22/tcp", "25/tcp",
                     "192.0.2.25", "Internet-facing", "Intranet", "host infra02"):
        assert expected in texts, expected


def test_hostile_names_stay_text_in_the_dot_and_the_svg():
    hostile = 'evil"];\nx -> y [URL="javascript:alert(1)'
    system = make_system("web2", "10.0.0.20")
    make_flow(system, "egress", 80, hostile, purpose="x")
    make_flow(system, "egress", 81, "<script>alert(1)</script>\\N", purpose="y")
    dot = diagram.dot_source()
    # The name stays inside its label: no statement of its own, no edge between x and y.
    assert not re.search(r"^\s*x -> y", dot, re.M)
    assert len(re.findall(r" -> ", dot)) == 3  # two edges, and the text inside a label
    svg = diagram.render_svg(dot)
    assert "<script" not in svg and "href" not in svg
    texts = svg_texts(svg)
    assert any("<script>alert(1)</script>\\N" in t for t in texts), texts


def test_a_revision_is_kept_only_when_the_drawing_changes(org, register):
    first = diagram.draw_if_changed(actor=org.sam, reason="first drawing")
    assert first is not None and first.number == 1
    assert first.digest == diagram.digest_of(first.dot) and "<svg" in first.svg
    entry = Event.objects.get(action="systems.diagram.revise")
    assert entry.actor_id == org.sam.pk and entry.details["number"] == 1
    assert entry.authority == "SP 3.1.1"

    assert diagram.draw_if_changed(actor=org.sam, reason="nothing new") is None
    assert DiagramRevision.objects.count() == 1
    assert Event.objects.filter(action="systems.diagram.revise").count() == 1

    make_flow(register["hop"], "egress", 873, "10.0.0.10", purpose="rsync")
    second = diagram.draw_if_changed(actor=org.sam, reason="flow approved: rsync")
    assert second is not None and second.number == 2 and second.digest != first.digest
    assert "873/tcp" in second.dot and "873/tcp" not in first.dot
    assert Event.objects.filter(action="systems.diagram.revise").count() == 2


@pytest.mark.parametrize("who, reason, refusal", [
    ("aud", "looked at it", NotAllowed), ("pim", "looked at it", NotAllowed),
    ("pia", "looked at it", NotAllowed),
    ("sam", "", RuleViolation), ("sam", "two\nlines", RuleViolation),
])
def test_a_refused_drawing_writes_nothing(org, register, who, reason, refusal):
    with pytest.raises(refusal):
        diagram.draw_if_changed(actor=org.people[who], reason=reason)
    assert not DiagramRevision.objects.exists() and not Event.objects.filter(
        action="systems.diagram.revise").exists()


def test_the_control_finds_a_diagram_older_than_an_approved_change(org, register):
    control = next(c for c in CONTROLS if c.id == "systems.diagram_current")
    assert control.sections == ("SP 3.1.1",)
    [missing] = diagram_up_to_date()
    assert "no network diagram" in missing.message

    diagram.draw_if_changed(actor=org.sam, reason="first")
    assert diagram_up_to_date() == []

    later = timezone.now() + dt.timedelta(seconds=1)
    flow = make_flow(register["web"], "ingress", 993, "ANY", purpose="imaps",
                     decided_at=later)
    [stale] = diagram_up_to_date()
    assert stale.section == "SP 3.1.1" and f"flow {flow.pk}" in stale.message
    assert "r1" in stale.message and stale.url == "/systems/network/"

    diagram.draw_if_changed(actor=org.sam, reason="imaps approved")
    assert diagram_up_to_date() == []


def test_a_change_that_draws_nothing_new_is_no_finding(org, register):
    diagram.draw_if_changed(actor=org.sam, reason="first")
    # The same port again from another documented source: the edge's label is the same.
    Flow.objects.filter(port=443).update(decided_at=timezone.now() + dt.timedelta(seconds=1))
    assert diagram_up_to_date() == []


# --- pages -----------------------------------------------------------------------------------


def test_the_page_shows_the_current_revision_to_the_registers_readers(client, org, register):
    revision = diagram.draw_if_changed(actor=org.sam, reason="first <b>drawing</b>")
    assert revision is not None
    for login in ("sam", "sue", "aud", "bea"):
        client.force_login(org.people[login].user)
        page = client.get("/systems/network/")
        assert page.status_code == 200, login
        body = page.content.decode()
        assert '<img src="/systems/network/r1.svg"' in body
        assert "first &lt;b&gt;drawing&lt;/b&gt;" in body  # escaped
        assert "/systems/network/r1.dot" in body
    client.force_login(org.pim.user)  # a Support Engineer
    assert client.get("/systems/network/").status_code == 403
    assert client.get("/systems/network/r1.svg").status_code == 403
    assert client.get("/systems/network/r1.dot").status_code == 403


def test_the_svg_is_served_as_an_image_that_runs_nothing(client, org, register):
    diagram.draw_if_changed(actor=org.sam, reason="first")
    client.force_login(org.aud.user)
    svg = client.get("/systems/network/r1.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml; charset=utf-8"
    policy = svg["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert svg["X-Content-Type-Options"] == "nosniff"
    assert svg.content.decode() == DiagramRevision.objects.get(number=1).svg
    download = client.get("/systems/network/r1.svg?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="network-r1.svg"'
    dot = client.get("/systems/network/r1.dot")
    assert dot["Content-Type"].startswith("text/vnd.graphviz")
    assert dot.content.decode().startswith("digraph network {")
    assert client.get("/systems/network/r9.svg").status_code == 404


def test_a_team_member_draws_from_the_page_and_an_auditor_cannot(client, org, register):
    client.force_login(org.aud.user)
    assert client.post("/systems/network/", {"reason": "x"}).status_code == 403
    assert not DiagramRevision.objects.exists()
    client.force_login(org.sam.user)
    done = client.post("/systems/network/", {"reason": "initial diagram"}, follow=True)
    assert done.status_code == 200 and DiagramRevision.objects.get().reason == "initial diagram"
    assert re.search(r"<td>r1</td>", done.content.decode())


# --- the command line ------------------------------------------------------------------------


def test_the_commands_write_the_ruleset_and_the_diagram(org, register, tmp_path):
    runner = CliRunner()
    out = tmp_path / "webdb.nft"
    done = runner.invoke(main, ["systems", "firewall", "webdb", "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert "table inet secman {" in out.read_text()
    printed = runner.invoke(main, ["systems", "firewall", "hop", "--no-check"])
    assert printed.exit_code == 0 and "policy drop;" in printed.output
    missing = runner.invoke(main, ["systems", "firewall", "nosuch"])
    assert missing.exit_code == 1 and "no system named 'nosuch'" in missing.output

    make_flow(register["web"], "ingress", 2222, "unknown-host", purpose="legacy")
    warned = runner.invoke(main, ["systems", "firewall", "webdb", "-o", str(out)])
    assert warned.exit_code == 0 and "warning:" in warned.output
    assert "unknown-host" in warned.output

    svg = tmp_path / "network.svg"
    drawn = runner.invoke(main, ["systems", "diagram", "--output", str(svg)])
    assert drawn.exit_code == 0, drawn.output
    assert "webdb" in svg_texts(svg.read_text())
    assert not DiagramRevision.objects.exists()  # drawing to a file records nothing
    dot = runner.invoke(main, ["systems", "diagram", "--format", "dot"])
    assert dot.output.startswith("digraph network {")
    assert runner.invoke(main, ["systems", "diagram", "-r", "3"]).exit_code == 1


def test_a_large_register_is_drawn_by_a_faster_layout(org):
    systems = [make_system(f"node{i:03}", f"10.9.{i // 200}.{i % 200 + 1}",
                           network=["internet", "intranet", "internal"][i % 3])
               for i in range(60)]
    for i, system in enumerate(systems):
        for step in (1, 7):
            make_flow(system, "ingress", 1000 + step, f"node{(i + step) % 60:03}",
                      peer_system=systems[(i + step) % 60], purpose="sync")
    dot = diagram.dot_source()
    assert dot.count(" -> ") == 120 and "layout=sfdp" in dot
    texts = svg_texts(diagram.render_svg(dot))
    assert "node000" in texts and "node059" in texts
