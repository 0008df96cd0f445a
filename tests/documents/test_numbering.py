"""Headings without visible numbers (issue 13, "Importers: real documents"): numbered from
anchors that hold a dotted number after a prefix, or else by the heading structure, with
`--numbering text|anchors|structure|auto`; and a chapter heading `1 Top` without its dot
kept with its body."""

from __future__ import annotations

import json
import re
from html import escape

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secman.cli import main
from secman.documents.importers import NUMBERINGS, parse
from secman.documents.tree import Document, DocumentError, normalise_space
from tests.documents.conftest import SP

SETTINGS = settings(max_examples=80, deadline=3000,
                    suppress_health_check=[HealthCheck.too_slow])


def numbers(document: Document) -> list[str]:
    return [section.label for section in document.sections]


# --- "1 Top": a chapter number without its dot ----------------------------------------------


@pytest.mark.parametrize(("fmt", "data"), [
    ("html", b"<h2>1 Top</h2>\n<p>Body one.</p>\n<h3>1.1 Sub</h3>\n<p>Two.</p>"),
    ("markdown", b"# 1 Top\n\nBody one.\n\n## 1.1 Sub\n\nTwo.\n"),
    ("rst", b"1 Top\n=====\n\nBody one.\n\n1.1 Sub\n-------\n\nTwo.\n"),
])
def test_a_chapter_heading_without_its_dot_is_kept_with_its_body(fmt, data):
    document = parse(data, format=fmt)
    assert [(s.label, s.title, s.text) for s in document.sections] == [
        ("1", "Top", "Body one."), ("1.1", "Sub", "Two.")]
    assert not any("has no heading of its own" in w for w in document.warnings)
    assert document.numbering == "text"


def test_a_bare_number_needs_a_title_and_at_most_three_digits():
    document = parse(b"<h1>2026 in review</h1><h2>1 Top</h2><p>x</p><h2>7</h2><p>y</p>",
                     format="html")
    assert document.title == "2026 in review"
    assert [(s.label, s.title, s.text) for s in document.sections] == [("1", "Top", "x\n\n7\n\ny")]


# --- anchors ------------------------------------------------------------------------------------

ANCHORED = b"""<!doctype html><html><body>
<h1>Policy for Systems</h1><p>Preamble.</p>
<h2 id="sec-3">Logical security</h2><p>Three.</p>
<h3 id="sec-3.2">Systems</h3><p>Three two.</p>
<h4><a name="s3.2.1"></a>Disks</h4><p>Three two one.</p>
<section id="chapter_4"><h2>Operations</h2><p>Four.</p></section>
</body></html>"""


@pytest.mark.parametrize("numbering", ["auto", "anchors"])
def test_headings_are_numbered_by_their_anchors(numbering):
    document = parse(ANCHORED, format="html", numbering=numbering)
    assert document.numbering == "anchors"
    assert document.title == "Policy for Systems"
    assert [(s.label, s.title, s.text) for s in document.sections] == [
        ("3", "Logical security", "Three."), ("3.2", "Systems", "Three two."),
        ("3.2.1", "Disks", "Three two one."), ("4", "Operations", "Four.")]


def test_anchors_mode_takes_the_anchor_over_the_text_and_keeps_the_title_clean():
    document = parse(b'<h2 id="part-2">1. Wrong number</h2><p>x</p>', format="html",
                     numbering="anchors")
    assert [(s.label, s.title) for s in document.sections] == [("2", "Wrong number")]


def test_text_mode_refuses_headings_without_visible_numbers_and_says_what_helps():
    with pytest.raises(DocumentError, match="--numbering anchors or structure"):
        parse(b"<h2>Intro</h2><p>x</p><h2>Scope</h2>", format="html", numbering="text")
    with pytest.raises(DocumentError, match="no heading carries a section number in an id"):
        parse(b"<h2>Intro</h2><p>x</p><h2>Scope</h2>", format="html", numbering="anchors")


def test_word_style_toc_anchors_are_not_section_numbers():
    # _Toc123456 (Word) holds six digits: not a section number; structure numbers it.
    document = parse(b'<h2 id="_Toc123456">Intro</h2><p>x</p><h2 id="_Toc123457">Scope</h2>',
                     format="html")
    assert document.numbering == "structure"
    assert numbers(document) == ["1", "2"]


# --- structure -----------------------------------------------------------------------------------

