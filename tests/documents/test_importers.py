"""Reading the real SP and SM, and the other formats, into numbered section trees."""

from __future__ import annotations

import re

import pytest

from secman.documents.export import to_html, to_markdown
from secman.documents.importers import MAX_BYTES, detect_format, parse
from secman.documents.tree import DocumentError
from tests.documents.conftest import SM

TOC_LINE = re.compile(r"^( *)([0-9]+)\. (.+)$")


def sm_toc_titles() -> list[str]:
    lines = SM.read_text(encoding="utf-8").split("\n")
    titles = []
    for line in lines:
        if not line.strip():
            break
        titles.append(TOC_LINE.match(line).group(3).strip())
    return titles


@pytest.fixture(scope="module")
def sm(sm_bytes):
    return parse(sm_bytes, filename="SecurityManual.txt")


@pytest.fixture(scope="module")
def sp(sp_bytes):
    return parse(sp_bytes, filename="SecurityPolicy.html")


def test_it_recovers_all_140_entries_of_the_manuals_table_of_contents(sm):
    titled = [s for s in sm.sections if s.title]
    assert len(titled) == 140
    assert [s.title for s in titled] == sm_toc_titles()
    # Chapters 2-10 have no title in the export; they are there, untitled.
    assert [s.label for s in sm.sections if not s.title] == [str(n) for n in range(2, 11)]
    numbers = {s.label: s.title for s in sm.sections}
    assert numbers["2.1"] == "Facility"  # "1. Facility" in the contents: chapter 2 restarts
    assert numbers["2.2.3.3"] == "Retirement"
    assert numbers["9.1.4.4"] == "Privacy for Critical Roles"
    assert numbers["10.2.1"] == "To Provide / find"


@pytest.mark.parametrize("number, title, starts", [
    ("2.2.1.1", "Acquisition", "Acquisition of hardware opens particular security risks"),
    ("2.2.3.1", "Provisioning", "Access Engineers maintain an inventory of storage media"),
    ("2.2.3.2", "Storage", "Change of status report should include"),
    ("2.2.3.3", "Retirement", "Secure destruction shall include one of the following"),
    ("3.1.2.1", "Ingress", "All ports on which incoming traffic is expected"),
    ("4.1.1.2", "Access to Systems", "Only SSH is used for access to accounts."),
    ("9.1.4.1", "Scope", "An investigation should include examination of:"),
])
def test_it_gives_level_4_sections_their_own_text(sm, number, title, starts):
    section = sm.by_number()[tuple(int(p) for p in number.split("."))]
    assert section.title == title
    assert section.text.startswith(starts)


def test_it_cuts_glued_headings_off_the_text_before_them(sm):
    by = {s.label: s for s in sm.sections}
    assert by["2.2.3"].title == "Media" and by["2.2.3"].is_empty  # "2.2.3. Media Provisioning"
    assert by["2.2.3.1"].text.endswith("The inventory shall include media type and capacity.")
    assert by["4.1.1"].text.endswith("(see 3.4.2.).")
    assert by["4.1.1.1"].title == "Authorized users" and by["4.1.1.1"].is_empty
    assert by["3.2.3"].text.endswith("OperatingSystemPatches")


def test_it_reads_what_the_manual_says_about_itself(sm):
    by = {s.label: s for s in sm.sections}
    assert by["2"].owner == "access" and by["2"].owner_text == "the Access Team Leader"
    assert by["3"].owner == "systems_administration"
    assert by["8"].owner == "support" and by["9"].owner == "board"
    assert by["5"].owner == "" and "???" in by["5"].owner_text
    # The review notes are kept but apart from the normative text.
    assert any("not part of SM" in n.text for n in by["2"].notes)
    assert "not part of SM" not in by["2"].text
    assert any(n.text.startswith("(daniel:)") for n in by["4.2.1"].notes)
    assert "(daniel:)" not in by["4.2.1"].text
    assert ("procedure", "PROCEDURE: A backup procedure needs to be written, including:") in \
        by["4.3.4"].markers
    assert ("question", "Is that it?") in by["2.1.4"].markers
    assert any(kind == "discuss" for kind, _ in by["5"].markers)
    refs = {(r.document, r.number) for s in sm.sections for r in s.references}
    assert {("", "9.4"), ("", "10.2"), ("SM", "4.3"), ("CPS", "5.1.1"), ("CPS", "5.7"),
            ("DRC", "A.5.f"), ("SP", "")} <= refs


def test_it_reads_all_130_numbered_headings_of_the_policy(sp):
    assert len(sp.sections) == 130
    assert sp.title == "Security Policy for CAcert Systems"
    by = {s.label: s for s in sp.sections}
    assert by["2"].title == "PHYSICAL SECURITY"
    assert by["2.2.1.1"].title == "Acquisition" and by["2.2.1.1"].level == 4  # in an <h4>
    assert by["3.1.1.1"].title == "External connectivity"
    assert by["9.5"].title == "Confidentiality, Secrecy"  # "9.5 Confidentiality" (no dot)
    assert "<h" not in by["1.1"].html and "<ol>" in by["1.1"].html
    assert "style" not in "".join(s.html for s in sp.sections)


