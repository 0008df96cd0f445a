"""HTML: numbered headings h1-h6; the number is in the heading text (`2.2.3.1
Provisioning`) or only in an anchor (`id="s2.2.3.1"`, `<a name="2.2.3.1">`). The level
comes from the number, not from the tag (the SP puts 2.2.1.1 in an <h4>). The body
between two headings is kept as sanitised HTML and as plain text.

Markdown and reStructuredText are rendered to HTML and read by this module as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    r"|^(?:§\s*)?(?P<chapter>[0-9]{1,3})\.(?=\s|$)(?P<chapter_title>.*)$",
    re.DOTALL,
)
ANCHOR_RE = re.compile(
    r"^(?:s|sec|sect|section|h|toc)?[-_]?(?P<number>[0-9]{1,3}(?:[._-][0-9]{1,3}){0,7})$",
    re.IGNORECASE,
)
SPACE_RE = re.compile(r"\s+")
TAG_RE = re.compile(
    r"<(?P<close>/?)(?P<tag>h[1-6]|p|div|table|ul|ol|li|section|article|body|html)\b[^>]*>"
    r"|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)


def sanitise(html: str) -> str:
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
    ).strip()


def check_headings_closed(text: str) -> None:
    """A heading left open swallows the text after it into the title; say where."""
    open_heading: tuple[str, int] | None = None
    line, counted_to = 1, 0  # counted incrementally: counting from 0 each time is O(n²)
    for match in TAG_RE.finditer(text):
        tag = (match.group("tag") or "").lower()
        if not tag:
            continue  # a comment
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        if open_heading is not None:
            name, opened_at = open_heading
            if match.group("close") and tag == name:
                open_heading = None
                continue
            raise DocumentError(
                f"<{name}> opened on line {opened_at} is not closed before "
                f"<{match.group('close')}{tag}>", line=line,
            )
        if tag in HEADINGS and not match.group("close"):
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


def _anchor_number(heading: etree._Element) -> str:
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
        if candidate and (match := ANCHOR_RE.match(candidate.strip())):
            return re.sub(r"[_-]", ".", match.group("number"))
    return ""


def heading_number(heading: etree._Element) -> tuple[str, str] | None:
    """(number, title) of a numbered heading, None for an unnumbered one."""
    text = normalise_space(html_text(heading).replace("\n", " "))
    if match := TEXT_NUMBER_RE.match(text):
        number = match.group("number") or match.group("chapter")
        title = match.group("title") if match.group("number") else match.group("chapter_title")
        return number, normalise_space(title).rstrip(":").strip()
    if anchor := _anchor_number(heading):
        return anchor, text
    return None


def _line_of(element: etree._Element) -> int:
    data_line = element.get("data-line")
    if data_line and data_line.isdigit():
        return int(data_line)
    return element.sourceline or 0


def parse_html(data: bytes, *, format_name: str = "html") -> Document:
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

    numbered: dict[etree._Element, Section] = {}
    for heading in body.iter(*HEADINGS):
        found = heading_number(heading)
        if found is None:
            if not numbered and not document_title:
                document_title = normalise_space(html_text(heading).replace("\n", " "))
            continue
        number, title = found
        numbered[heading] = Section(parse_number(number), title[:500], _line_of(heading))
    if not numbered:
        raise DocumentError(
            "no numbered headings: secman reads h1-h6 headings that start with a section "
            "number (2.2.3.1 Provisioning) or carry it in their id (id=\"s2.2.3.1\")"
        )
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
    return finish(Document(document_title, format_name, sections))


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
