"""reStructuredText (docutils): section titles such as `2.2.3 Media`. Rendered to HTML by
docutils with includes, raw HTML and unknown directives made harmless, then read like
HTML. Each title keeps its source line."""

from __future__ import annotations

import io

from secman.documents.tree import Document, DocumentError

SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "doctitle_xform": False,
    "sectsubtitle_xform": False,
    "report_level": 5,  # problems become warnings below, not output on stderr
    "halt_level": 5,
    "warning_stream": io.StringIO(),
    "input_encoding": "unicode",
    "output_encoding": "unicode",
    "embed_stylesheet": False,
    "stylesheet_path": "",
    "syntax_highlight": "none",
    "section_self_link": False,
}


def parse_rst(text: str, *, numbering: str = "auto") -> Document:
    from docutils import nodes
    from docutils.core import publish_doctree, publish_from_doctree

    from secman.documents.importers.html import parse_html

    try:
        doctree = publish_doctree(text, settings_overrides=dict(SETTINGS,
                                                                warning_stream=io.StringIO()))
    except Exception as exc:  # docutils raises many kinds; the message is what matters
        raise DocumentError(f"the reStructuredText cannot be read ({exc})") from None
    problems = []
    for message in list(doctree.findall(nodes.system_message)):
        if message.get("level", 0) >= 3:
            problems.append(f"line {message.get('line') or '?'}: {message.astext()[:200]}")
    for title in doctree.findall(nodes.title):
        if title.line:
            title["classes"].append(f"line-{title.line - 1}")
    try:
        html = publish_from_doctree(doctree, writer="html5", settings_overrides=dict(
            SETTINGS, warning_stream=io.StringIO()))
    except Exception as exc:
        raise DocumentError(f"the reStructuredText cannot be rendered ({exc})") from None
    html_text = html if isinstance(html, str) else html.decode("utf-8")
    document = parse_html(_mark_lines(html_text).encode("utf-8"), format_name="rst",
                          numbering=numbering)
    document.warnings.extend(problems)
    return document


def _mark_lines(html: str) -> str:
    """docutils writes the title's classes onto the heading; turn them into data-line."""
    import re

    return re.sub(r'<(h[1-6]) class="line-([0-9]+)"', r'<\1 data-line="\2"', html)
