"""Lining two documents up by section number (SP 1.4.2: "Section Headings are the same
in both documents"), and the differences between two versions of one document.

Plain Python over `tree.Document`, so files and stored versions compare the same way.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from secman.documents.tree import Document, Number, Section, format_number, normalise_space

# Extra columns of the side-by-side view (SP | SM | ...): (heading, function from the
# section numbers shown to {number: safe HTML}). Apps above documents add theirs from
# their AppConfig.ready (compliance adds its status per section), so documents need not
# know them.
ColumnProvider = Callable[[list[str]], dict[str, str]]
COLUMNS: list[tuple[str, ColumnProvider]] = []


def add_column(heading: str, provider: ColumnProvider) -> None:
    """Add a column once (ready() may run more than once in tests)."""
    if not any(existing is provider for _heading, existing in COLUMNS):
        COLUMNS.append((heading, provider))


BOTH = "both"
TITLE_DIFFERS = "title differs"


def side_name(document: Document, kind: str = "", fallback: str = "a") -> str:
    """"policy", "manual" or "procedure" from the kind, else guessed from the title or
    file name; otherwise "a"/"b"."""
    if kind:
        return kind
    words = f"{document.title} {document.source_name}".lower()
    for name in ("policy", "manual", "procedure"):
        if name in words:
            return name
    return fallback


def statuses(a: str, b: str) -> list[str]:
    return [BOTH, f"{a} only", f"{b} only", f"empty in {a}", f"empty in {b}", TITLE_DIFFERS]


def _title_key(title: str) -> str:
    return re.sub(r"[\W_]+", " ", title.casefold()).strip()


@dataclass
class Row:
    number: Number
    a: Section | None
    b: Section | None
    status: str
    title: str  # the title to show: either side's, the one that has it

    @property
    def label(self) -> str:
        return format_number(self.number)

    @property
    def chapter(self) -> int:
        return self.number[0]

    @property
    def level(self) -> int:
        return len(self.number)

    @property
    def status_class(self) -> str:
        return re.sub(r"[^a-z]+", "-", self.status).strip("-")


@dataclass
class Comparison:
    a: Document
    b: Document
    a_name: str
    b_name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def statuses(self) -> list[str]:
        return statuses(self.a_name, self.b_name)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.statuses, 0)
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def to_json(self) -> dict:
        def side(section: Section | None) -> dict | None:
            if section is None:
                return None
            return {"title": section.title, "text": section.text}

        return {
            "a": {"title": self.a.title, "version": self.a.version, "kind": self.a_name},
            "b": {"title": self.b.title, "version": self.b.version, "kind": self.b_name},
            "rows": [{"number": row.label, "a": side(row.a), "b": side(row.b),
                      "status": row.status} for row in self.rows],
        }


def compare(a: Document, b: Document, *, a_kind: str = "", b_kind: str = "") -> Comparison:
    a_name = side_name(a, a_kind, "a")
    b_name = side_name(b, b_kind, "b")
    if a_name == b_name:
        a_name, b_name = "a", "b"
    result = Comparison(a, b, a_name, b_name)
    a_sections, b_sections = a.by_number(), b.by_number()
    for number in sorted(set(a_sections) | set(b_sections)):
        left, right = a_sections.get(number), b_sections.get(number)
        if left is None:
            status = f"{b_name} only"
        elif right is None:
            status = f"{a_name} only"
        elif left.title and right.title and _title_key(left.title) != _title_key(right.title):
            status = TITLE_DIFFERS
        elif left.is_empty and not right.is_empty:
            status = f"empty in {a_name}"
        elif right.is_empty and not left.is_empty:
            status = f"empty in {b_name}"
        else:
            status = BOTH
        title = (left.title if left and left.title else "") or (right.title if right else "")
        result.rows.append(Row(number, left, right, status, title))
    return result


# --- showing a comparison -------------------------------------------------------------------


def terminal_width(requested: int | None = None) -> int:
    if requested:
        return max(40, min(requested, 400))
    return max(60, min(shutil.get_terminal_size((80, 24)).columns, 200))


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def as_text(comparison: Comparison, width: int = 80, *, max_lines: int = 0) -> str:
    """Two columns, A left and B right, one block per section number."""
    column = (width - 3) // 2
    out = [
        f"{comparison.a_name.upper()}: {comparison.a.title or comparison.a.source_name}"
        f"{' (' + comparison.a.version + ')' if comparison.a.version else ''}"[:width],
        f"{comparison.b_name.upper()}: {comparison.b.title or comparison.b.source_name}"
        f"{' (' + comparison.b.version + ')' if comparison.b.version else ''}"[:width],
        "",
    ]
    for row in comparison.rows:
        out.append(f"{row.label} {row.title}  [{row.status}]"[:width])
        out.append("-" * width)
        left = _side_lines(row.a, column)
        right = _side_lines(row.b, column)
        if max_lines:
            left, right = left[:max_lines], right[:max_lines]
        for i in range(max(len(left), len(right))):
            l_text = left[i] if i < len(left) else ""
            r_text = right[i] if i < len(right) else ""
            out.append(f"{l_text:<{column}} | {r_text}".rstrip())
        out.append("")
    counts = ", ".join(f"{n} {s}" for s, n in comparison.counts().items() if n)
    out.extend(textwrap.wrap(f"{len(comparison.rows)} sections: {counts}", width))
    return "\n".join(out) + "\n"


def _side_lines(section: Section | None, column: int) -> list[str]:
    if section is None:
        return ["(no such section)"]
    lines = _wrap(section.title or "(untitled)", column)
    body = _wrap(section.text, column) if section.text else ["(empty)"]
    return [*lines, *body]


def as_json(comparison: Comparison) -> str:
    return json.dumps(comparison.to_json(), ensure_ascii=False, indent=2) + "\n"


def as_html(comparison: Comparison) -> str:
    """A stand-alone page (for `secman docs compare --format html`)."""
    rows = []
    for row in comparison.rows:
        cells = []
        for section in (row.a, row.b):
            if section is None:
                cells.append('<td class="missing">—</td>')
            else:
                body = section.html or "<p class='empty'>(empty)</p>"
                cells.append(f"<td><h3>{escape(row.label)} {escape(section.title)}</h3>"
                             f"{body}</td>")
        rows.append(
            f'<tr id="s{escape(row.label)}" class="{row.status_class}">'
            f'<th><a href="#s{escape(row.label)}">{escape(row.label)}</a><br>'
            f'<span>{escape(row.status)}</span></th>{"".join(cells)}</tr>'
        )
    title = f"{comparison.a.title or 'A'} ↔ {comparison.b.title or 'B'}"
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}"
        "td,th{border-top:1px solid #ccc;vertical-align:top;padding:.4rem;width:47%}"
        "th{width:6%;text-align:left}th span{font-weight:normal;font-size:.8em}"
        "td h3{font-size:1em;margin:0}.missing{background:#fbe9e7}"
        ".title-differs th{color:#a86300}"
        "</style></head><body>"
        f"<h1>{escape(title)}</h1><table><thead><tr><th>§</th>"
        f"<th>{escape(comparison.a_name)}</th><th>{escape(comparison.b_name)}</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


# --- versions -------------------------------------------------------------------------------


@dataclass
class Change:
    kind: str  # "added", "removed", "moved", "changed"
    number: Number
    title: str
    old_number: Number | None = None
    old_title: str = ""
    words: list[tuple[str, str]] = field(default_factory=list)  # ("=", "-", "+", text)

    @property
    def label(self) -> str:
        return format_number(self.number)

    @property
    def old_label(self) -> str:
        return format_number(self.old_number) if self.old_number else ""


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level differences: runs of ("=", text), ("-", removed), ("+", added)."""
    # Each word carries the white space after it, so equal runs stay whole.
    a = re.findall(r"\s+|\S+\s*", old)
    b = re.findall(r"\s+|\S+\s*", new)
    result: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            result.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            result.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            result.append(("+", "".join(b[j1:j2])))
    return result