def test_it_reads_numbers_from_anchors_when_the_heading_text_has_none():
    html = ('<h1>Procedures</h1><h2 id="s2">General</h2><p>a</p>'
            '<a name="2.1"></a><h3>Scope</h3><p>b</p>'
            '<h3><a name="2.10">Later</a></h3><p>c</p><h3 id="sec-2-9">Earlier</h3>')
    with pytest.raises(DocumentError, match=r"2\.9 comes after 2\.10"):
        parse(html.encode(), format="html")
    document = parse(html.replace('sec-2-9', 'sec-2-11').encode(), format="html")
    assert [(s.label, s.title) for s in document.sections] == [
        ("2", "General"), ("2.1", "Scope"), ("2.10", "Later"), ("2.11", "Earlier")]
    assert document.title == "Procedures"


def test_it_reads_markdown_and_restructuredtext():
    md = ("# Backups\n\n## 1. Scope\n\nAll of it.\n\n### 1.1 Media\n\nTapes, see §2.\n\n"
          "## 2. Steps\n")
    document = parse(md.encode(), filename="backup.md")
    assert [(s.label, s.title, s.text) for s in document.sections] == [
        ("1", "Scope", "All of it."), ("1.1", "Media", "Tapes, see §2."), ("2", "Steps", "")]
    rst = ("1. Scope\n========\n\nText with :ip:v4:`10.0.0.1`.\n\n"
           "1.1 Hosts\n---------\n\n.. sshkeys::\n\nMore.\n")
    document = parse(rst.encode(), filename="infra.rst")
    assert [(s.label, s.title) for s in document.sections] == [("1", "Scope"), ("1.1", "Hosts")]
    assert any("sshkeys" in w for w in document.warnings)


def test_it_detects_the_format():
    assert detect_format("<!doctype html><h2>1. A</h2>") == "html"
    assert detect_format("## 1. A\n") == "markdown"
    assert detect_format("1. A\n====\n") == "rst"
    assert detect_format("1. A\n    1. B\n\n1. A\n") == "wikitext"
    assert detect_format("anything", "x.md") == "markdown"


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"   \n\n", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("1. Intro\n\ncaf\xe9".encode("latin-1"), "line 3: the file is not UTF-8: byte 0xe9"),
    (b"<html><body><p>no headings</p></body></html>", "no numbered headings"),
    (b"<h2>1. A</h2><h2>2. B</h2><h2>1. A</h2>", "line 1: section 1 appears twice"),
    (b"<h2>2. B</h2>\n<h3>2.2 X</h3>\n<h3>2.1 Y</h3>", "line 3: section 2.1 comes after 2.2"),
    (b"<h2>1. A</h2>\n<h2>2. B\n<p>text", "<h2> opened on line 2 is not closed before <p>"),
    (b"<h2>1. A</h2>\n<h3>1.1 B", "line 2: <h3> is never closed"),
    (b"1. Intro\n    1. Scope\n\n1. Intro\n\n1.1. Scape\n",
     "line 6: heading 1.1 reads 'Scape' but the table of contents (line 2) calls it 'Scope'"),
    (b"1. Intro\n        1. Deep\n    1. B\n\n1. Intro\n",
     "line 2: table of contents entry 1. 'Deep' is indented deeper"),
    (b"just some prose\nwithout numbers\n", "no numbered sections"),
])
def test_it_names_the_problem_in_bad_input(data, message):
    with pytest.raises(DocumentError) as failure:
        parse(data)
    assert message in str(failure.value)


def test_it_refuses_a_file_over_the_size_limit():
    data = b"<h2>1. A</h2>" + b"x" * (10 * 1024 * 1024)
    with pytest.raises(DocumentError, match=r"10\.0 MB; secman reads documents of up to 8 MB"):
        parse(data)
    assert MAX_BYTES == 8 * 1024 * 1024


def test_it_warns_when_the_contents_and_the_body_disagree_but_can_be_reconciled(sm):
    joined = "\n".join(sm.warnings)
    assert "the body numbers 'Notes' 6.0.1, the table of contents 5.6.1" in joined
    assert "section 9.3 'Legal' (contents line 131) has no heading in the body" in joined
    assert "'4.5.1.  Physical Security Controls' looks like a heading" in joined


@pytest.mark.parametrize("exporter, fmt", [(to_markdown, "markdown"), (to_html, "html")])
@pytest.mark.parametrize("which", ["sp", "sm"])
def test_it_round_trips_an_export(request, exporter, fmt, which):
    original = request.getfixturevalue(which)
    again = parse(exporter(original).encode(), format=fmt)

    def shape(document):
        return [(s.number, s.title, s.level, s.text, [n.text for n in s.notes], s.owner)
                for s in document.sections]

    assert shape(again) == shape(original)
    assert again.title == original.title


def test_it_escapes_markdown_so_text_stays_text():
    from secman.documents.tree import Block, Document, Section, annotate

    section = Section((1,), "A *title* # with [marks]")
    section.blocks = [Block("", "1. not a list\n# not a heading\n<b>not html</b> & more\n---")]
    annotate(section)
    again = parse(to_markdown(Document("T", "x", [section])).encode(), format="markdown")
    assert again.sections[0].title == "A *title* # with [marks]"
    assert again.sections[0].text == "1. not a list\n# not a heading\n<b>not html</b> & more\n---"
