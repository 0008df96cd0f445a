"""The importers never crash or hang, whatever they are given: they return a document or
raise DocumentError."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.documents.importers import FORMATS, parse
from secman.documents.tree import DocumentError

SETTINGS = settings(max_examples=60, deadline=2000,
                    suppress_health_check=[HealthCheck.too_slow])

# Text built from the pieces the importers react to, so the examples reach deep code.
PIECES = st.sampled_from([
    "1. ", "2.1. ", "    1. ", "      2. ", "        1. ", "\n", "\n\n", "Introduction",
    "Scope", " Storage", "<h2>", "</h2>", "<h3 id=\"s2.1\">", "</h3>", "<p>", "<div>",
    "## ", "### 2.1 ", "=====\n", "-----\n", ".. note::", "§4.3", "SM§", "CPS 5.7",
    "This section is managed by the Board.", "Notes for reviewing this section", "(x:)",
    "PROCEDURE", "Is that it?", "&amp;", "<a name=\"3.1\">", "\t", "\u00a0", "ü",
])
STRUCTURED = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=60).map("".join)


def check(data: bytes, fmt: str | None) -> None:
    try:
        document = parse(data, format=fmt)
    except DocumentError as exc:
        assert str(exc)
        return
    assert document.sections
    numbers = [s.number for s in document.sections]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


@SETTINGS
@given(data=st.binary(max_size=400), fmt=st.sampled_from([None, *FORMATS]))
def test_it_never_crashes_on_arbitrary_bytes(data, fmt):
    check(data, fmt)


@SETTINGS
@given(text=STRUCTURED, fmt=st.sampled_from([None, *FORMATS]))
def test_it_never_crashes_on_document_like_text(text, fmt):
    check(text.encode("utf-8", "surrogatepass"), fmt)


# The pattern the heading check used before it looked for a tag's end with str.find: the
# same tags, but a file of "<!--" or "<p " made it quadratic (an 8 MB file ran for hours).
QUADRATIC_TAG_RE = re.compile(
    r"<(?P<close>/?)(?P<tag>h[1-6]|p|div|table|ul|ol|li|section|article|body|html)\b[^>]*>"
    r"|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)


@SETTINGS
@given(st.lists(st.sampled_from(["<", ">", "!--", "-->", "<!--", "p", "P", "h2", "/", " ",
                                 "x", "\n", "div", "<p", "</h2", "<h3 id=a"]), max_size=40))
def test_the_heading_check_finds_the_tags_the_old_pattern_found(parts):
    from secman.documents.importers.html import tags_in

    text = "".join(parts)
    expected = [(m.start(), m.group("tag").lower(), bool(m.group("close")))
                for m in QUADRATIC_TAG_RE.finditer(text) if m.group("tag")]
    assert list(tags_in(text)) == expected
