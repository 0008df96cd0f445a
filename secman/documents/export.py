"""A document (file or stored version) as Markdown or HTML with its numbering intact.
Importing an export gives the same sections: numbers, titles, levels, text and notes."""

from __future__ import annotations

import re
from html import escape

from secman.documents.tree import Document, Section

INLINE_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>&~|])")
LINE_START_RE = re.compile(r"^([#+\-=>]|[0-9]+(?=[.)]))")


def _heading_label(section: Section) -> str:
    # A chapter needs its dot ("2. PHYSICAL SECURITY"): "2 PHYSICAL" would be plain text.
    label = section.label + ("." if section.level == 1 else "")
    return f"{label} {section.title}".rstrip()


def markdown_escape(line: str) -> str:
    line = INLINE_SPECIAL_RE.sub(r"\\\1", line)
    match = LINE_START_RE.match(line)
    if match:
        token = match.group(1)
        # "1. text" would become a list: escape the dot or parenthesis after the digits.
        line = token + "\\" + line[len(token):] if token.isdigit() else "\\" + line
    return line


def _paragraphs(section: Section) -> list[str]:
    paragraphs = [p for p in section.text.split("\n\n") if p.strip()] if section.text else []
    paragraphs += [note.text for note in section.notes if note.text.strip()]
    return paragraphs


def to_markdown(document: Document) -> str:
    out: list[str] = []
    if document.title:
        out += [f"# {markdown_escape(document.title)}", ""]
    for section in document.sections:
        hashes = "#" * min(section.level, 6)
        # Inline escapes only: after "## " a number cannot start a list.
        heading = INLINE_SPECIAL_RE.sub(r"\\\1", _heading_label(section))
        out += [f"{hashes} {heading}", ""]
        for paragraph in _paragraphs(section):
            lines = [markdown_escape(line) for line in paragraph.split("\n")]
            out.append("\\\n".join(lines))
            out.append("")
    return "\n".join(out)


def to_html(document: Document) -> str:
    title = escape(document.title or "Document")
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title></head><body>",
    ]
    if document.title:
        out.append(f"<h1>{title}</h1>")
    for section in document.sections:
        tag = f"h{min(section.level, 6)}"
        out.append(f'<{tag} id="s{escape(section.label)}">'
                   f"{escape(_heading_label(section))}</{tag}>")
        if section.html:
            out.append(section.html)
        for note in section.notes:
            out.append(note.html or f"<p>{escape(note.text)}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
