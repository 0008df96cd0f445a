"""The bytes an Event Log entry is hashed over (format version 2).

A JSON object with its keys in this fixed order, no insignificant white space, UTF-8,
nested objects (subject, sign-offs, details) with sorted keys:

    {"v":2,"seq":N,"prev":"<hex leaf hash of N-1>","time":"...Z","class":"...",
     "actor":"...","action":"...","subject":{...},"authority":"...",
     "signoffs":[...],"details":{...}}

The fixed prefix lets a verifier read the sequence number, the chain link, the time and
the retention class with one regular expression instead of parsing the JSON: that is
what makes verifying millions of entries fast. Standard library only.
"""

from __future__ import annotations

import json
import re
from typing import Any

VERSION = 2
GENESIS = "0" * 64
HEADER_RE = re.compile(
    rb'\{"v":2,"seq":([1-9][0-9]*),"prev":"([0-9a-f]{64})","time":"([^"\\]+)",'
    rb'"class":"([a-z_]+)",'
)
# An entry with an actor names them with their id at the end of its actor label.
ACTOR_ID_RE = re.compile(r" \(#([0-9]+)\)$")
KEY_ORDER = ("v", "seq", "prev", "time", "class", "actor", "action", "subject",
             "authority", "signoffs", "details")


# One encoder for every entry: json.dumps() would build a new one per call, which is a
# measurable part of a batched append.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(fields: dict[str, Any]) -> bytes:
    """`fields` has exactly KEY_ORDER's keys; nested values must already be plain JSON."""
    ordered = {key: fields[key] for key in KEY_ORDER}
    return _ENCODER.encode(ordered).encode()


_string = json.encoder.encode_basestring  # a JSON string literal, as _ENCODER writes it


def entry_tail(*, retention_class: str, actor: str, action: str, subject_type: str,
               subject_id: str, subject_label: str, authority: str, signoffs_json: str,
               details_json: str) -> str:
    """An entry's text after its time field, from its strings and the JSON text of its
    sign-offs and details, compact with sorted keys at every level (which is what
    encode() writes for plain() values): the part that does not depend on where in the
    log the entry lands. entry_text() puts the header before it."""
    return "".join((
        ',"class":', _string(retention_class), ',"actor":', _string(actor),
        ',"action":', _string(action), ',"subject":{"type":', _string(subject_type),
        ',"id":', _string(subject_id), ',"label":', _string(subject_label),
        '},"authority":', _string(authority), ',"signoffs":', signoffs_json,
        ',"details":', details_json, "}"))


def entry_text(seq: int, prev: str, time_json: str, tail: str) -> str:
    """The canonical text (its UTF-8 bytes are what is hashed): the same as encode() of
    the same fields. `time_json` is the time as a JSON string literal (time_literal)."""
    return f'{{"v":{VERSION},"seq":{seq:d},"prev":"{prev}","time":{time_json}{tail}'


def time_literal(time_text: str) -> str:
    return _string(time_text)


def plain(value: Any, default: Any = None) -> Any:
    """Nested objects with sorted keys, and only JSON types (dates etc. through `default`)."""
    return json.loads(json.dumps(value, sort_keys=True, default=default))


def decode(canonical: bytes) -> dict[str, Any]:
    return json.loads(canonical)
