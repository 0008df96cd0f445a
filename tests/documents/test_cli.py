"""`secman docs ...` on plain files (no database) and on stored documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from secman.cli import main
from tests.documents.conftest import ROOT, SM, SP


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_it_compares_two_files_as_json(runner):
    result = runner.invoke(main, ["docs", "compare", str(SP), str(SM), "--format", "json",
                                  "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["a"]["title"] == "Security Policy for CAcert Systems"
    assert data["b"]["version"].startswith("last edited 2016-11-06")
    rows = {row["number"]: row for row in data["rows"]}
    assert rows["2.2.3.1"]["status"] == "both"
    assert rows["2.2.3.1"]["a"]["title"] == rows["2.2.3.1"]["b"]["title"] == "Provisioning"
    assert rows["2"]["a"]["title"] == "PHYSICAL SECURITY" and rows["2"]["b"]["title"] == ""
    assert rows["1.3"]["status"] == "title differs"  # Definition of Terms / Definitions
    assert rows["4.1.1.1"]["status"] == "empty in manual"
    assert rows["2.2.3"]["status"] == "both"  # both empty
    assert rows["5.6.1"]["status"] == "manual only" and rows["5.6.1"]["a"] is None
    assert rows["3.1.1"]["status"] == "both"
    statuses = {row["status"] for row in data["rows"]}
    assert statuses == {"both", "manual only", "empty in policy", "empty in manual",
                        "title differs"}
    numbers = [tuple(map(int, r["number"].split("."))) for r in data["rows"]]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize("width", [80, 160])
def test_it_fits_the_text_comparison_in_the_terminal(runner, width):
    result = runner.invoke(main, ["docs", "compare", str(SP), str(SM), "--width", str(width),
                                  "-q"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "2.2.3.3 Retirement  [both]" in lines
    assert any(line.startswith("Secure destruction") or "| Secure destruction" in line
               for line in lines)


def test_it_writes_html_to_a_file(runner, tmp_path):
    out = tmp_path / "side.html"
    result = runner.invoke(main, ["docs", "compare", str(SP), str(SM), "--format", "html",
                                  "--output", str(out), "-q"])
    assert result.exit_code == 0
    assert 'id="s2.2.3.1"' in out.read_text()


def test_it_prints_the_recovered_tree(runner):
    result = runner.invoke(main, ["docs", "sections", str(SM), "--format", "json"])
    data = json.loads(result.stdout)
    assert len([s for s in data["sections"] if s["title"]]) == 140
    text = runner.invoke(main, ["docs", "sections", str(SM)]).stdout
    assert "      4.1.1.1 Authorized users  [empty]" in text


def test_it_diffs_two_files(runner, tmp_path):
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("## 1. A\n\nkeep this\n\n## 2. B\n\nmoved text\n")
    new.write_text("## 1. A\n\nkeep that\n\n## 3. B\n\nmoved text\n\n## 4. C\n\nnew\n")
    result = runner.invoke(main, ["docs", "diff", str(old), str(new)])
    assert result.exit_code == 0
    assert "changed  1 A" in result.stdout and "keep [-this-]{+that+}" in result.stdout
    assert "moved    2 → 3 B" in result.stdout
    assert "added    4 C" in result.stdout


def test_it_names_the_problem_with_a_bad_file(runner, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<p>Intro, and no heading at all</p>")
    result = runner.invoke(main, ["docs", "compare", str(bad), str(SM)])
    assert result.exit_code == 1
    assert "bad.html: no numbered headings" in result.output
    result = runner.invoke(main, ["docs", "compare", "missing.html", str(SM)])
    assert "missing.html: no such file" in result.output


def test_it_works_on_files_without_django_or_a_database(tmp_path):
    """A fresh interpreter, a database URL that cannot work: file commands still run and
    never import Django."""
    code = (
        "import sys\n"
        "from secman.cli import main\n"
        f"sys.argv = ['secman', 'docs', 'compare', {str(SP)!r}, {str(SM)!r}, '-q',"
        " '--format', 'json', '-o', " + repr(str(tmp_path / "out.json")) + "]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'django' not in sys.modules, 'django was imported'\n"
    )
    env = dict(os.environ, DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
               SECMAN_DATA_DIR=str(tmp_path / "nowhere"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["rows"]


@pytest.mark.django_db
def test_it_imports_and_compares_stored_documents(runner, org):
    from secman.documents.models import Version
    from secman.eventlog.models import Event

    result = runner.invoke(main, ["docs", "import", str(SP), "--name", "Security Policy",
                                  "--kind", "policy"])
    assert result.exit_code == 0, result.output
    assert "Security Policy v1: 130 sections imported" in result.stdout
    runner.invoke(main, ["docs", "import", str(SM), "--name", "Security Manual", "--kind",
                         "manual", "--version", "2016-11-06"])
    assert Version.objects.filter(label="2016-11-06").exists()
    assert Event.objects.filter(action="documents.import").count() == 2
    result = runner.invoke(main, ["docs", "compare", "SP", "security-manual@2016-11-06",
                                  "--format", "json"])
    rows = json.loads(result.stdout)["rows"]
    assert {r["number"]: r["status"] for r in rows}["4.1.1.1"] == "empty in manual"
    exported = runner.invoke(main, ["docs", "export", "Security Manual", "--format",
                                    "markdown"]).stdout
    assert "#### 2.2.3.1 Provisioning" in exported
    # The README's headings show no numbers: refused when told to read numbers from text.
    bad = runner.invoke(main, ["docs", "import", str(ROOT / "README.md"), "--name", "X",
                               "--kind", "procedure", "--numbering", "text"])
    assert bad.exit_code == 1 and "README.md" in bad.output
    assert "no numbered headings" in bad.output
    assert Event.objects.filter(action="documents.import").count() == 2


# --- files that are not regular files, or too large (issue 13, finding 3) -----------------


def _secman_limited(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`secman ARGS` in a process that may use at most 1 GB of memory and 60 s: reading
    /dev/zero to the end (as it used to) fails the test instead of the machine."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SECMAN_", "DATABASE_URL", "DJANGO_"))}
    env["SECMAN_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run([sys.executable, "-c", "from secman.cli import main; main()", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                          preexec_fn=limit, check=False)


@pytest.mark.parametrize(("special", "said"), [
    ("/dev/zero", "is a character device, not a regular file"),
    ("/dev/urandom", "is a character device, not a regular file"),
    ("fifo", "is a named pipe (FIFO), not a regular file"),
])
@pytest.mark.parametrize("command", ["import", "sections", "compare"])
def test_it_refuses_what_is_not_a_regular_file_and_writes_nothing(tmp_path, special, said,
                                                                   command):
    if special == "fifo":
        special = str(tmp_path / "pipe")
        os.mkfifo(special)
    args = {"import": ["docs", "import", special, "--name", "X", "--kind", "policy"],
            "sections": ["docs", "sections", special],
            "compare": ["docs", "compare", special, str(SP)]}[command]
    result = _secman_limited(tmp_path, *args)
    assert result.returncode == 1, result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # not even a database was made


def test_it_never_reads_past_the_cap_whatever_the_size_says(tmp_path):
    from secman.documents.importers import MAX_BYTES, read_document_file
    from secman.documents.tree import DocumentError

    big = tmp_path / "big.html"
    big.write_bytes(b"<h2>1. A</h2>" + b"x" * MAX_BYTES)
    result = _secman_limited(tmp_path, "docs", "import", str(big), "--name", "X", "--kind",
                             "policy")
    assert result.returncode == 1
    assert "big.html has 8.0 MB; secman reads files of up to 8.0 MB" in result.stderr
    assert not (tmp_path / "data").exists()
    # A file exactly at the cap is read whole.
    exact = tmp_path / "exact.html"
    exact.write_bytes(b"<h2>1. A</h2>" + b"x" * (MAX_BYTES - 13))
    assert len(read_document_file(exact)) == MAX_BYTES
    # /proc files say they have 0 bytes: the read itself stops at cap + 1.
    from secman.files import FileRefused, read_capped

    with pytest.raises(FileRefused, match="has more than"):
        read_capped("/proc/self/maps", 10)
    with pytest.raises(DocumentError, match="is a directory"):
        read_document_file(tmp_path)
