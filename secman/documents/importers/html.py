"""HTML: headings h1-h6 numbered in one of three ways (`numbering`):

- `text`: the number is in the heading text (`2.2.3.1 Provisioning`, `3. Logical`, `1 Top`)
  or, where the text shows none, in an anchor (`id="s2.2.3.1"`, `<a name="2.2.3.1">`). The
  level comes from the number, not from the tag (the SP puts 2.2.1.1 in an <h4>).
- `anchors`: only from ids and names that hold a dotted number after a prefix
  (`id="sec-3.2"`, `<a name="s3.2.1">`, `id="chapter_4"`), as tools that number headings
  only in their style sheet export them.
- `structure`: from the heading levels alone. The top level that repeats makes the
  chapters (a single <h1> above them is the title); each deeper level opens the next
  number, however many tag levels it skips.

`auto` takes text if any heading has a number there, else anchors, else structure, and
says which in `Document.numbering`. The body between two headings is kept as sanitised HTML
and as plain text.

Markdown and reStructuredText are rendered to HTML and read by this module as well.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from html import escape

import lxml.html
import nh3
from lxml import etree

from secman.documents.tree import (
    Block,
    Document,
    DocumentError,
    Section,
    finish,
    normalise_space,
    parse_number,
)

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "menu", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    "caption", "body", "html",
})
DROPPED_TAGS = ("script", "style", "head", "noscript", "template", "iframe", "object",
                "embed", "svg", "math")
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "ol", "p", "pre",
    "q", "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
}

TEXT_NUMBER_RE = re.compile(
    r"^(?:§\s*)?(?P<number>[0-9]{1,3}(?:\.[0-9]{1,3}){1,7})\.?(?=\s|$)(?P<title>.*)$"
    r"|^(?:§\s*)?(?P<chapter>[0-9]{1,3})\.(?=\s|$)(?P<chapter_title>.*)$"
    # A chapter number without its dot ("1 Top") needs a title after it.
    r"|^(?:§\s*)?(?P<bare>[0-9]{1,3})\s+(?P<bare_title>\S.*)$",
    re.DOTALL,
)
# The anchors secman has always read beside a number in the text (numbering "text").
KNOWN_ANCHOR_RE = re.compile(
    r"^(?:s|sec|sect|section|h|toc)?[-_]?(?P<number>[0-9]{1,3}(?:[._-][0-9]{1,3}){0,7})$",
    re.IGNORECASE,
)
# Numbering "anchors": any prefix of letters (sec-, s, chapter_, policy-section-).
ANCHOR_RE = re.compile(
    r"^(?:[a-z][a-z_-]{0,40}?)?[-_:.]?"
    r"(?P<number>[0-9]{1,3}(?:[._-][0-9]{1,3}){0,7})\.?$",
    re.IGNORECASE,
)
MAX_PART = 999  # the largest number one level of a document may have
SPACE_RE = re.compile(r"\s+")
# Where a tag or a comment starts; its end is looked for with str.find (tags_in), because
# a pattern that runs on to the end when the closing ">" or "-->" is missing makes a file
# of "<!--" or "<p " quadratic to read.
TAG_START_RE = re.compile(
    r"<(?P<close>/?)(?P<tag>h[1-6]|p|div|table|ul|ol|li|section|article|body|html)\b"
    r"|<!--",
    re.IGNORECASE,
)


def tags_in(text: str) -> Iterator[tuple[int, str, bool]]:
    """(offset, tag name in lower case, closing?) of each block tag outside comments, in
    one pass. A tag runs to the next ">" (none: nothing after it is a tag either); a
    comment to the next "-->" (none: "<!--" is text, and so is every later one)."""
    position, comments_end = 0, True
    while (match := TAG_START_RE.search(text, position)) is not None:
        if match.group("tag") is None:  # "<!--"
            end = text.find("-->", match.end()) if comments_end else -1
            if end < 0:
                comments_end = False
                position = match.end()
            else:
                position = end + 3
            continue
        end = text.find(">", match.end())
        if end < 0:
            return
        yield match.start(), match.group("tag").lower(), bool(match.group("close"))
        position = end + 1


def sanitise(html: str) -> str:
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
    ).strip()


def check_headings_closed(text: str) -> None:
    """A heading left open swallows the text after it into the title; say where."""
    open_heading: tuple[str, int] | None = None
    line, counted_to = 1, 0  # counted incrementally: counting from 0 each time is O(n²)
    for start, tag, closing in tags_in(text):
        line += text.count("\n", counted_to, start)
        counted_to = start
        if open_heading is not None:
            name, opened_at = open_heading
            if closing and tag == name:
                open_heading = None
                continue
            raise DocumentError(
                f"<{name}> opened on line {opened_at} is not closed before "
                f"<{'/' if closing else ''}{tag}>", line=line,
            )
        if tag in HEADINGS and not closing:
            open_heading = (tag, line)
    if open_heading is not None:
        raise DocumentError(f"<{open_heading[0]}> is never closed", line=open_heading[1])


def html_text(element: etree._Element) -> str:
    """Plain text: one line per block or <br>, white space collapsed inside lines."""
    if len(element) == 0:
        # Most paragraphs have no child elements: their text is one line.
        return normalise_space(element.text or "")
    parts: list[str] = []
    for event, el in etree.iterwalk(element, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag == "br" or tag in BLOCK_TAGS:
                parts.append("\n")
            if el.text and tag:
                parts.append(SPACE_RE.sub(" ", el.text))
        else:
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.tail and el is not element:
                parts.append(SPACE_RE.sub(" ", el.tail))
    lines = (normalise_space(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _anchor_number(heading: etree._Element, pattern: re.Pattern[str] = KNOWN_ANCHOR_RE) -> str:
    candidates = [heading.get("id"), heading.get("name")]
    for anchor in heading.iter("a"):
        candidates += [anchor.get("name"), anchor.get("id")]
    previous = heading.getprevious()
    if previous is not None and previous.tag == "a" and not (previous.text or "").strip():
        candidates += [previous.get("name"), previous.get("id")]
    parent = heading.getparent()
    if parent is not None and parent.tag == "section" and heading is parent[0]:
        candidates += [parent.get("id")]
    for candidate in candidates:
        if candidate and (match := pattern.match(candidate.strip())):
            return re.sub(r"[_-]", ".", match.group("number"))
    return ""


def text_number(text: str) -> tuple[str, str] | None:
    """(number, title) of a heading whose text starts with its number."""
    if match := TEXT_NUMBER_RE.match(text):
        for number, title in (("number", "title"), ("chapter", "chapter_title"),
                              ("bare", "bare_title")):
            if match.group(number):
                return match.group(number), normalise_space(match.group(title)).rstrip(
                    ":").strip()
    return None


def heading_number(heading: etree._Element) -> tuple[str, str] | None:
    """(number, title) of a heading numbered in its text or, failing that, in an anchor
    (numbering "text"); None for an unnumbered one."""
    text = normalise_space(html_text(heading).replace("\n", " "))
    if found := text_number(text):
        return found
    if anchor := _anchor_number(heading):
        return anchor, text
    return None


def anchor_number(heading: etree._Element) -> tuple[str, str] | None:
    """(number, title) from the heading's anchors alone (numbering "anchors"); a number
    the text shows as well is left out of the title."""
    number = _anchor_number(heading, ANCHOR_RE)
    if not number:
        return None
    text = normalise_space(html_text(heading).replace("\n", " "))
    found = text_number(text)
    return number, found[1] if found else text


def _heading_text(heading: etree._Element) -> str:
    return normalise_space(html_text(heading).replace("\n", " "))


def number_headings(
    headings: list[etree._Element], numbering: str,
) -> tuple[dict[etree._Element, tuple[str, str]], str, str]:
    """({heading: (number, title)}, document title, numbering used)."""
    if numbering in ("auto", "text"):
        numbered, title = _number_by(headings, heading_number)
        shown = sum(1 for heading in numbered
                    if text_number(_heading_text(heading)) is not None)
        if shown or numbering == "text":
            used = "text" if shown == len(numbered) else (
                "anchors" if shown == 0 else "text and anchors")
            return numbered, title, used
        known = (numbered, title)  # the anchors secman always read (s2.1, sec-2.1, toc_2)
    if numbering in ("auto", "anchors"):
        numbered, title = _number_by(headings, anchor_number)
        if numbering == "anchors" or (numbered and _all_anchored(headings, numbered)):
            return numbered, title, "anchors"
        if known[0]:
            return known[0], known[1], "anchors"
    numbered, title = _number_by_structure(headings)
    return numbered, title, "structure"


def _all_anchored(headings: list[etree._Element],
                  numbered: dict[etree._Element, tuple[str, str]]) -> bool:
    """Whether every heading with text from the first anchored one on has an anchor: in
    auto, a tool that numbers in anchors numbers them all, and an id such as "a1" that
    happens to end in a digit does not make a document anchor-numbered."""
    started = False
    for heading in headings:
        started = started or heading in numbered
        if started and heading not in numbered and _heading_text(heading):
            return False
    return True


def _number_by(
    headings: list[etree._Element],
    number_of: Callable[[etree._Element], tuple[str, str] | None],
) -> tuple[dict[etree._Element, tuple[str, str]], str]:
    numbered: dict[etree._Element, tuple[str, str]] = {}
    document_title = ""
    for heading in headings:
        found = number_of(heading)
        if found is None:
            if not numbered and not document_title:
                document_title = _heading_text(heading)
            continue
        numbered[heading] = found
    return numbered, document_title


def _number_by_structure(
    headings: list[etree._Element],
) -> tuple[dict[etree._Element, tuple[str, str]], str]:
    """Numbers from the heading levels. A single heading above all others that comes
    first is the document's title; of the rest, the smallest level that occurs more than
    once makes the chapters (the smallest level at all if none repeats), and a level
    above it before the first chapter is the title as well. Deeper levels nest, a skipped
    tag level (h2 then h4) counting as one step; a level above the chapters after the
    first chapter is a chapter too."""
    titled = [(heading, int(heading.tag[1]), _heading_text(heading)) for heading in headings]
    titled = [item for item in titled if item[2]]
    if not titled:
        return {}, ""
    numbered: dict[etree._Element, tuple[str, str]] = {}
    document_title = ""
    counts = Counter(level for _, level, _ in titled)
    top = min(counts)
    if counts[top] == 1 and titled[0][1] == top and len(titled) > 1:
        # One heading above all others, first: the document's title (an <h1> over <h2>s).
        document_title = titled[0][2]
        titled = titled[1:]
        counts = Counter(level for _, level, _ in titled)
    repeating = [level for level, count in counts.items() if count > 1]
    chapter_level = min(repeating) if repeating else min(counts)
    open_levels: list[int] = []  # the tag level of each open depth
    counters: list[int] = []
    for heading, level, text in titled:
        if not open_levels and level > chapter_level:
            continue  # before the first chapter: the preamble
        if level < chapter_level and not open_levels:
            document_title = document_title or text
            continue
        if level <= chapter_level:
            open_levels = [chapter_level]
        else:
            while open_levels and open_levels[-1] >= level:
                open_levels.pop()
            open_levels.append(level)
        depth = len(open_levels)
        counters = counters[:depth]
        if len(counters) < depth:
            counters.append(0)
        counters[-1] += 1
        if counters[-1] > MAX_PART:
            raise DocumentError(
                f"more than {MAX_PART} headings at one level under "
                f"{'.'.join(map(str, counters[:-1])) or 'the top'}: numbering by "
                "structure stops there", line=_line_of(heading))
        numbered[heading] = (".".join(map(str, counters)), text)
    return numbered, document_title


def _line_of(element: etree._Element) -> int:
    data_line = element.get("data-line")
    if data_line and data_line.isdigit():
        return int(data_line)
    return element.sourceline or 0


def parse_html(data: bytes, *, format_name: str = "html", numbering: str = "auto") -> Document:
    text = data.decode("utf-8")
    if format_name == "html":
        check_headings_closed(text)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True,
                                  remove_pis=True, no_network=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"the HTML cannot be read ({exc})") from None
    for element in list(root.iter(*DROPPED_TAGS)):
        if element.tag == "head":
            continue
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
    title_element = root.find(".//title")
    page_title = normalise_space(title_element.text_content()) if title_element is not None else ""
    document_title = ""
    body = root.find("body")
    if body is None:
        body = root

    found, document_title, used = number_headings(list(body.iter(*HEADINGS)), numbering)
    numbered = {heading: Section(parse_number(number), title[:500], _line_of(heading))
                for heading, (number, title) in found.items()}
    if not numbered:
        raise DocumentError(_NONE_FOUND["auto" if numbering == "auto" else used])
    if not document_title and page_title != "<string>":
        document_title = page_title
    containers: set[etree._Element] = set()
    for heading in numbered:
        containers.update(heading.iterancestors())

    sections: list[Section] = []
    current: Section | None = None
    pending: list[str] = []  # inline HTML waiting to become a paragraph

    def flush() -> None:
        if current is not None and pending:
            _add_block(current, "<p>" + "".join(pending) + "</p>")
        pending.clear()

    for kind, item in _walk(body, numbered, containers):
        if kind == "heading":
            flush()
            assert isinstance(item, etree._Element)
            current = numbered[item]
            sections.append(current)
        elif current is None:
            continue  # the preamble before the first numbered heading
        elif kind == "text":
            assert isinstance(item, str)
            if item.strip() or pending:
                pending.append(escape(item, quote=False))
        else:
            assert isinstance(item, etree._Element)
            if item.tag in BLOCK_TAGS:
                flush()
                _add_block(current, etree.tostring(item, encoding="unicode", with_tail=False,
                                                   method="html"))
            else:
                pending.append(etree.tostring(item, encoding="unicode", with_tail=False,
                                              method="html"))
    flush()
    for section in sections:
        _make_blocks(section)
    document = finish(Document(document_title, format_name, sections))
    document.numbering = used
    return document


_NONE_FOUND = {
    "auto": "no numbered headings, and no headings to number by their structure: secman "
            "reads h1-h6 headings numbered in their text (2.2.3.1 Provisioning), in an id "
            "(id=\"sec-3.2\") or by their levels",
    "text": "no numbered headings: secman reads h1-h6 headings that start with a section "
            "number (2.2.3.1 Provisioning) or carry it in their id (id=\"s2.2.3.1\"); "
            "--numbering anchors or structure numbers headings that show no number",
    "text and anchors": "no numbered headings",
    "anchors": "no heading carries a section number in an id or name (id=\"sec-3.2\", "
               "<a name=\"s3.2.1\">)",
    "structure": "no headings with text: there is nothing to number (h1-h6)",
}


def _add_block(section: Section, html: str) -> None:
    # Collected raw; _make_blocks sanitises a whole section at once (one nh3 call and one
    # parse per section rather than per paragraph: a 5 MB file has 25,000 paragraphs).
    section.blocks.append(Block(html, ""))


def _make_blocks(section: Section) -> None:
    raw = "\n".join(block.html for block in section.blocks)
    section.blocks = []
    clean = sanitise(raw) if raw else ""
    if not clean:
        return
    fragment = lxml.html.fragment_fromstring(clean, create_parent="div")

    def loose(text: str | None) -> None:
        if text and text.strip():
            section.blocks.append(Block(f"<p>{escape(text.strip(), quote=False)}</p>",
                                        normalise_space(text)))

    loose(fragment.text)
    for child in fragment:
        if isinstance(child.tag, str):
            html = etree.tostring(child, encoding="unicode", with_tail=False, method="html")
            text = html_text(child)
            if text or child.tag == "hr":
                section.blocks.append(Block(html.strip(), text))
        loose(child.tail)


def _walk(
    root: etree._Element,
    headings: dict[etree._Element, Section],
    containers: set[etree._Element],
) -> Iterator[tuple[str, etree._Element | str]]:
    """The body in document order, as headings, loose text and whole elements; only the
    elements that contain a numbered heading are opened up. Iterative: deep nesting in a
    hostile file cannot exhaust the stack."""
    if root.text:
        yield "text", root.text
    stack: list[tuple[Iterator[etree._Element], str | None]] = [(iter(root), None)]
    while stack:
        children, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if tail:
                yield "text", tail
            continue
        if isinstance(child.tag, str):
            if child in headings:
                yield "heading", child
            elif child in containers:
                if child.text:
                    yield "text", child.text
                stack.append((iter(child), child.tail))
                continue
            else:
                yield "element", child
        if child.tail:
            yield "text", child.tail
