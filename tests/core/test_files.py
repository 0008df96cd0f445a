"""secman.files.read_capped: files named on the command line are regular files read up
to a cap, never devices, FIFOs or more than the cap + 1 bytes (issue 13, finding 3)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from secman.files import FileRefused, read_capped, read_capped_text

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_a_regular_file_up_to_the_cap(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_capped(path, 100) == b"x" * 100
    with pytest.raises(FileRefused, match=r"has 0\.0 MB; secman reads files of up to 0\.0 MB"):
        read_capped(path, 99)
    with pytest.raises(FileRefused, match="cannot be read: No such file"):
        read_capped(tmp_path / "missing", 10)
    path.write_bytes(b"\xff")
    with pytest.raises(FileRefused, match="is not UTF-8"):
        read_capped_text(path, 10)


@pytest.mark.parametrize(("path", "said"), [
    ("/dev/zero", "is a character device"), ("/dev/null", "is a character device"),
    ("/tmp", "is a directory"),
])
def test_it_refuses_what_is_not_a_regular_file(path, said):
    with pytest.raises(FileRefused, match=f"{said}, not a regular file"):
        read_capped(path, 10)


def test_it_stops_at_the_cap_when_the_size_says_nothing():
    # /proc files report 0 bytes; the read stops at cap + 1 all the same.
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(FileRefused, match="has more than"):
        read_capped("/proc/self/status", 16)


@pytest.mark.parametrize("option", [["verify", "--checkpoint"], ["import-checkpoint"]])
@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_eventlog_checkpoint_files_are_read_the_same_way(tmp_path, option, special):
    if special == "fifo":
        special = str(tmp_path / "pipe")
        os.mkfifo(special)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SECMAN_", "DATABASE_URL", "DJANGO_"))}
    env["SECMAN_DATA_DIR"] = str(tmp_path / "data")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    result = subprocess.run(
        [sys.executable, "-c", "from secman.cli import main; main()", "eventlog", *option,
         special], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        preexec_fn=limit, check=False)
    assert result.returncode == 2, result.stderr  # input that cannot be a checkpoint
    assert "not a regular file" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
