"""A wiki page exported as plain text, numbered from its leading table of contents.

The Security Manual's export is the model (see shared/reference/README.md):

- the table of contents is a nested, indented list; chapter titles 2-10 are missing and
  numbering restarts at each chapter (`    1. Facility` is 2.1), so a level-2 entry whose
  number does not go up starts the next chapter, untitled;
- body headings of levels 1-3 keep their numbers (`2.2.3. Media`); level-4 headings have
  lost theirs and are often glued to the end of the line before
  (`... media type and capacity. Storage`, even `2.2.3. Media Provisioning`). The table of
  contents says which title comes next, so the text is split exactly there;
- the text before a chapter's first section ("This section is managed by ...") belongs
  to that chapter, whose heading the export lost.

Without a table of contents, stand-alone lines such as `2.1. Facility` are the headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from secman.documents.tree import (
    Block,
    Document,
    DocumentError,
    Number,
    Section,
    finish,
    format_number,
    normalise_space,
    parse_number,
)

TOC_RE = re.compile(r"^(?P<indent> *)(?P<n>[0-9]{1,3})\.[ \t]+(?P<title>\S.*?)\s*$")
# "2.1. Facility", "2.1 Facility", "2. Physical Security" (a chapter needs its dot:
# "6 months" is text).
HEADING_RE = re.compile(
    r"^(?P<number>[0-9]{1,3}(?:\.[0-9]{1,3}){1,7}\.?|[0-9]{1,3}\.)"
    r"[ \t]+(?P<title>\S.{0,300}?)\s*$"
)
FOOTER_RE = re.compile(
    r"^(?P<page>\S{1,200}) \((?P<edited>last (?:edited|modified) [^)]{1,200})\)$")
OWNER_LINE_RE = re.compile(r"^This section is managed by\b")
MAX_GLUED = 6


@dataclass
class Entry:
    number: Number
    title: str
    line: int  # in the table of contents; 0 for a chapter the contents leave out
    section: Section = field(init=False)
    found_at: int = 0

    def __post_init__(self) -> None:
        self.section = Section(self.number, self.title)

    @property
    def synthesized(self) -> bool:
        return self.line == 0


@dataclass
class Paragraph:
    line: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(normalise_space(line) for line in self.lines if line.strip())


def _block(lines: list[str]) -> Block | None:
    kept = [normalise_space(line) for line in lines if line.strip()]
    if not kept:
        return None
    return Block("<p>" + "<br>\n".join(escape(line, quote=False) for line in kept) + "</p>",
                 "\n".join(kept))


def _paragraphs(lines: list[str], first_line: int) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    current: Paragraph | None = None
    for offset, line in enumerate(lines):
        if line.strip():
            if current is None:
                current = Paragraph(first_line + offset, [])
                paragraphs.append(current)
            current.lines.append(line.rstrip())
        else:
            current = None
    return paragraphs


def read_toc(lines: list[str]) -> tuple[list[Entry], int]:
    """The entries of a leading table of contents, and the index of the line after it."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and TOC_RE.match(lines[end]):
        end += 1
    if end - start < 2 or (end < len(lines) and lines[end].strip()):
        return [], start
    raw = [(index + 1, TOC_RE.match(lines[index])) for index in range(start, end)]
    indents = sorted({len(m.group("indent")) for _, m in raw if m})
    levels = {indent: level for level, indent in enumerate(indents, start=1)}
    entries: list[Entry] = []
    path: list[int] = []
    for line, match in raw:
        assert match is not None
        level = levels[len(match.group("indent"))]
        own = int(match.group("n"))
        title = normalise_space(match.group("title"))
        if level > len(path) + 1:
            raise DocumentError(
                f"table of contents entry {own}. {title!r} is indented deeper than the "
                "entry before it allows", line=line,
            )
        if level == 1:
            path = [own]
        else:
            previous = path[level - 1] if len(path) >= level else 0
            if own <= previous:
                if level != 2:
                    raise DocumentError(
                        f"table of contents entry {own}. {title!r} restarts its numbering "
                        "without a heading above it", line=line,
                    )
                # A chapter the export left out: the next one, untitled.
                chapter = path[0] + 1
                entries.append(Entry((chapter,), "", 0))
                path = [chapter]
            path = [*path[: level - 1], own]
        entries.append(Entry(tuple(path), title, line))
    return entries, end