STRUCTURED = b"""<html><head><title>t</title></head><body>
<h1>Security Policy</h1><p>Preamble.</p>
<h2>Introduction</h2><p>One.</p>
<h3>Scope</h3><p>One one.</p>
<h5>Deep</h5><p>One one one (h5 under h3: one step).</p>
<h3>Terms</h3>
<h2>Physical</h2><p>Two.</p>
<h4>Media</h4><p>Two one.</p>
<h2>   </h2>
<h2>Logical</h2>
</body></html>"""


@pytest.mark.parametrize("numbering", ["auto", "structure"])
def test_headings_are_numbered_by_their_structure(numbering):
    document = parse(STRUCTURED, format="html", numbering=numbering)
    assert document.numbering == "structure"
    assert document.title == "Security Policy"
    assert [(s.label, s.title) for s in document.sections] == [
        ("1", "Introduction"), ("1.1", "Scope"), ("1.1.1", "Deep"), ("1.2", "Terms"),
        ("2", "Physical"), ("2.1", "Media"), ("3", "Logical")]
    assert document.by_number()[(1, 1, 1)].text == "One one one (h5 under h3: one step)."
    assert document.warnings == []


def test_structure_numbers_markdown_and_rst_too():
    md = parse(b"# Title\n\nx\n\n## A\n\na\n\n### A1\n\n## B\n\nb\n", format="markdown")
    rst = parse(b"A\n=\n\na\n\nA1\n--\n\nx\n\nB\n=\n\nb\n", format="rst")
    assert (md.numbering, numbers(md), md.title) == ("structure", ["1", "1.1", "2"], "Title")
    assert (rst.numbering, numbers(rst)) == ("structure", ["1", "1.1", "2"])


def test_wiki_text_is_numbered_by_its_table_of_contents_only():
    data = b"1. Intro\n    1. Scope\n\n1. Intro\n\ntext\n\n1.1. Scope\n\nmore\n"
    assert parse(data, format="wikitext").numbering == "toc"
    with pytest.raises(DocumentError, match="wiki text is numbered by its table of contents"):
        parse(data, format="wikitext", numbering="structure")


def test_an_unknown_numbering_is_refused():
    with pytest.raises(DocumentError, match="unknown numbering 'magic'"):
        parse(b"<h2>1. A</h2>", numbering="magic")


def test_too_many_headings_at_one_level_are_refused_by_structure():
    data = "".join(f"<h2>Part</h2><p>{i}</p>" for i in range(1000)).encode()
    with pytest.raises(DocumentError, match="more than 999 headings at one level"):
        parse(data, format="html", numbering="structure")


