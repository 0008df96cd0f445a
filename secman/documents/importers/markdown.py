"""Markdown (CommonMark, via markdown-it-py): `## 2.2.3 Media` headings. Rendered to HTML
with each heading's source line, then read like HTML."""

from __future__ import annotations

from typing import Any

from secman.documents.tree import Document


def render(text: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    # markdown-it types the renderer as a protocol without the rules its RendererHTML has.
    default = md.renderer.rules.get("heading_open")  # type: ignore[attr-defined]

    def heading_open(renderer: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if token.map:
            token.attrSet("data-line", str(token.map[0] + 1))
        if default is not None:
            return default(tokens, idx, options, env)
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", heading_open)
    return md.render(text)


def parse_markdown(text: str, *, numbering: str = "auto") -> Document:
    from secman.documents.importers.html import parse_html

    html = "<!doctype html><html><body>" + render(text) + "</body></html>"
    return parse_html(html.encode("utf-8"), format_name="markdown", numbering=numbering)