def _content_key(section: Section) -> tuple[str, str]:
    return _title_key(section.title), normalise_space(section.text)


def diff(old: Document, new: Document) -> list[Change]:
    """Per-section changes from `old` to `new`, in the new document's order."""
    old_sections, new_sections = old.by_number(), new.by_number()
    removed = [n for n in old_sections if n not in new_sections]
    added = [n for n in new_sections if n not in old_sections]
    by_content: dict[tuple[str, str], list[Number]] = {}
    for number in removed:
        by_content.setdefault(_content_key(old_sections[number]), []).append(number)
    changes: list[Change] = []
    moved_from: set[Number] = set()
    for number in added:
        section = new_sections[number]
        candidates = by_content.get(_content_key(section))
        if candidates:
            source = candidates.pop(0)
            moved_from.add(source)
            changes.append(Change("moved", number, section.title, source,
                                  old_sections[source].title))
        else:
            changes.append(Change("added", number, section.title,
                                  words=[("+", section.text)] if section.text else []))
    for number in removed:
        if number not in moved_from:
            section = old_sections[number]
            changes.append(Change("removed", number, section.title,
                                  words=[("-", section.text)] if section.text else []))
    for number, section in new_sections.items():
        before = old_sections.get(number)
        if before is None:
            continue
        if before.title != section.title or normalise_space(before.text) != normalise_space(
                section.text):
            changes.append(Change("changed", number, section.title, number, before.title,
                                  word_diff(before.text, section.text)))
    changes.sort(key=lambda c: (c.number, c.kind))
    return changes


def diff_as_text(changes: list[Change]) -> str:
    if not changes:
        return "No differences.\n"
    out = []
    for change in changes:
        if change.kind == "moved":
            out.append(f"moved    {change.old_label} → {change.label} {change.title}")
            continue
        head = f"{change.kind:<8} {change.label} {change.title}"
        if change.kind == "changed" and change.old_title != change.title:
            head += f" (was: {change.old_title})"
        out.append(head)
        if change.kind == "changed":
            text = "".join(
                part if op == "=" else (f"[-{part}-]" if op == "-" else f"{{+{part}+}}")
                for op, part in change.words
            )
            out.extend("    " + line for line in textwrap.wrap(text, 100))
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    out.append("")
    out.append(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    return "\n".join(out) + "\n"