def test_sections_previews_the_numbering_on_the_command_line(tmp_path):
    source = tmp_path / "anchored.html"
    source.write_bytes(ANCHORED)
    runner = CliRunner()
    result = runner.invoke(main, ["docs", "sections", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == ["3 Logical security", "  3.2 Systems",
                                              "    3.2.1 Disks"]
    assert "4 sections; headings numbered by their anchors (id/name)" in result.stderr
    result = runner.invoke(main, ["docs", "sections", str(source), "--numbering",
                                  "structure", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["numbering"] == "structure"
    assert [s["number"] for s in data["sections"]] == ["1", "1.1", "1.1.1", "2"]
    plain = tmp_path / "plain.html"
    plain.write_bytes(STRUCTURED)
    result = runner.invoke(main, ["docs", "sections", str(plain), "--numbering", "text"])
    assert result.exit_code == 1
    assert "plain.html: no numbered headings" in result.output


# --- properties: random heading trees, ids and nesting ----------------------------------------

WORDS = st.sampled_from(["Scope", "Systems", "Media", "Access", "Logging", "Keys", "Über",
                         "Réseau", "A&B", "<x>", "Q?", "§", "Notes"])
TITLE = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
PREFIXES = st.sampled_from(["s", "sec-", "section_", "chapter-", "policy-sec-", "S", "h",
                            "toc-", "part:", "x."])
SEPARATORS = st.sampled_from([".", "-", "_"])


@st.composite
def outlines(draw: st.DrawFn) -> list[tuple[int, ...]]:
    """Section numbers in document order, as a real document has them: 1, 1.1, 1.1.1,
    1.2, 2, ... (each a child of the one before, or the next sibling of it or of one of
    its parents)."""
    steps = draw(st.lists(st.integers(min_value=-3, max_value=1), min_size=1, max_size=25))
    current: list[int] = [1]
    result = [tuple(current)]
    for step in steps:
        if step == 1 and len(current) < 6:
            current.append(1)
        else:
            keep = max(1, len(current) + min(step, 0))
            current = current[:keep]
            current[-1] += 1
        result.append(tuple(current))
    return result


def wrap(html: str, depth: int, tag: str) -> str:
    return f"<{tag}>" * depth + html + f"</{tag}>" * depth


@SETTINGS
@given(outline=outlines(), data=st.data())
def test_anchors_give_exactly_the_numbers_they_hold(outline, data):
    """Tags unrelated to depth, headings inside random nesting, any prefix and separator:
    the numbers are the anchors' and auto says so."""
    parts = ["<h1>The Policy</h1><p>preamble</p>"]
    titles = []
    for number in outline:
        title = data.draw(TITLE)
        titles.append(title)
        prefix = data.draw(PREFIXES)
        anchor = prefix + data.draw(SEPARATORS).join(map(str, number))
        tag = f"h{data.draw(st.integers(min_value=2, max_value=6))}"
        where = data.draw(st.sampled_from(["id", "name", "section"]))
        if where == "id":
            heading = f'<{tag} id="{escape(anchor)}">{escape(title)}</{tag}>'
        elif where == "name":
            heading = f'<{tag}><a name="{escape(anchor)}"></a>{escape(title)}</{tag}>'
        else:
            heading = (f'<section id="{escape(anchor)}"><{tag}>{escape(title)}</{tag}>'
                       "<p>in the section</p></section>")
        body = f"<p>{escape(title)} body</p>"
        depth = data.draw(st.integers(min_value=0, max_value=8))
        parts.append(wrap(heading, depth, data.draw(st.sampled_from(["div", "blockquote"])))
                     + body)
    html = "<!doctype html><html><body>" + "\n".join(parts) + "</body></html>"
    document = parse(html.encode(), format="html")
    assert document.numbering == "anchors"
    assert [s.number for s in document.sections] == outline
    assert [s.title for s in document.sections] == [normalise_space(t) for t in titles]
    assert document.title == "The Policy"


@st.composite
def heading_trees(draw: st.DrawFn) -> list[tuple[int, str]]:
    """Headings (tag level, text) in any order of levels, some without text."""
    return draw(st.lists(st.tuples(st.integers(min_value=1, max_value=6),
                                   st.one_of(TITLE, st.just(""), st.just("  "))),
                         min_size=1, max_size=40))


@SETTINGS
@given(tree=heading_trees(), nesting=st.integers(min_value=0, max_value=30))
# Found by CI's derandomised run: a top-level heading after the chapters is one of them.
@example(tree=[(2, "Scope"), (2, "Scope"), (1, "Scope"), (3, "Scope")], nesting=0)
def test_structure_numbers_any_heading_tree_in_outline_order(tree, nesting):
    html = "".join(wrap(f"<h{level}>{escape(text)}</h{level}><p>b</p>", nesting, "div")
                   for level, text in tree)
    titled = [(level, normalise_space(text)) for level, text in tree if text.strip()]
    try:
        document = parse(html.encode(), format="html", numbering="structure")
    except DocumentError as exc:
        assert not titled, exc  # only a tree with no text at all has nothing to number
        return
    assert document.numbering == "structure"
    if len(titled) > 1 and [lv for lv, _ in titled].count(min(lv for lv, _ in titled)) == 1 \
            and titled[0][0] == min(lv for lv, _ in titled):
        assert document.title == titled[0][1]  # a single top heading first: the title
        titled = titled[1:]
    levels = [level for level, _ in titled]
    chapter = min((lv for lv in set(levels) if levels.count(lv) > 1), default=min(levels))
    first = next(i for i, lv in enumerate(levels) if lv == chapter)
    # Before the first chapter-level heading: a title above it, or preamble below it.
    kept = titled[first:]
    assert [s.title for s in document.sections] == [text for _, text in kept]
    sections = document.sections
    assert sections[0].number == (1,)
    assert not document.warnings  # never a number without its parent
    for (level_a, _), (level_b, _), a, b in zip(kept, kept[1:], sections, sections[1:],
                                                 strict=False):
        # b is a's first child, or the next sibling of a or of one of a's parents.
        assert b.number == (*a.number, 1) or (
            len(b.number) <= len(a.number)
            and b.number[:-1] == a.number[:len(b.number) - 1]
            and b.number[-1] == a.number[len(b.number) - 1] + 1)
        # A heading above the chapter level, after the first chapter, is a chapter too.
        level_a, level_b = max(level_a, chapter), max(level_b, chapter)
        if level_b > level_a:
            assert b.number == (*a.number, 1)
        elif level_b == level_a:
            assert len(b.number) == len(a.number)
        else:
            assert len(b.number) <= len(a.number)


IDS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
            max_size=20),
    st.builds(lambda p, n: p + n, st.text(alphabet="sSec-_.:x9", max_size=6),
              st.from_regex(r"[0-9]{1,4}([._-][0-9]{0,4}){0,9}", fullmatch=True)),
)


@SETTINGS
@given(headings=st.lists(st.tuples(st.integers(min_value=1, max_value=6), IDS,
                                   st.one_of(TITLE, st.just("1 Top"), st.just("2. x"),
                                             st.just(""))), max_size=30),
       numbering=st.sampled_from(NUMBERINGS))
def test_hostile_ids_and_headings_give_a_document_or_a_clear_error(headings, numbering):
    html = "".join(f'<h{level} id="{escape(ident)}">{escape(text)}</h{level}><p>x</p>'
                   for level, ident, text in headings)
    try:
        document = parse(html.encode(), format="html", numbering=numbering)
    except DocumentError as exc:
        assert str(exc)
        return
    found = [s.number for s in document.sections]
    assert found == sorted(found) and len(set(found)) == len(found)
    assert document.numbering in ("text", "anchors", "text and anchors", "structure")
    if numbering != "auto":
        assert document.numbering.startswith(numbering) or (
            numbering == "text" and document.numbering == "anchors")


# --- the Security Policy exported without visible numbers --------------------------------------

HEADING_RE = re.compile(r'<h([1-6])(?: id="s([0-9.]+)")?>(.*?)</h\1>', re.DOTALL)
VISIBLE_NUMBER_RE = re.compile(r"^\s*[0-9]+(?:\.[0-9]+)*\.?\s*")


def without_visible_numbers(html: str, variant: str) -> str:
    """The SP as another tool would export it: no number in any heading's text; the number
    only in an id with another prefix (anchors), or nowhere but in the heading levels,
    one tag level per depth (structure)."""

    def rewrite(match: re.Match[str]) -> str:
        level, number, inner = match.groups()
        if not number:
            return match.group(0)  # the document's title
        inner = VISIBLE_NUMBER_RE.sub("", inner, count=1)
        if variant == "anchors":
            return f'<h{level} id="sec-{number}">{inner}</h{level}>'
        depth = number.count(".") + 1
        return f"<h{depth + 1}>{inner}</h{depth + 1}>"

    derived = HEADING_RE.sub(rewrite, html)
    assert not re.search(r"<h[2-6][^>]*>\s*[0-9]", derived)  # no visible number left
    return derived


@pytest.mark.django_db
def test_the_policy_without_visible_numbers_imports_as_an_older_version_of_itself(org,
                                                                                 tmp_path):
    runner = CliRunner()
    sp = SP.read_text(encoding="utf-8")
    for label, variant in (("anchored", "anchors"), ("structured", "structure")):
        derived = tmp_path / f"policy-{variant}.html"
        derived.write_text(without_visible_numbers(sp, variant), encoding="utf-8")
        result = runner.invoke(main, ["docs", "import", str(derived), "--name",
                                      "Security Policy", "--kind", "policy", "--version",
                                      label])
        assert result.exit_code == 0, result.output
        assert "130 sections imported" in result.stdout
        said = {"anchors": "headings numbered by their anchors",
                "structure": "headings numbered by their structure"}[variant]
        assert said in result.stdout
    result = runner.invoke(main, ["docs", "import", str(SP), "--name", "Security Policy",
                                  "--kind", "policy", "--version", "2024"])
    assert result.exit_code == 0, result.output
    assert "headings numbered by their text" in result.stdout
    for label in ("anchored", "structured"):
        result = runner.invoke(main, ["docs", "compare", f"security-policy@{label}",
                                      "security-policy@2024", "--format", "json"])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["rows"]
        assert len(rows) == 130
        assert {row["status"] for row in rows} == {"both"}
        chapters = {row["number"]: row["a"]["title"] for row in rows if "." not in row["number"]}
        assert list(chapters)[:9] == [str(n) for n in range(1, 10)]
        assert chapters["3"] == "LOGICAL SECURITY"
        diff = runner.invoke(main, ["docs", "diff", f"security-policy@{label}",
                                    "security-policy@2024", "--format", "json"])
        assert json.loads(diff.stdout) == []  # same numbers, titles and text
