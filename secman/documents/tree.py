"""A document as a tree of numbered sections, and what a section's text says about
itself (owner, editorial notes, markers, cross-references).

Plain Python: no Django, so the command line can parse files without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Number = tuple[int, ...]

NUMBER_RE = r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,7}"


class DocumentError(ValueError):
    """The input cannot be read as a numbered document. The message names the problem
    and, where known, the line or section."""

    def __init__(self, message: str, *, line: int | None = None, section: str = "") -> None:
        where = []
        if line:
            where.append(f"line {line}")
        if section:
            where.append(f"section {section}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.section = section


def parse_number(text: str) -> Number:
    return tuple(int(part) for part in text.strip().rstrip(".").split("."))


def format_number(number: Number) -> str:
    return ".".join(str(part) for part in number)


def sort_key(number: Number) -> str:
    """A string that sorts numerically (2.10 after 2.9) in any database."""
    return ".".join(f"{part:04d}" for part in number)


SPACES_RE = re.compile(r"\s+")


def normalise_space(text: str) -> str:
    return SPACES_RE.sub(" ", text).strip()


@dataclass
class Block:
    """One paragraph-like piece of a section's body: its sanitised HTML and its text."""

    html: str
    text: str


@dataclass(frozen=True)
class Reference:
    text: str  # as written: "SM§4.3", "CPS 5.7"
    document: str  # "" (the same document), "SP", "SM", "CPS", "DRC"
    number: str  # "4.3", "A.5.f", or "" for the document (or its same-numbered section)

    @property
    def external(self) -> bool:
        return self.document in EXTERNAL_DOCUMENTS

    @property
    def target(self) -> str:
        name = self.document or "this document"
        return f"{name} {self.number}".strip()


EXTERNAL_DOCUMENTS = {"CPS": "Certification Practice Statement",
                      "DRC": "David Ross Criteria (audit criteria)"}


@dataclass
class Section:
    number: Number
    title: str  # "" when the source has lost it (SM chapters 2-10)
    line: int = 0  # where its heading starts in the source, 0 if unknown
    blocks: list[Block] = field(default_factory=list)
    # Filled by annotate():
    text: str = ""
    html: str = ""
    notes: list[Block] = field(default_factory=list)
    markers: list[tuple[str, str]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    owner: str = ""  # a core.roles.TeamKind value, or ""
    owner_text: str = ""

    @property
    def label(self) -> str:
        return format_number(self.number)

    @property
    def level(self) -> int:
        return len(self.number)

    @property
    def parent_number(self) -> Number | None:
        return self.number[:-1] or None

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()


@dataclass
class Document:
    title: str
    format: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)
    source_name: str = ""
    version: str = ""
    numbering: str = ""  # where the numbers came from: text, anchors, structure, toc

    def by_number(self) -> dict[Number, Section]:
        return {s.number: s for s in self.sections}

    def __len__(self) -> int:
        return len(self.sections)


# --- checks every importer applies ---------------------------------------------------------


def check_order(sections: list[Section]) -> None:
    """Numbers must be unique and in increasing order: a duplicate or a section out of
    place is reported with both lines."""
    seen: dict[Number, Section] = {}
    previous: Section | None = None
    for section in sections:
        if section.number in seen:
            first = seen[section.number]
            raise DocumentError(
                f"section {section.label} appears twice (first at line {first.line})"
                if first.line else f"section {section.label} appears twice",
                line=section.line,
            )
        seen[section.number] = section
        if previous is not None and section.number < previous.number:
            raise DocumentError(
                f"section {section.label} comes after {previous.label}; numbers must "
                "increase through the document", line=section.line,
            )
        previous = section


def fill_missing_parents(sections: list[Section], warnings: list[str]) -> list[Section]:
    """A 2.2.1 without a 2.2 gets an untitled 2.2, so every section has its parent."""
    present = {s.number for s in sections}
    result: list[Section] = []
    for section in sections:
        for depth in range(1, section.level):
            prefix = section.number[:depth]
            if prefix not in present:
                present.add(prefix)
                result.append(Section(prefix, "", section.line))
                warnings.append(
                    f"section {format_number(prefix)} has no heading of its own; it is "
                    f"kept untitled as the parent of {section.label}"
                )
        result.append(section)
    return result


# --- what a section's text says about itself -----------------------------------------------

OWNER_RE = re.compile(
    r"\b(?:This section|The [A-Z][\w ]{0,60}? Procedures?) is managed by ([^.\n]{1,80})"
)
TEAMS = [  # most specific first
    ("critical system administration", "systems_administration"),
    ("system administration", "systems_administration"),
    ("systems administration", "systems_administration"),
    ("software assessment", "software_assessment"),
    ("access team", "access"),
    ("support team", "support"),
    ("arbitrat", "arbitration"),
    ("board", "board"),
]
NOTES_START_RE = re.compile(r"^Notes for reviewing this section|\bnot part of (?:the )?S[MP]\b",
                            re.IGNORECASE)
