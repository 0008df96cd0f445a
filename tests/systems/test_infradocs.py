"""The infradocs parser (systems.infradocs) on the reference files and on hostile input.

The expectations on the reference files are computed from the files themselves by plain
line scans (no docutils), a method independent of the parser, never written as numbers."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from secman.systems import infradocs
from secman.systems.infradocs import InfradocsError

ROOT = Path(__file__).resolve().parents[2]
INFRADOCS = ROOT.parent / "shared" / "reference" / "cacert" / "infradocs"

UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
PORT_TOKEN = re.compile(r"\b\d+/(?:tcp|udp)\b")


def system_files() -> list[Path]:
    return sorted(p for folder in ("systems", "critical")
                  for p in (INFRADOCS / folder).glob("*.rst") if p.name != "template.rst")


def section(path: Path, title: str) -> list[tuple[int, str]]:
    """The (line number, text) of a section's body: from the line after the title's
    underline to the line before the next title."""
    lines = path.read_text().splitlines()
    body: list[tuple[int, str]] = []
    inside = False
    for index, line in enumerate(lines):
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        is_title = bool(line.strip()) and not UNDERLINE.match(line) and bool(
            UNDERLINE.match(next_line))
        if is_title:
            inside = line.strip() == title
            continue
        if inside and not UNDERLINE.match(line):
            body.append((index + 1, line))
    return body


def listening_ports(path: Path) -> int:
    """The port tokens (22/tcp) in the first column of the listening-services table."""
    count = 0
    in_table = False
    for _number, line in section(path, "Listening services"):
        if line.startswith("| Port"):
            in_table = True
            continue
        if in_table and not line.strip():
            break  # the table ends at its first blank line
        if in_table and line.startswith("|"):
            count += len(PORT_TOKEN.findall(line.split("|")[1]))
    return count


def outbound_bullets(path: Path) -> list[int]:
    """The line of each bullet of the outbound network connections."""
    return [number for number, line in section(path, "Outbound network connections")
            if line.startswith("* ")]


def addresses(path: Path) -> int:
    return sum(len(re.findall(r":ip:v[46]:`", line))
               for _number, line in section(path, "Logical Location"))


def dns_rows(path: Path) -> int:
    """The rows of the table Name / Type / Content (simple or grid; one line a row)."""
    rows = [line for _number, line in section(path, "DNS")
            if line.strip() and not line.startswith((" ", ".."))]
    if rows and rows[0].startswith("="):
        return len([line for line in rows if not line.startswith("=")]) - 1  # the header
    if rows and rows[0].startswith("+"):
        return len([line for line in rows if line.startswith("|")]) - 1
    return 0


# --- the reference files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def people():
    return infradocs.parse_people((INFRADOCS / "people.rst").read_text(), "people.rst")


@pytest.fixture(scope="module")
def parsed(people):
    return {path: infradocs.parse_source(infradocs.read_source(path), people)
            for path in system_files()}


def test_both_folders_are_found_and_their_templates_skipped():
    paths, templates = infradocs.source_files(INFRADOCS)
    assert sorted(paths) == system_files()
    assert sorted(t.name for t in templates) == ["template.rst", "template.rst"]
    assert {p.parent.name for p in paths} == {"systems", "critical"}


def test_every_reference_file_parses_with_what_its_lines_say(parsed):
    assert parsed, "no reference files found"
    for path, system in parsed.items():
        assert system.name == path.stem, path
        ingress = [f for f in system.flows if f.direction == "ingress"]
        assert len(ingress) == listening_ports(path), path
        # Every outbound bullet is at least one egress flow, sourced at its line.
        egress_lines = {f.line for f in system.flows if f.direction == "egress"}
        assert egress_lines == set(outbound_bullets(path)), path
        assert len(system.addresses) == addresses(path), path
        assert len(system.dns_records) == dns_rows(path), path
        assert system.criticality == ("critical" if path.parent.name == "critical"
                                      else "infrastructure")


def test_the_files_documented_flows_are_many(parsed):
    """The reference set documents listening ports in most system files."""
    with_ports = [p for p in parsed if listening_ports(p)]
    assert len(with_ports) >= len(list((INFRADOCS / "systems").glob("*.rst"))) - 1


def test_what_proxyout_documents(parsed):
    system = parsed[INFRADOCS / "systems" / "proxyout.rst"]
    assert system.kind == "container" and system.host_document == "infra02"
    assert system.primary_admin.name == "Jan Dittberner"
    assert system.primary_admin.email == "jandd@cacert.org"
    assert system.secondary_admin is None  # "Secondary: None"
    assert (system.os_name, system.os_release) == ("Debian GNU/Linux", "10.9")
    assert {(a.network, a.address) for a in system.addresses} == {
        ("internal", "10.0.0.201"), ("internet", "2001:7b8:616:162:2::201")}
    assert system.macs == [{"mac": "00:16:3e:15:b8:8c", "interface": "eth0"}]
    assert system.monitoring == [{"kind": "internal checks",
                                  "target": "proxyout.infra.cacert.org"}]
    assert {k["type"] for k in system.ssh_host_keys} == {"RSA", "ECDSA", "ED25519"}
    assert all(k["sha256"].startswith("SHA256:") for k in system.ssh_host_keys)
    squid = [f for f in system.flows if f.port == 3128]
    assert [(f.protocol, f.service, f.peer, f.purpose) for f in squid] == [
        ("tcp", "http", "internal", "squid http/https proxy")]
    puppet = [f for f in system.flows if f.peer == "puppet"]
    assert [(f.direction, f.port, f.protocol, f.peer_document) for f in puppet] == [
        ("egress", 8140, "tcp", "puppet")]
    relay = [f for f in system.flows if f.peer == "emailout"]
    assert [(f.port, f.purpose) for f in relay] == [(None, "emailout as SMTP relay")]
    assert "web" in system.connected_systems
    assert {r["service"] for r in system.running_services} >= {"cron", "Squid"}
    assert system.applications == [{"application": "Squid",
                                    "administrators": "Jan Dittberner"}]


def test_a_cell_with_two_ports_and_a_resolver_at_an_address(parsed):
    infra02 = parsed[INFRADOCS / "systems" / "infra02.rst"]
    dns = sorted((f.protocol, f.line) for f in infra02.flows
                 if f.direction == "ingress" and f.port == 53)
    assert [p for p, _ in dns] == ["tcp", "udp"] and dns[0][1] == dns[1][1]
    assert infra02.kind == "physical" and len(infra02.macs) == 2
    assert {"interface": "br0"}.items() <= next(
        m for m in infra02.macs if m["mac"] == "fe:0e:ee:75:a3:a5").items()
    assert any(a.interface == "br0" for a in infra02.addresses)
    # "DNS (53) resolver at 10.0.0.1 (:doc:`infra02`)": both protocols, to the address,
    # naming the system.
    with_resolver = [s for s in parsed.values() if any(
        f.peer == "10.0.0.1" for f in s.flows)]
    assert with_resolver
    flows = [f for f in with_resolver[0].flows if f.peer == "10.0.0.1"]
    assert {(f.port, f.protocol, f.peer_document) for f in flows} == {
        (53, "tcp", "infra02"), (53, "udp", "infra02")}


def test_people_resolve_from_people_rst(people):
    assert people["people_jandd"].email == "jandd@cacert.org"
    assert all(label.startswith("people_") for label in people)
    labels = re.findall(r"^\.\. _(people_\w+):", (INFRADOCS / "people.rst").read_text(),
                        re.MULTILINE)
    assert sorted(people) == sorted(labels)


# --- hostile input -------------------------------------------------------------------------

LISTENING = """\
====
host
====

