from __future__ import annotations

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.physical.models import Computer, Media


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "computers.csv"
    good.write_text("asset_tag,nickname,vendor,model,serial_number,maintenance_contact,"
                    "rack_location,intended_use,legal_owner,acquisition_notes\n"
                    "CA-1,alpha,Acme,R1,S1,support,R1U1,web,,\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("serial_number,media_type,capacity_gb,description,location,critical_data\n"
                   "M1,hdd,100,,safe,yes\nM1,hdd,100,,safe,yes\n")
    return good, bad


def test_it_imports_checks_and_exports_from_the_command_line(org, files):
    good, bad = files
    runner = CliRunner()
    dry = runner.invoke(main, ["physical", "import-computers", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "1 would be created" in dry.output
    assert Computer.objects.count() == 0
    assert runner.invoke(main, ["physical", "import-computers", str(good)]).exit_code == 0
    assert "CA-1,alpha" in runner.invoke(main, ["physical", "export-computers"]).output
    refused = runner.invoke(main, ["physical", "import-media", str(bad), "--present", "sam"])
    assert refused.exit_code == 1
    assert "line 3: serial_number 'M1' also on line 2" in refused.output
    assert "Nothing was written" in refused.output and Media.objects.count() == 0


def test_it_moves_computers_and_media_on_from_the_command_line(org, rack):
    from secman.physical import services

    runner = CliRunner()
    services.register_media(actor=org.sam, serial_number="D-7", media_type="hdd",
                            capacity_gb=1, location="safe", present=[org.sam],
                            steps_taken="wiped", erased_and_reformatted=True,
                            critical_data=False)
    refused = runner.invoke(main, ["physical", "media-step", "D-7", "stored", "--as", "sam",
                                   "--present", "sam", "--steps", "kept", "--location", "safe"])
    assert refused.exit_code == 1 and "erased securely before storage" in refused.output
    done = runner.invoke(main, ["physical", "media-step", "D-7", "in_use", "--as", "sam",
                                "--present", "sam", "--steps", "installed", "--location",
                                "rack 3", "--computer", "CA-0001"])
    assert done.exit_code == 0, done.output
    assert Media.objects.get(serial_number="D-7").computer == rack
    risky = runner.invoke(main, ["physical", "computer-step", "CA-0001", "service_risk",
                                 "--as", "axel", "--note", "vendor repair needs the disks"])
    assert risky.exit_code == 0, risky.output
    assert Computer.objects.get(asset_tag="CA-0001").status == "must_retire"