COMMENTARY_RE = re.compile(r"^\(\s*[A-Za-z][\w.-]{0,30}\s*:\s*\)")
PROCEDURE_RE = re.compile(r"\bPROCEDURE\b")
DISCUSS_RE = re.compile(r"\bDiscuss\b")
QUESTION_MARK_RE = re.compile(r"\?+(?=\s|$)")
SENTENCE_END_RE = re.compile(r"[.!?]\s")

REFERENCE_RES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(SP|SM)\s*§\s*({NUMBER_RE})"), "doc"),
    (re.compile(rf"\b(SP|SM)\s+({NUMBER_RE}\.[0-9])"), "doc"),
    (re.compile(r"\b(SP|SM)\s+([0-9]{1,2})\b(?!\.[0-9])"), "doc"),
    (re.compile(rf"(?<![A-Z])§\s*({NUMBER_RE})"), "same"),
    (re.compile(rf"\b[Ss]ections?\s+({NUMBER_RE})"), "same"),
    (re.compile(rf"\(see ({NUMBER_RE})\.?\)"), "same"),
    (re.compile(rf"\bCPS\s*#?\s*({NUMBER_RE})"), "CPS"),
    (re.compile(r"\bDRC[-\s]?([A-Z](?:\.[0-9]{1,3})?(?:\.[a-z]{1,4})?)\b"), "DRC"),
    (re.compile(r"\b(SP|SM)\b(?!\s*§)(?!\s+[0-9])"), "bare"),
]


def owner_of(text: str) -> tuple[str, str]:
    """("access", "the Access Team Leader") from "This section is managed by the Access
    Team Leader"; ("", "???") when the text names nobody secman knows."""
    match = OWNER_RE.search(text)
    if not match:
        return "", ""
    who = normalise_space(match.group(1))
    lowered = who.lower()
    for needle, kind in TEAMS:
        if needle in lowered:
            return kind, who
    return "", who


def questions_in(line: str) -> list[str]:
    """The sentences of a line that end in a question mark ("Is that it?")."""
    found = []
    start = 0
    for mark in QUESTION_MARK_RE.finditer(line):
        ends = [m.end() for m in SENTENCE_END_RE.finditer(line, start, mark.start())]
        sentence_start = ends[-1] if ends else start
        found.append(normalise_space(line[sentence_start:mark.end()])[:300])
        start = mark.end()
    return found


REFERENCE_HINTS = ("SP", "SM", "§", "ection", "see", "CPS", "DRC")


def references_in(text: str) -> list[Reference]:
    if not any(hint in text for hint in REFERENCE_HINTS):
        return []
    found: dict[tuple[str, str], Reference] = {}
    taken: list[tuple[int, int]] = []
    for pattern, how in REFERENCE_RES:
        for match in pattern.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            taken.append(match.span())
            if how == "doc":
                ref = Reference(match.group(0), match.group(1), match.group(2).rstrip("."))
            elif how == "same":
                ref = Reference(match.group(0), "", match.group(1).rstrip("."))
            elif how == "bare":
                ref = Reference(match.group(0), match.group(1), "")
            else:
                ref = Reference(match.group(0), how, match.group(1).rstrip("."))
            found.setdefault((ref.document, ref.number), ref)
    return list(found.values())


def annotate(section: Section) -> Section:
    """Split editorial notes from the normative text and collect owner, markers and
    cross-references. The same rules for every format, so an export re-imports the same."""
    in_notes = False
    normative: list[Block] = []
    notes: list[Block] = []
    for block in section.blocks:
        if not in_notes and NOTES_START_RE.search(block.text):
            in_notes = True
        if in_notes or COMMENTARY_RE.match(block.text):
            notes.append(block)
        else:
            normative.append(block)
    section.notes = notes
    section.text = "\n\n".join(b.text for b in normative if b.text)
    section.html = "\n".join(b.html for b in normative if b.html)
    all_text = "\n\n".join(b.text for b in section.blocks)
    section.owner, section.owner_text = owner_of(all_text)
    markers: list[tuple[str, str]] = []
    for block in section.blocks:
        for line in block.text.split("\n"):
            if PROCEDURE_RE.search(line):
                markers.append(("procedure", normalise_space(line)[:300]))
            if DISCUSS_RE.search(line):
                markers.append(("discuss", normalise_space(line)[:300]))
            if "?" in line:
                markers += [("question", q) for q in questions_in(line)]
    section.markers = list(dict.fromkeys(markers))
    section.references = references_in(all_text)
    return section


def finish(document: Document) -> Document:
    """Checks and annotations shared by every importer."""
    if not document.sections:
        raise DocumentError("the document has no numbered sections")
    check_order(document.sections)
    document.sections = fill_missing_parents(document.sections, document.warnings)
    for section in document.sections:
        annotate(section)
    return document