def parse_wikitext(text: str) -> Document:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    document = Document("", "wikitext", [])
    entries, body_start = read_toc(lines)
    paragraphs = _paragraphs(lines[body_start:], body_start + 1)
    if paragraphs and (footer := FOOTER_RE.match(paragraphs[-1].text)):
        paragraphs.pop()
        page = footer.group("page").rsplit("/", 1)[-1]
        document.title = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", page)
        document.version = footer.group("edited")
    if entries:
        document.sections = _with_toc(entries, paragraphs, document.warnings)
    else:
        document.sections = _without_toc(paragraphs)
    if not document.sections:
        raise DocumentError(
            "no numbered sections: the text has neither a table of contents (an indented "
            "list '1. Introduction', '    1. Scope' at the top) nor headings such as "
            "'2.1. Facility' on lines of their own"
        )
    return finish(document)


def _without_toc(paragraphs: list[Paragraph]) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    for paragraph in paragraphs:
        match = HEADING_RE.match(paragraph.lines[0]) if len(paragraph.lines) == 1 else None
        if match and not match.group("title").endswith((".", ",", ";", ":")):
            number = parse_number(match.group("number"))
            if not sections or number > sections[-1].number:
                current = Section(number, normalise_space(match.group("title")),
                                  paragraph.line)
                sections.append(current)
                continue
        if current is not None and (block := _block(paragraph.lines)):
            current.blocks.append(block)
    return sections


def _same(a: str, b: str) -> bool:
    return normalise_space(a).casefold() == normalise_space(b).casefold()


