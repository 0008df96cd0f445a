"""Reading a file into a tree of numbered sections.

`parse(data, filename=..., format=...)` checks the bytes (size, binary, UTF-8), detects
the format unless told, and hands over to one importer:

- `html`: numbered headings h1-h6 (number in the text or in an id/name anchor);
- `wikitext`: a wiki page exported as text, numbered from its leading table of contents
  (the Security Manual);
- `markdown` (markdown-it-py) and `rst` (docutils), both with numbered headings.

Every importer either returns a whole `Document` or raises `DocumentError` naming the
problem; none writes anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from secman.documents.tree import Document, DocumentError
from secman.files import FileRefused, read_capped

FORMATS = ("html", "wikitext", "markdown", "rst")
# Where HTML, Markdown and reST headings get their numbers (wiki text is numbered by its
# table of contents): `text` the number in the heading ("2.2.3 Media", or "1 Top"), else
# in its anchor; `anchors` only an id/name holding a dotted number after a prefix
# (id="sec-3.2", <a name="s3.2.1">); `structure` the heading levels, the top level that
# repeats making the chapters; `auto` text (and anchors) if any heading has a number there,
# else anchors, else structure.
NUMBERINGS = ("auto", "text", "anchors", "structure")
NUMBERING_HELP = ("Where the section numbers come from: text (the heading's own number, "
                  "else its anchor), anchors (ids such as sec-3.2 only), structure (heading "
                  "levels; the top level that repeats makes the chapters) or auto (text, "
                  "else anchors, else structure).")
USED = {
    "text": "headings numbered by their text",
    "text and anchors": "headings numbered by their text and, where it has none, their anchors",
    "anchors": "headings numbered by their anchors (id/name)",
    "structure": "headings numbered by their structure (no heading carried a number)",
    "toc": "sections numbered by the table of contents",
}


def numbering_said(used: str) -> str:
    """How an import numbered its sections, in words ("headings numbered by ...")."""
    return USED.get(used, f"numbering: {used}" if used else "numbering not recorded")
MAX_BYTES = 8 * 1024 * 1024
EXTENSIONS = {
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".md": "markdown", ".markdown": "markdown",
    ".rst": "rst", ".rest": "rst",
}
RST_TITLE_RE = re.compile(r"^[^\n]+\n([=\-~^\"'`#*+:.])\1{2,}[ \t]*$", re.MULTILINE)
MD_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
HTML_RE = re.compile(r"<(?:!doctype\s+html|html|body|h[1-6])\b", re.IGNORECASE)
TOC_LINE_RE = re.compile(r"^ *[0-9]{1,3}\. \S")


def decode(data: bytes) -> str:
    """UTF-8 text, or a DocumentError saying why not (and where)."""
    if not data.strip():
        raise DocumentError("the file is empty")
    if len(data) > MAX_BYTES:
        raise DocumentError(
            f"the file has {len(data) / 1024 / 1024:.1f} MB; secman reads documents of up "
            f"to {MAX_BYTES // 1024 // 1024} MB"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DocumentError(f"the file is binary (a NUL byte at offset {nul}), not a "
                            "text document", line=line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DocumentError(
            f"the file is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "cannot be decoded (convert it with iconv -t UTF-8)", line=line,
        ) from None
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 16:
        raise DocumentError("the file is binary (control characters), not a text document")
    return text.lstrip("\ufeff")


def detect_format(text: str, filename: str = "") -> str:
    suffix = Path(filename).suffix.lower() if filename else ""
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    head = text[:20000]
    if HTML_RE.search(head):
        return "html"
    if RST_TITLE_RE.search(head) and not MD_HEADING_RE.search(head):
        return "rst"
    if MD_HEADING_RE.search(head):
        return "markdown"
    return "wikitext"


def parse(data: bytes, *, filename: str = "", format: str | None = None,
          numbering: str = "auto") -> Document:
    """The document in `data`; `format` overrides detection, `numbering` says where the
    headings' numbers come from (NUMBERINGS)."""
    text = decode(data)
    if format is not None and format not in FORMATS:
        raise DocumentError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    if numbering not in NUMBERINGS:
        raise DocumentError(f"unknown numbering {numbering!r}: use one of "
                            f"{', '.join(NUMBERINGS)}")
    chosen = format or detect_format(text, filename)
    if chosen == "html":
        from secman.documents.importers.html import parse_html

        document = parse_html(text.encode("utf-8"), numbering=numbering)
    elif chosen == "markdown":
        from secman.documents.importers.markdown import parse_markdown

        document = parse_markdown(text, numbering=numbering)
    elif chosen == "rst":
        from secman.documents.importers.rst import parse_rst

        document = parse_rst(text, numbering=numbering)
    else:
        if numbering != "auto":
            raise DocumentError(
                f"--numbering {numbering} applies to HTML, Markdown and reStructuredText; "
                "wiki text is numbered by its table of contents (use auto)")
        from secman.documents.importers.wikitext import parse_wikitext

        document = parse_wikitext(text)
        document.numbering = "toc"
    document.source_name = Path(filename).name if filename else ""
    return document


def parse_file(path: str | Path, *, format: str | None = None,
               numbering: str = "auto") -> Document:
    """The document in the regular file `path` (never more than MAX_BYTES + 1 bytes are
    read: a device or FIFO is refused before reading)."""
    path = Path(path)
    return parse(read_document_file(path), filename=path.name, format=format,
                 numbering=numbering)


def read_document_file(path: str | Path) -> bytes:
    """The bytes of a document file, or a DocumentError saying why not."""
    try:
        return read_capped(path, MAX_BYTES)
    except FileRefused as exc:
        raise DocumentError(str(exc)) from None
