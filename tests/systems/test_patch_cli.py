"""`secman systems patch|change|os`: the same services as the pages, refusals as the
command's error (exit status 1, nothing written)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from secman.cli import main
from secman.eventlog.models import Event
from secman.systems.models import ConfigurationChange, Patch, System


def run(*args):
    return CliRunner().invoke(main, ["systems", *args])


def test_patches_changes_and_releases_from_the_command_line(org, settings):
    settings.SECMAN_DISTRO_INFO_CSV = "/usr/share/distro-info/debian.csv"
    System.objects.create(name="webdb", kind="vm", os_name="Debian GNU/Linux",
                          os_release="12.5")
    result = run("patch", "propose", "--advisory", "DSA-5678-1", "--title", "openssl",
                 "--package", "openssl", "--system", "webdb", "--as", "sue")
    assert result.exit_code == 0, result.output
    patch = Patch.objects.get()
    assert str(patch.pk) in result.output
    before = Event.objects.count()
    refused = run("patch", "approve", str(patch.pk), "--as", "sue")
    assert refused.exit_code == 1 and "team leader only" in refused.output
    assert Event.objects.count() == before
    assert run("patch", "approve", str(patch.pk), "--as", "sam").exit_code == 0
    listed = json.loads(run("patch", "list", "--json").output)
    assert [(p["advisory"], p["status"]) for p in listed] == [("DSA-5678-1", "approved")]
    assert run("patch", "propose", "--advisory", "x", "--title", "t", "--package", "a1",
               "--system", "nowhere", "--as", "sue").exit_code == 1
    result = run("change", "record", "webdb", "--summary", "sshd hardened", "--rcs",
                 "infra@1a2b3c4", "--covers", "sshd", "--as", "sue")
    assert result.exit_code == 0, result.output
    bad = run("change", "record", "webdb", "--summary", "x", "--rcs", "no", "--as", "sue")
    assert bad.exit_code == 1 and "is not an RCS reference" in bad.output
    assert ConfigurationChange.objects.count() == 1
    changes = json.loads(run("change", "list", "--json").output)
    assert changes[0]["rcs_reference"] == "infra@1a2b3c4"
    releases = json.loads(run("os", "--json").output)
    assert releases[0]["system"] == "webdb" and releases[0]["debian"].startswith("Debian 12")