def _with_toc(entries: list[Entry], paragraphs: list[Paragraph],
              warnings: list[str]) -> list[Section]:
    index = {entry.number: i for i, entry in enumerate(entries)}
    pointer = 0  # the next entry the body should reach
    numbered_depth = _numbered_depth(entries, index, paragraphs)
    current: Entry | None = None

    def open_entry(target: int, line: int) -> None:
        """Move to entries[target], opening untitled chapters passed on the way."""
        nonlocal pointer, current
        for skipped in entries[pointer:target]:
            if skipped.synthesized and not skipped.found_at:
                skipped.found_at = skipped.section.line = line
                _take_chapter_text(current, skipped)
                current = skipped
        entry = entries[target]
        entry.found_at = line
        entry.section.line = line
        current = entry
        pointer = target + 1

    def glued(text: str, start: int) -> int:
        """How many entries from `start` on are glued, in order, to the end of `text`."""
        best = 0
        titles: list[str] = []
        for offset in range(MAX_GLUED):
            i = start + offset
            if i >= len(entries) or entries[i].synthesized:
                break
            if entries[i].number and len(entries[i].number) <= numbered_depth:
                break
            titles.append(entries[i].title)
            candidate = " ".join(titles)
            if len(candidate) < 3:
                continue
            if text == candidate or text.endswith(" " + candidate):
                best = offset + 1
        return best

    def next_real(start: int) -> int:
        while start < len(entries) and entries[start].synthesized:
            start += 1
        return start

    def append(lines: list[str]) -> None:
        if current is not None and (block := _block(lines)):
            current.section.blocks.append(block)

    for paragraph in paragraphs:
        first = paragraph.lines[0]
        match = HEADING_RE.match(first) if len(paragraph.lines) == 1 else None
        if match:
            number = parse_number(match.group("number"))
            rest = normalise_space(match.group("title"))
            target = index.get(number)
            if target is not None and target >= pointer and entries[target].synthesized:
                if len(rest) <= 80 and not rest.endswith((".", ",", ";", ":")):
                    entries[target].section.title = rest  # the body has the chapter title
                    open_entry(target, paragraph.line)
                    continue
            elif target is not None and target >= pointer:
                title = entries[target].title
                if _same(rest, title):
                    open_entry(target, paragraph.line)
                    continue
                if rest.casefold().startswith(title.casefold() + " "):
                    remainder = rest[len(title) + 1:]
                    count = glued(remainder, target + 1)
                    if count and _same(
                        " ".join(e.title for e in entries[target + 1:target + 1 + count]),
                        remainder,
                    ):
                        open_entry(target, paragraph.line)
                        for _ in range(count):
                            open_entry(pointer, paragraph.line)
                        continue
                raise DocumentError(
                    f"heading {format_number(number)} reads {rest[:80]!r} but the table of "
                    f"contents (line {entries[target].line}) calls it {title!r}",
                    line=paragraph.line,
                )
            elif target is not None and _same(rest, entries[target].title):
                entry = entries[target]
                if entry.found_at:
                    raise DocumentError(
                        f"section {format_number(number)} {entry.title!r} appears twice "
                        f"(first at line {entry.found_at})", line=paragraph.line,
                    )
                raise DocumentError(
                    f"section {format_number(number)} {entry.title!r} comes after "
                    f"{format_number(entries[pointer - 1].number)}; the table of contents "
                    "has it earlier", line=paragraph.line,
                )
            elif target is None:
                expected = next_real(pointer)
                if expected < len(entries) and _same(rest, entries[expected].title):
                    warnings.append(
                        f"line {paragraph.line}: the body numbers {rest!r} "
                        f"{format_number(number)}, the table of contents "
                        f"{format_number(entries[expected].number)}; kept as "
                        f"{format_number(entries[expected].number)}"
                    )
                    # The body's number still says which chapter has begun.
                    chapter = index.get(number[:1])
                    if chapter is not None and entries[chapter].synthesized and \
                            not entries[chapter].found_at:
                        entries[chapter].found_at = paragraph.line
                        entries[chapter].section.line = paragraph.line
                        _take_chapter_text(current, entries[chapter])
                    open_entry(expected, paragraph.line)
                    continue
                warnings.append(
                    f"line {paragraph.line}: {first.strip()[:80]!r} looks like a heading but "
                    "is not in the table of contents; kept as text"
                )
        # A level-4 heading glued to the end of this paragraph, or standing alone.
        expected = next_real(pointer)
        last = normalise_space(paragraph.lines[-1])
        count = glued(last, expected)
        if count:
            suffix = " ".join(e.title for e in entries[expected:expected + count])
            head = [*paragraph.lines[:-1], last[: len(last) - len(suffix)]]
            append(head)
            for _ in range(count):
                open_entry(next_real(pointer), paragraph.line + len(paragraph.lines) - 1)
            continue
        append(paragraph.lines)

    for entry in entries:
        if not entry.found_at and not entry.synthesized:
            label = format_number(entry.number)
            warnings.append(f"section {label} {entry.title!r} (contents line {entry.line}) "
                            "has no heading in the body; kept empty")
    return [entry.section for entry in entries]


def _numbered_depth(entries: list[Entry], index: dict[Number, int],
                    paragraphs: list[Paragraph]) -> int:
    """The deepest level whose headings kept their numbers in the body (3 in the SM):
    entries deeper than that are looked for by title alone."""
    depth = 0
    for paragraph in paragraphs:
        if len(paragraph.lines) != 1 or not (match := HEADING_RE.match(paragraph.lines[0])):
            continue
        number = parse_number(match.group("number"))
        target = index.get(number)
        if target is None:
            continue
        title = entries[target].title.casefold()
        rest = normalise_space(match.group("title")).casefold()
        if rest == title or rest.startswith(title + " "):
            depth = max(depth, len(number))
    return depth


def _take_chapter_text(previous: Entry | None, chapter: Entry) -> None:
    """The export lost the chapter heading, so "This section is managed by ..." and what
    follows it ended up at the end of the previous chapter's last section."""
    if previous is None:
        return
    blocks = previous.section.blocks
    for i in range(len(blocks) - 1, -1, -1):
        if OWNER_LINE_RE.match(blocks[i].text):
            chapter.section.blocks.extend(blocks[i:])
            del blocks[i:]
            return
