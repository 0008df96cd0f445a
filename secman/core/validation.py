"""Input checked against the model it is written to. A limit is declared once, in the
model (a field's max_length, a unique field, a UniqueConstraint); services refuse what
breaks it with these helpers, and forms take their lengths from the same fields.

Free text: every field people type into has a max_length, a TextField too (Django
enforces a TextField's max_length only in forms, so services check it here: web, API and
command line get the same refusal). What a field's kind allows is checked here too:

- a single-line field (CharField) takes no control character (C0, DEL, C1), no line or
  paragraph separator and no text-direction control (U+202A-U+202E, U+2066-U+2069), which
  could make a name or label read otherwise than it is stored;
- a multi-line field (TextField) takes line breaks (\n, \r\n) and tabs, and no other
  control character;
- neither takes a lone surrogate (which no database stores as text).

docs/rules.md, "Free text", is the table of every field's maximum
(`python -m secman.core.validation` writes it).
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, TextField, UniqueConstraint

from secman.core.errors import RuleViolation

M = TypeVar("M", bound=Model)

# The maxima of multi-line free text, in characters. A few pages; a Board decision's text
# and a draft of a section (never copied into an entry: the entry keeps its length) more.
TEXT_MAX = 10_000
LONG_TEXT_MAX = 20_000
DOCUMENT_TEXT_MAX = 200_000

# Text-direction embeddings, overrides and isolates (Unicode bidi controls).
BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
LINE_SEPARATORS = frozenset("\u2028\u2029")
_MULTI_LINE_OK = frozenset("\n\t")


def forbidden_character(text: str, *, multiline: bool) -> int | None:
    """The index of the first character a field of this kind does not take, or None."""
    if text.isprintable():  # the common case: no control, separator or format character
        return None
    for index, char in enumerate(text):
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if multiline and (char in _MULTI_LINE_OK or (
                    char == "\r" and text[index + 1:index + 2] == "\n")):
                continue
            return index
        if 0xD800 <= code <= 0xDFFF:
            return index
        if not multiline and (char in BIDI_CONTROLS or char in LINE_SEPARATORS):
            return index
    return None


def describe_character(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE; U+0001 (a control character)."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        return f"a NUL character ({code})"
    if name:
        return f"{code} {name}"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"{code} (a lone surrogate)"
    return {"\n": f"{code} (a line break)", "\r": f"{code} (a carriage return)",
            "\t": f"{code} (a tab)"}.get(char, f"{code} (a control character)")


def check_free_text(value: str, *, label: str, limit: int, multiline: bool,
                    field: str = "") -> None:
    """Refuse `value` if it is longer than `limit` characters or holds a character a
    field of its kind does not take (see the module's docstring)."""
    if len(value) > limit:
        raise RuleViolation(f"{label} is longer than {limit} characters "
                            f"({len(value)} given)", field=field)
    index = forbidden_character(value, multiline=multiline)
    if index is not None:
        what = ("takes no control characters other than line breaks and tabs" if multiline
                else "is a single line: it takes no control characters, line breaks or "
                     "text-direction controls")
        raise RuleViolation(f"{label} contains {describe_character(value[index])} at "
                            f"position {index + 1}; {label} {what}", field=field)


def one_line(text: str, limit: int) -> str:
    """A single-line summary of free text made by secman itself (a title composed from a
    multi-line purpose): runs of white space and control characters become one space,
    text-direction controls go, and what is longer than `limit` is cut with an ellipsis."""
    kept = "".join(" " if forbidden_character(char, multiline=False) is not None
                   and char not in BIDI_CONTROLS else char
                   for char in text if char not in BIDI_CONTROLS)
    summary = " ".join(kept.split())
    return summary if len(summary) <= limit else summary[:limit - 1].rstrip() + "…"


def check_text(model: type[Model], values: Mapping[str, Any],
               inputs: Mapping[str, str] | None = None) -> None:
    """Refuse the first text that its field of `model` does not take: longer than the
    field's max_length, or holding a character its kind (single-line CharField,
    multi-line TextField) does not allow. Values that are not text are skipped. The
    refusal names the field; `inputs` maps a field to the name of the input it came from
    where they differ (a form's "reason" kept as "end_reason"), and the refusal then
    names the input."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        field = _column(model, name)
        limit = field.max_length
        if limit is None:
            raise TypeError(f"{model.__name__}.{name} has no max_length: give free text a "
                            "documented maximum")
        given = (inputs or {}).get(name, name)
        check_free_text(value, limit=limit, multiline=isinstance(field, TextField),
                        label=str(field.verbose_name) if given == name
                        else given.replace("_", " "), field=given)


def _column(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is the far side of a relation")
    return field


def max_length(model: type[Model], name: str) -> int:
    """The longest value the model's field `name` stores."""
    limit = _column(model, name).max_length
    if limit is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return limit


def check_lengths(model: type[Model], values: Mapping[str, Any]) -> None:
    """The former name of check_text, which checks the characters as well."""
    check_text(model, values)


@dataclass(frozen=True)
class Refusal:
    """How a service words a clash with a unique field or constraint: `message` is
    formatted with the record's values, e.g. "asset tag {asset_tag} is already used"."""

    message: str
    section: str = ""


def with_changes(instance: M, changes: Mapping[str, Any]) -> M:
    """A copy of a saved record with `changes` applied, to check before saving them."""
    changed = copy.copy(instance)
    for name, value in changes.items():
        setattr(changed, name, value)
    return changed


def check_unique(instance: Model, refusals: Mapping[str, Refusal] | None = None) -> None:
    """Refuse the record (new, or saved with changes: itself is not a clash) if another
    row holds its value of a unique field, or its values of a UniqueConstraint (whose
    condition, if any, it meets). The model says what is unique; `refusals`, by field or
    constraint name, how the service says so; Django's message otherwise."""
    model = type(instance)
    clash: tuple[str, str, str] | None = None  # (refusal key, input field, Django's message)
    try:
        instance.validate_unique()
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        clash = (name, name, messages[0])
    if clash is None:
        for constraint in model._meta.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            try:
                constraint.validate(model, instance)
            except ValidationError as exc:
                fields = constraint.fields
                clash = (constraint.name, fields[-1] if fields else "", exc.messages[0])
                break
    if clash is None:
        return
    key, field, message = clash
    refusal = (refusals or {}).get(key)
    if refusal is None:
        raise RuleViolation(message, field=field)
    values = {f.name: f.value_from_object(instance) for f in model._meta.concrete_fields}
    raise RuleViolation(refusal.message.format_map(values), section=refusal.section,
                        field=field)


# --- the table of maxima (docs/free-text.md) ----------------------------------------------

# Multi-line columns without a max_length, each with why: nobody types into them, or what
# bounds them instead. Every other TextField of secman has a max_length (a test checks).
WRITTEN_BY_SECMAN = {
    "systems.DiagramRevision.dot": "the network diagram's Graphviz source, drawn by secman "
                                   "from the register",
    "systems.DiagramRevision.svg": "the network diagram Graphviz drew from that source",
    "eventlog.Event.canonical": "the entry's canonical text, at most "
                                "eventlog.services.MAX_ENTRY_BYTES bytes",
    "eventlog.LogHead.frontier": "hashes of the log's tree",
    "logs.Message.text": "a system's syslog message as rsyslog received it, cut at "
                         "logs.ingest.MAX_TEXT (64 KiB)",
    "logs.TreeHead.frontier": "hashes of the systems' logs' tree",
    "logs.TreeCheckpoint.note": "a checkpoint secman signs",
    "logs.DetectionRule.yaml": "a Sigma rule, at most 20,000 characters (logs.rules)",
    "incidents.Report.appendix_encrypted": "the OpenPGP message GnuPG made of an appendix "
                                           "of at most 20,000 characters",
    "eventlog.Checkpoint.note": "a checkpoint secman signs",
    "eventlog.VerificationRun.problems": "what a verification found",
    "eventlog.WitnessCheckpoint.note": "a witness's signed checkpoint note, read by "
                                       "eventlog.note (the API takes at most 4,000 characters)",
    "documents.Section.text": "imported from a document file (within the import's size "
                              "cap) or published from a draft (at most its maximum)",
    "documents.Section.html": "made from the section's text by the importer",
    "documents.Note.text": "imported from a document file",
    "documents.Note.html": "made from the note's text by the importer",
    "compliance.Occurrence.procedure_text": "copied from the manual's section",
    "compliance.ReportJob.error": "why a report could not be made",
}

DOCS = "docs/free-text.md"


def maxima_markdown() -> str:
    """docs/free-text.md: every text column of secman's models, its kind and maximum."""
    from django.apps import apps

    out = ["# Free text: what each field takes", "",
           "Generated by `python -m secman.core.validation` from the models; do not edit.", "",
           "Every service that writes text refuses, with a message naming the field and its "
           "maximum, what is longer than the field's maximum (in characters) or holds a "
           "character its kind does not take (`secman.core.validation`); the web, the API "
           "and the command line give the same refusal, and nothing is written.", "",
           "- **single line** (CharField): no control characters (U+0000-U+001F, U+007F-"
           "U+009F), no line or paragraph separator (U+2028, U+2029) and no text-direction "
           "control (U+202A-U+202E, U+2066-U+2069);",
           "- **multi-line** (TextField): line breaks (`\\n`, `\\r\\n`) and tabs, no other "
           "control character;",
           "- neither takes a lone surrogate.", "",
           "An Event Log entry takes at most 262,144 bytes (256 KiB) of canonical text "
           "(`eventlog.services.MAX_ENTRY_BYTES`); a larger one is refused before anything "
           "is written. The largest entry a service writes with every field at its maximum "
           "(a facility's description, in four-byte characters) stays below it.", "",
           "Pages show people's text in bidi isolates (`unicode-bidi: isolate`, `<bdi>`), "
           "and the Event Log's pages show a control character an older entry holds as "
           "its code (U+202E), since entries are never rewritten.", "",
           "| model | field | kind | maximum |", "|---|---|---|---|"]
    for model in sorted((m for m in apps.get_models() if m.__module__.startswith("secman.")),
                        key=lambda m: m._meta.label):
        for field in model._meta.concrete_fields:
            if not isinstance(field, Field) or field.get_internal_type() not in (
                    "CharField", "TextField", "SlugField", "EmailField"):
                continue
            kind = "multi-line" if isinstance(field, TextField) else "single line"
            label = f"{model._meta.label}.{field.name}"
            if field.choices:
                limit = "one of its choices"
            elif field.max_length is not None:
                limit = f"{field.max_length:,}"
            else:
                limit = f"none: {WRITTEN_BY_SECMAN.get(label, 'UNDOCUMENTED')}"
            out.append(f"| {model._meta.label} | {field.name} | {kind} | {limit} |")
    out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """Write docs/free-text.md (relative to the current directory, the project root)."""
    import os
    from pathlib import Path

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    django.setup()
    target = Path(argv[0]) if argv else Path(DOCS)
    target.write_text(maxima_markdown(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
