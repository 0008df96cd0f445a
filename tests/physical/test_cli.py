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


# --- hostile files (issue 13, findings 3 and 4) -------------------------------------------


def read_bytes_of_this_process() -> int:
    with open("/proc/self/io") as io_stats:
        return int(next(line for line in io_stats if line.startswith("rchar:")).split()[1])


def test_it_refuses_what_is_not_a_regular_file(org, tmp_path):
    import os
    import threading

    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    runner = CliRunner()
    result: dict[str, object] = {}
    # On a FIFO without a writer, a plain open() would wait for ever.
    worker = threading.Thread(target=lambda: result.setdefault("run", runner.invoke(
        main, ["physical", "import-computers", str(fifo)])), daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the import waited on the FIFO"
    refused = result["run"]
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert f"{fifo} is not a regular file" in refused.output  # type: ignore[attr-defined]
    for device in ("/dev/zero", "/dev/urandom"):
        refused = runner.invoke(main, ["physical", "import-media", device, "--present", "sam"])
        assert refused.exit_code != 0 and Media.objects.count() == 0
        assert "is not a regular file" in refused.output, refused.output
    assert Computer.objects.count() == 0


def test_it_never_reads_past_the_cap_whatever_the_file_size_says(org, tmp_path):
    from secman.core.errors import RuleViolation
    from secman.physical import csvio

    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB of NULs on no disk
    before = read_bytes_of_this_process()
    with pytest.raises(RuleViolation, match="larger than 5 MB"):
        csvio.read_file(huge)
    assert read_bytes_of_this_process() - before < csvio.MAX_BYTES + 64 * 1024
    refused = CliRunner().invoke(main, ["physical", "import-computers", str(huge)])
    assert refused.exit_code == 1 and "larger than 5 MB" in refused.output
    assert Computer.objects.count() == 0


def test_the_command_line_import_shows_its_progress(org, tmp_path, monkeypatch):
    good = tmp_path / "many.csv"
    good.write_text("asset_tag,nickname,vendor,model,serial_number,maintenance_contact,"
                    "rack_location,intended_use,legal_owner,acquisition_notes\n"
                    + "".join(f"CA-{n},,,,,,,,,\n" for n in range(3000)))
    # Draw as on a terminal, although standard error is captured here.
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    done = CliRunner().invoke(main, ["physical", "import-computers", str(good)])
    assert done.exit_code == 0, done.output
    assert "3000 created" in done.output and Computer.objects.count() == 3000
    assert "checking" in done.stderr and "3000/3000" in done.stderr