Listening services
------------------

+----------+---------+--------+---------+
| Port     | Service | Origin | Purpose |
+==========+=========+========+=========+
| {port:<8} | ssh     | ANY    | admin   |
+----------+---------+--------+---------+
"""


@pytest.mark.parametrize("port", ["0/tcp", "70000/tcp", "abc/tcp", "22/sctp", "22",
                                  "9-8/tcp"])
def test_an_invalid_port_names_the_file_and_its_row(port):
    with pytest.raises(InfradocsError) as refused:
        infradocs.parse_text(LISTENING.format(port=port), source="infradocs/systems/host.rst")
    assert refused.value.line == 11
    assert str(refused.value).startswith("infradocs/systems/host.rst:11: ")


def test_a_port_range_and_several_ports_in_a_cell():
    wide = LISTENING.replace("+----------+", "+----------------------+").replace(
        "+==========+", "+======================+").replace("| Port     |",
                                                            "| Port                 |")
    text = wide.replace("| {port:<8} |", "| 6000-6010/tcp, 7/udp |")
    system = infradocs.parse_text(text, source="h.rst")
    assert [(f.port, f.port_end, f.protocol) for f in system.flows] == [
        (6000, 6010, "tcp"), (7, None, "udp")]


@pytest.mark.parametrize("address", ["300.1.2.3", "10.0.0", "2001:zz::1", "<IP>"])
def test_an_invalid_address_names_the_line(address):
    text = f"====\nhost\n====\n\nLogical Location\n----------------\n\n" \
           f":IP Internet: :ip:v4:`{address}`\n"
    with pytest.raises(InfradocsError) as refused:
        infradocs.parse_text(text, source="h.rst")
    assert refused.value.line == 8 and "is not an IP address" in str(refused.value)


def test_control_characters_are_refused_with_their_line():
    text = LISTENING.format(port="22/tcp").replace("admin  ", "adm\x1bin ")
    with pytest.raises(InfradocsError) as refused:
        infradocs.parse_text(text, source="h.rst")
    assert "U+001B" in str(refused.value) and refused.value.line == 11


def test_unknown_markup_and_broken_tables_name_their_line():
    with pytest.raises(InfradocsError) as unknown:
        infradocs.parse_text("====\nhost\n====\n\ntext :nope:`x`\n", source="h.rst")
    assert unknown.value.line == 5 and "nope" in str(unknown.value)
    broken = LISTENING.format(port="22/tcp").replace("| admin   |", "| admin    ")
    with pytest.raises(InfradocsError) as malformed:
        infradocs.parse_text(broken, source="h.rst")
    assert malformed.value.line and "table" in str(malformed.value).lower()


def test_a_huge_table_parses_and_a_too_large_file_is_refused(tmp_path):
    rule = "+----------+---------+--------+---------+\n"
    rows = "".join(f"| {n}/tcp".ljust(11) + "| s       | ANY    | p       |\n" + rule
                   for n in range(1, 1501))
    header = LISTENING.split("| {port")[0]
    system = infradocs.parse_text(header + rows, source="h.rst")
    assert len(system.flows) == 1500
    big = tmp_path / "big.rst"
    big.write_text("x" * (infradocs.FILE_CAP + 1))
    with pytest.raises(InfradocsError, match="reads files of up to"):
        infradocs.read_source(big)


def test_files_that_are_not_text_or_not_files(tmp_path):
    latin = tmp_path / "latin.rst"
    latin.write_bytes("====\nh\u00f6st\n====\n".encode("latin-1"))
    with pytest.raises(InfradocsError, match="not UTF-8"):
        infradocs.read_source(latin)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not reST")
    with pytest.raises(InfradocsError, match=r"holds no \.rst file"):
        infradocs.source_files(empty)
    loop = tmp_path / "loop.rst"
    loop.symlink_to(loop)
    with pytest.raises(InfradocsError, match="cannot be read"):
        infradocs.read_source(loop)
    fifo = tmp_path / "fifo.rst"
    os.mkfifo(fifo)
    with pytest.raises(InfradocsError, match="named pipe"):
        infradocs.read_source(fifo)


def test_a_file_never_makes_the_parser_read_another(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    text = f"====\nhost\n====\n\nPurpose\n=======\n\n.. include:: {secret}\n\n" \
           f".. literalinclude:: {secret}\n\n.. raw:: html\n   :file: {secret}\n"
    try:
        system = infradocs.parse_text(text, source="h.rst")
    except InfradocsError as refused:
        assert "TOPSECRET" not in str(refused)
    else:
        assert "TOPSECRET" not in system.purpose


def test_the_projects_roles_are_registered_only_while_parsing():
    from docutils.parsers.rst import directives, roles

    infradocs.parse_text("====\nhost\n====\n\n:doc:`x`\n", source="h.rst")
    assert "doc" not in roles._roles and "sshkeys" not in directives._directives


def test_a_directory_copy_with_a_template_only_is_refused_as_empty(tmp_path):
    folder = tmp_path / "systems"
    folder.mkdir()
    shutil.copy(INFRADOCS / "systems" / "template.rst", folder)
    paths, templates = infradocs.source_files(folder)
    assert paths == [] and len(templates) == 1


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from([*"=-+|*:`_.\\ \n\tabc019/<>()", "\x00", "\x1b",
                                         "\u202e", "é"]), max_size=400))
def test_garbled_rest_parses_or_is_refused_with_a_clear_error(text):
    try:
        system = infradocs.parse_text(text, source="g.rst")
    except InfradocsError as refused:
        assert str(refused).startswith("g.rst")
    else:
        assert infradocs.SYSTEM_NAME.match(system.name)


@hypothesis_settings(max_examples=40, deadline=None)
@given(port=st.one_of(st.integers(-5, 70000).map(str), st.text(max_size=6)),
       protocol=st.sampled_from(["tcp", "udp", "icmp", "TCP", ""]))
def test_any_port_cell_is_a_flow_or_a_refusal(port, protocol):
    cell = f"{port}/{protocol}".replace("|", "").replace("\n", "")[:8]
    try:
        system = infradocs.parse_text(LISTENING.format(port=cell), source="p.rst")
    except InfradocsError as refused:
        assert str(refused).startswith("p.rst")
    else:
        assert all(1 <= f.port <= 65535 and f.protocol in ("tcp", "udp")
                   for f in system.flows)


@functools.cache
def proxyout() -> str:
    return (INFRADOCS / "systems" / "proxyout.rst").read_text()


@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 8000), st.integers(0, 40),
                          st.text(alphabet=st.sampled_from(
                              [*"|+-=:`\n 0123456789/x.", "\x07", "\ufffe"]), max_size=12)),
                min_size=1, max_size=6))
def test_a_real_document_garbled_parses_or_is_refused_with_a_clear_error(edits):
    """Cut and splice a real document at random: its tables, fields and lists break in
    every way; the parser answers with a system or a refusal naming the file."""
    text = proxyout()
    for position, cut, inserted in edits:
        text = text[:position] + inserted + text[position + cut:]
    try:
        system = infradocs.parse_text(text, source="infradocs/systems/proxyout.rst")
    except InfradocsError as refused:
        assert str(refused).startswith("infradocs/systems/proxyout.rst")
    else:
        assert all(f.port is None or 1 <= f.port <= 65535 for f in system.flows)
