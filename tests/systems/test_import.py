"""`secman systems import`: the infradocs reference files into the register, again (no
change), modified (exactly the diff), refused (nothing written, no entry), in process and
as a real process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.systems import imports, infradocs
from secman.systems.models import Address, DnsRecord, Flow, System
from tests.conftest import ROOT, secman_command
from tests.systems.test_infradocs import (
    INFRADOCS,
    addresses,
    listening_ports,
    outbound_bullets,
    system_files,
)

# Parsed documents by (label, text): docutils takes most of a run's time, and most tests
# import the same reference files (the importer does not change what it is given).
PARSED: dict[tuple[str, str], infradocs.ParsedSystem] = {}


def parse(target: Path) -> list[infradocs.ParsedSystem]:
    paths, _templates = infradocs.source_files(target)
    people_path = infradocs.find_people(paths)
    people = infradocs.parse_people(people_path.read_text()) if people_path else {}
    parsed = []
    for path in paths:
        source = infradocs.read_source(path)
        key = (source.label, source.text)
        if key not in PARSED:
            PARSED[key] = infradocs.parse_source(source, people)
        parsed.append(PARSED[key])
    return parsed


def run(target: Path = INFRADOCS, **kwargs) -> imports.ImportResult:
    return imports.import_systems(actor=kwargs.pop("actor", None), parsed=parse(target),
                                  **kwargs)


def state() -> tuple:
    """Every row the importer may write, to compare before and after."""
    return (list(System.objects.values_list()), list(Address.objects.values_list()),
            list(DnsRecord.objects.values_list()), list(Flow.objects.values_list()),
            Event.objects.count())


@pytest.fixture
def infradocs_copy(tmp_path) -> Path:
    """A copy of the reference folders, as infradocs/ (so sources read the same)."""
    copy = tmp_path / "infradocs"
    for folder in ("systems", "critical"):
        shutil.copytree(INFRADOCS / folder, copy / folder)
    shutil.copy(INFRADOCS / "people.rst", copy)
    return copy


@pytest.mark.django_db
def test_every_reference_file_imports_with_its_flows(org):
    result = run()
    files = system_files()
    assert result.systems == len(files) == System.objects.count() == result.created
    for path in files:
        system = System.objects.get(name=path.stem)
        label = f"infradocs/{path.parent.name}/{path.name}"
        assert system.source == label
        ingress = system.flows.filter(direction="ingress")
        assert ingress.count() == listening_ports(path), path
        assert system.addresses.count() == addresses(path), path
        egress_lines = {int(source.rsplit(":", 1)[1]) for source in
                        system.flows.filter(direction="egress").values_list("source",
                                                                            flat=True)}
        assert egress_lines == set(outbound_bullets(path)), path
        for flow in system.flows.all():
            assert flow.status == "approved" and flow.source.startswith(label + ":")
            assert str(flow.authority) == "SM 3.1.2" and flow.decided_at is not None
    assert Event.objects.filter(action="systems.system.import").count() == len(files)
    assert Event.objects.filter(action="systems.import").count() == 1
    # Peers and hosts that name a system of the run are linked to it.
    infra02 = System.objects.get(name="infra02")
    assert System.objects.get(name="web").host == infra02
    assert System.objects.get(name="web").kind == "container"
    to_proxyout = Flow.objects.filter(peer="proxyout")
    assert to_proxyout.exists()
    assert set(to_proxyout.values_list("peer_system__name", flat=True)) == {"proxyout"}
    assert not Flow.objects.filter(peer="puppet", peer_system__isnull=False).exists()
    assert System.objects.get(name="webdb").criticality == "critical"
    # Nobody of people.rst is in the register: every named administrator is unresolved.
    proxyout = System.objects.get(name="proxyout")
    assert proxyout.primary_admin is None
    assert proxyout.unresolved_admins == ["Jan Dittberner <jandd@cacert.org> (primary)"]


@pytest.mark.django_db
def test_a_second_import_changes_nothing_and_writes_nothing(org):
    run()
    before = state()
    again = run()
    assert again.changed == [] and state() == before


@pytest.mark.django_db
def test_a_modified_copy_reports_exactly_its_diff(org, infradocs_copy):
    run(infradocs_copy)
    web = infradocs_copy / "systems" / "web.rst"
    text = web.read_text()
    assert "| 443/tcp  | https   |" in text and "* :doc:`emailout` as SMTP relay\n" in text
    web.write_text(text.replace("| 443/tcp  | https   |", "| 8443/tcp | https   |")
                   .replace("* :doc:`emailout` as SMTP relay\n", "")
                   .replace("* Debian GNU/Linux 10.9", "* Debian GNU/Linux 10.13"))
    before = state()
    dry = run(infradocs_copy, dry_run=True)
    assert state() == before
    [diff] = dry.changed
    assert diff.name == "web" and not diff.created
    assert diff.fields == {"os_release": ("10.9", "10.13")}
    assert diff.flows_added == ["ingress 8443/tcp https from ANY"]
    assert sorted(diff.flows_ended) == ["egress any/tcp to emailout",
                                        "ingress 443/tcp https from ANY"]
    assert not (diff.addresses_added or diff.addresses_removed or diff.dns_added
                or diff.dns_removed)
    done = run(infradocs_copy)
    assert [d.as_details() for d in done.changed] == [diff.as_details()]
    system = System.objects.get(name="web")
    assert system.os_release == "10.13"
    ended = system.flows.filter(status="ended")
    assert ended.count() == 2 and all(f.ended_at for f in ended)  # ended, not deleted
    assert system.flows.filter(status="approved", port=8443).count() == 1
    entry = Event.objects.filter(action="systems.system.import").latest("seq")
    assert entry.subject_label == "web"
    assert entry.details["fields"] == {"os_release": {"old": "10.9", "new": "10.13"}}
    assert Event.objects.count() == before[-1] + 2  # the system's entry and the run's
    assert run(infradocs_copy).changed == []


@pytest.mark.django_db
def test_administrators_resolve_to_people_of_the_register(org):
    jan = people_services.create_person(actor=None, authority="SP 9.1.3",
                                        name="Jan Dittberner", email="JANDD@cacert.org")
    run()
    proxyout = System.objects.get(name="proxyout")
    assert proxyout.primary_admin == jan and proxyout.unresolved_admins == []
    infra02 = System.objects.get(name="infra02")
    assert infra02.primary_admin == jan
    assert infra02.unresolved_admins == ["Mario Lipinski <mario@cacert.org> (secondary)"]


@pytest.mark.django_db
def test_refusals_write_nothing_and_no_entry(org, infradocs_copy):
    before = state()
    with pytest.raises(NotAllowed):
        run(actor=org.bea)
    duplicate = infradocs_copy / "critical" / "web.rst"
    shutil.copy(infradocs_copy / "systems" / "web.rst", duplicate)
    with pytest.raises(RuleViolation, match=r"infradocs/critical/web\.rst:\d+: the system "
                                            r"web is documented in infradocs/systems/web.rst"):
        run(infradocs_copy)
    duplicate.unlink()
    long_purpose = infradocs_copy / "systems" / "blog.rst"
    long_purpose.write_text(long_purpose.read_text().replace(
        "Purpose\n=======\n", "Purpose\n=======\n\n" + "word " * 2100 + "\n", 1))
    with pytest.raises(infradocs.InfradocsError, match=r"blog\.rst"):
        run(infradocs_copy)
    assert state() == before
    assert run(actor=org.sam).created == len(system_files())  # a Systems Administrator may


@pytest.fixture
def small_copy(tmp_path) -> Path:
    """A few of the reference files (a host, two of its containers, a critical system and
    a template), as infradocs/: for the command's tests, which parse on every run."""
    copy = tmp_path / "small" / "infradocs"
    for name in ("systems/infra02.rst", "systems/web.rst", "systems/proxyout.rst",
                 "systems/template.rst", "critical/webdb.rst", "people.rst"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(INFRADOCS / name, copy / name)
    return copy


@pytest.mark.django_db
def test_the_command_shows_the_diff_and_writes_only_without_dry_run(org, small_copy):
    runner = CliRunner()
    infradocs_copy = small_copy
    files = [p for p in infradocs_copy.glob("*/*.rst") if p.name != "template.rst"]
    dry = runner.invoke(main, ["systems", "import", str(infradocs_copy), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would change (dry run)" in dry.output and "skipped" in dry.output
    assert System.objects.count() == 0
    done = runner.invoke(main, ["systems", "import", str(infradocs_copy), "--json",
                                "--authority", "SM 3.1.2"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["created"] == len(files) == report["files"]
    assert report["flows"] == Flow.objects.filter(status="approved").count()
    assert System.objects.get(name="web").host.name == "infra02"
    bad = infradocs_copy / "systems" / "web.rst"
    bad.write_text(bad.read_text().replace("| 443/tcp  |", "| 443/xyz  |"))
    refused = runner.invoke(main, ["systems", "import", str(infradocs_copy)])
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1)
                if "443/xyz" in text)
    assert refused.exit_code == 1
    assert f"infradocs/systems/web.rst:{line}: '443/xyz' is not a port" in refused.output
    assert "Nothing was written" in refused.output


def test_the_command_as_a_process(database_env, infradocs_copy):
    """A real `secman` process on a fresh SQLite or PostgreSQL database: a run with one
    unreadable file writes nothing; the good run imports every file; the next one
    finds nothing to change."""
    def secman(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([secman_command(), "systems", "import", *args],
                              env=database_env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    broken = infradocs_copy / "systems" / "aaa-broken.rst"  # read first: fails fast
    broken.write_bytes(b"====\nbr\xffoken\n====\n")
    refused = secman(str(infradocs_copy))
    assert refused.returncode == 1 and "not UTF-8" in refused.stderr
    assert "infradocs/systems/aaa-broken.rst" in refused.stderr
    assert "Nothing was written" in refused.stderr
    broken.unlink()
    first = secman(str(infradocs_copy), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["created"] == len(system_files())  # the refused run wrote nothing
    assert sorted(report["skipped"]) == sorted(
        str(infradocs_copy / folder / "template.rst") for folder in ("critical", "systems"))
    second = secman(str(infradocs_copy), "--json")
    assert second.returncode == 0 and json.loads(second.stdout)["changed"] == []
