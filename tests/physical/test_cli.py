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
