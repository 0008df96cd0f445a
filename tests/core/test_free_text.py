"""Free text (issue 13, items 7 and 8): every input people type is refused when it is longer
than its field's documented maximum or holds a character its field does not take, by the
service (so the web, the API and the command line alike), with a message naming the field;
and what is accepted is stored exactly as given (less surrounding white space). The Event
Log refuses an entry larger than its maximum before anything is written.

The services are called as tests/core/test_service_entries.py's table calls them, with
one input replaced; a refusal must leave every row of every table as it was."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import models, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secman.authority.models import (
    ArbitrationCase,
    BoardDecision,
    SignOff,
    SignOffRequest,
)
from secman.compliance.models import Acceptance, Attestation, Occurrence
from secman.core import validation
from secman.core.errors import Refused, RuleViolation
from secman.core.validation import (
    BIDI_CONTROLS,
    DOCUMENT_TEXT_MAX,
    LONG_TEXT_MAX,
    TEXT_MAX,
    check_text,
    forbidden_character,
    one_line,
)
from secman.documents.models import Document, Draft
from secman.eventlog.models import Event, LogHead, RetentionPolicy
from secman.eventlog.services import MAX_ENTRY_BYTES, record
from secman.people.models import ListChangeProposal, Membership, Person
from secman.physical import services as physical
from secman.physical.models import Computer, Facility, FacilityRevision, Media, MediaReport
from secman.visits.models import Device, Holding, Visit, VisitReport
from tests.core.test_service_entries import TABLE, every_row

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Input:
    row: str  # the id of test_service_entries' row that calls the service
    name: str  # the keyword argument
    model: type[models.Model]  # the column whose maximum and kind the input has
    column: str = ""  # by default named like the input
    # What the service keeps of a value it takes: without surrounding white space; names
    # and titles with runs of white space made one space; a draft with \n for \r\n.
    kept: Any = str.strip

    @property
    def field(self) -> models.Field:
        field = self.model._meta.get_field(self.column or self.name)
        assert isinstance(field, models.Field)
        return field

    @property
    def multiline(self) -> bool:
        return isinstance(self.field, models.TextField)

    @property
    def limit(self) -> int:
        assert self.field.max_length is not None
        return self.field.max_length

    @property
    def label(self) -> str:
        return self.name.replace("_", " ") if self.column else str(self.field.verbose_name)

    @property
    def id(self) -> str:
        return f"{self.row}:{self.name}"


def SQUEEZED(value: str) -> str:
    return " ".join(value.split())


# Every free-text input of every service (the row's other arguments stay as they are).
INPUTS = [
    Input("people.create_person", "name", Person),
    Input("people.create_person", "phone", Person),
    Input("people.create_person", "chat_handle", Person),
    Input("people.create_person", "emergency_contact", Person),
    Input("people.update_person", "name", Person),
    Input("people.end_membership", "reason", Membership, "end_reason"),
    Input("people.propose_list_change", "reason", ListChangeProposal),
    Input("people.withdraw_proposal", "reason", ListChangeProposal),
    Input("authority.record_board_decision", "title", BoardDecision),
    Input("authority.record_board_decision", "text", BoardDecision),
    Input("authority.arbitration.file_case", "title", ArbitrationCase),
    Input("authority.arbitration.file_dispute", "title", ArbitrationCase),
    Input("authority.arbitration.file_dispute", "circumstances", Visit),
    Input("authority.arbitration.update_case[rule]", "ruling_summary", ArbitrationCase),
    Input("authority.request_signoff", "title", SignOffRequest),
    Input("authority.request_signoff", "description", SignOffRequest),
    Input("authority.sign[first slot]", "comment", SignOff),
    Input("authority.withdraw_signoff", "reason", SignOffRequest, "description"),
    Input("eventlog.retention.update_retention", "rule", RetentionPolicy),
    Input("compliance.complete_occurrence[one person]", "note", Occurrence),
    Input("compliance.skip_occurrence", "reason", Occurrence, "skip_reason"),
    Input("compliance.attest", "statement", Attestation),
    Input("compliance.accept", "reason", Acceptance),
    Input("compliance.accept", "subject", Acceptance),
    Input("documents.import_document", "name", Document, kept=SQUEEZED),
    Input("documents.save_draft", "title", Draft, kept=SQUEEZED),
    Input("documents.save_draft", "text", Draft, kept=lambda v: v.replace("\r\n", "\n").strip()),
    Input("physical.record_facility", "name", Facility),
    Input("physical.record_facility", "hosting_provider", FacilityRevision),
    Input("physical.record_facility", "contract_references", FacilityRevision),
    Input("physical.create_computer", "asset_tag", Computer),
    Input("physical.create_computer", "acquisition_notes", Computer),
    Input("physical.update_computer", "nickname", Computer),
    Input("physical.put_in_service", "legal_owner", Computer),
    Input("physical.request_maintenance", "work", SignOffRequest, "description"),
    Input("physical.record_service_risk", "reason", Computer, "retire_reason"),
    Input("physical.retire_computer", "reason", Computer, "retire_reason"),
    Input("physical.register_media", "serial_number", Media),
    Input("physical.register_media", "location", MediaReport),
    Input("physical.register_media", "steps_taken", MediaReport),
    Input("physical.change_media_status[no critical data]", "steps_taken", MediaReport),
    Input("visits.request_visit", "purpose", Visit),
    Input("visits.request_visit", "systems", Visit),
    Input("visits.authorise_visit", "reference", Visit, "authorisation_reference"),
    Input("visits.file_report", "text", VisitReport),
    Input("visits.record_emergency", "purpose", Visit),
    Input("visits.record_emergency", "circumstances", Visit),
    Input("visits.devices.register_device", "label", Device),
    Input("visits.devices.register_device", "controlling_party", Device),
    Input("visits.devices.register_device", "notes", Device),
    Input("visits.devices.issue_device", "reference", Holding, "authorisation_reference"),
]
ROWS = {row.id: row for row in TABLE}


class _Undo(Exception):
    """Raised to roll one example back."""


def call(org: Any, spec: Input, value: str) -> tuple[Any, Exception | None,
                                                     dict[str, Any], dict[str, Any]]:
    """Run the row's service with `value` as the input, inside a savepoint that is rolled
    back afterwards; returns the result or refusal and every row before and after."""
    row = ROWS[spec.row]
    outcome: list[Any] = []
    try:
        with transaction.atomic():
            kwargs = row.ok(org)
            kwargs[spec.name] = value
            before = every_row()
            try:
                outcome = [row.service(**kwargs), None]
            except Refused as exc:
                outcome = [None, exc]
            outcome += [before, every_row()]
            raise _Undo
    except _Undo:
        pass
    for person in org.people.values():  # a service may have changed the copies in memory
        person.refresh_from_db()
    return outcome[0], outcome[1], outcome[2], outcome[3]


def strings(value: Any) -> set[str]:
    """Every text a row holds, JSON columns walked."""
    if isinstance(value, str):
        found = {value}
        if value[:1] in "{[":
            with contextlib.suppress(ValueError):
                found |= strings(json.loads(value))
        return found
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(strings(v) for v in value)) if value else set()
    return set()


def stored(rows: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    return strings([cell for table in rows.values() for line in table for cell in line])


def test_every_input_names_a_row_and_a_column_with_a_maximum():
    for spec in INPUTS:
        assert spec.row in ROWS, spec.id
        assert spec.limit > 0, spec.id


@pytest.mark.parametrize("spec", INPUTS, ids=[s.id for s in INPUTS])
def test_free_text_takes_its_maximum_and_is_refused_beyond_it(org, spec):
    label = spec.label
    _, refusal, _, after = call(org, spec, "x" * spec.limit)
    assert refusal is None, f"{spec.id}: {refusal}"
    assert "x" * spec.limit in stored(after)
    _, refusal, before, after = call(org, spec, "x" * (spec.limit + 1))
    assert isinstance(refusal, RuleViolation), spec.id
    # "... is longer than N characters (M given)", or the service's own words for it.
    assert label in refusal.message and f" {spec.limit} characters" in refusal.message
    assert refusal.field == spec.name
    assert after == before


@pytest.mark.parametrize("spec", INPUTS, ids=[s.id for s in INPUTS])
def test_control_characters_are_refused_and_line_breaks_only_where_lines_are(org, spec):
    hostile = ["a\x01b", "a\x1b[31mb", "a\x7fb", "a\x85b", "a\x00b", "a\rb"]
    if not spec.multiline:
        hostile += ["a\u202eb", "a\u2066b\u2069", "a\nb", "a\tb", "a\u2028b"]
    for value in hostile:
        _, refusal, before, after = call(org, spec, value)
        if spec.kept is SQUEEZED and value[1].isspace():
            # White space of any kind is one space in a name or title: harmless.
            assert refusal is None and "a b" in stored(after), spec.id
            continue
        assert isinstance(refusal, RuleViolation), f"{spec.id} took {value!r}"
        assert refusal.field == spec.name, spec.id
        assert f"U+{ord(value[1]):04X}" in refusal.message, refusal.message
        assert after == before, f"{spec.id} was refused but wrote"
    if spec.multiline:
        for value in ("first line\r\nsecond\tline\n\nthird", "שלום \u202eworld\u202c"):
            _, refusal, _, after = call(org, spec, value)
            assert refusal is None, f"{spec.id}: {refusal}"
            assert spec.kept(value) in stored(after), spec.id


def test_the_refusals_say_which_character_and_why():
    with pytest.raises(RuleViolation) as refused:
        check_text(Person, {"name": "Eve\u202egnp.exe"})
    assert refused.value.message == (
        "name contains U+202E RIGHT-TO-LEFT OVERRIDE at position 4; name is a single "
        "line: it takes no control characters, line breaks or text-direction controls")
    assert refused.value.field == "name"
    with pytest.raises(RuleViolation) as refused:
        check_text(Visit, {"purpose": "swap\x01disk"})
    assert refused.value.message == (
        "purpose contains U+0001 (a control character) at position 5; purpose takes no "
        "control characters other than line breaks and tabs")


# Any characters, with the troublesome ones (controls, line breaks, bidi controls, a lone
# surrogate) more often than chance would bring them.
TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(
    ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\r", "\n", "\r\n", "\t", "\u2028",
     "\ud800", *sorted(BIDI_CONTROLS), " "])), max_size=40).map("".join)


@pytest.mark.parametrize("spec", INPUTS, ids=[s.id for s in INPUTS])
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(value=TEXT)
@example(value="plain words")
def test_any_text_is_stored_exactly_or_refused_with_nothing_written(org, spec, value):
    _, refusal, before, after = call(org, spec, value)
    if value == "plain words":  # not a test that passes by refusing everything
        assert refusal is None, f"{spec.id} refused plain words: {refusal}"
    if refusal is not None:
        assert refusal.message.strip()
        assert after == before, f"{spec.id} was refused ({refusal}) but wrote"
        return
    kept = spec.kept(value)
    assert forbidden_character(kept, multiline=spec.multiline) is None, (
        f"{spec.id} stored {kept!r}")
    assert kept in stored(after), f"{spec.id} did not keep {kept!r} as given"
    assert len(kept) <= spec.limit


# --- the Event Log's maximum entry ------------------------------------------------------------


def test_an_entry_over_the_maximum_is_refused_before_anything_is_written(org):
    head = LogHead.objects.get(pk=1)
    count = Event.objects.count()
    with pytest.raises(RuleViolation, match=f"at most {MAX_ENTRY_BYTES:,}"), \
            transaction.atomic():
        record("test.bloat", actor=org.sam, authority="SP 1.2",
               details={"purpose": "é" * (MAX_ENTRY_BYTES // 2)})
    assert Event.objects.count() == count
    assert LogHead.objects.get(pk=1).seq == head.seq
    # Characters are counted as the bytes they take: a third of the limit in four-byte
    # characters is too much, the same number of ASCII characters is not.
    with pytest.raises(RuleViolation), transaction.atomic():
        record("test.bloat", actor=org.sam, authority="SP 1.2",
               details={"text": "😀" * (MAX_ENTRY_BYTES // 3)})
    with transaction.atomic():
        event = record("test.fits", actor=org.sam, authority="SP 1.2",
                       details={"text": "x" * (MAX_ENTRY_BYTES // 3)})
    assert MAX_ENTRY_BYTES // 3 < len(event.canonical.encode()) < MAX_ENTRY_BYTES


def test_the_largest_entry_within_the_field_maxima_fits(org):
    """A facility description with every field at its maximum in four-byte characters is
    the largest entry a service writes (its details repeat every text field); it fits."""
    fields = {name: "😀" * FacilityRevision._meta.get_field(name).max_length
              for name in FacilityRevision.FIELDS}
    revision = physical.record_facility(actor=org.axel, name="😀" * 120, authority="SP 2.1",
                                        **fields)
    entry = Event.objects.filter(subject_id=str(revision.facility.pk)).latest("seq")
    assert len(entry.canonical.encode()) < MAX_ENTRY_BYTES
    assert entry.details["values"]["power"] == fields["power"]


def test_the_maxima_are_the_documented_ones():
    assert (TEXT_MAX, LONG_TEXT_MAX, DOCUMENT_TEXT_MAX) == (10_000, 20_000, 200_000)
    assert MAX_ENTRY_BYTES == 256 * 1024


def test_titles_made_from_free_text_are_one_line():
    assert one_line("Swap\r\n the\u202e disk\x01now", 300) == "Swap the disk now"
    assert one_line("x" * 400, 300) == "x" * 299 + "…"


# --- the documented maxima -----------------------------------------------------------------


def test_every_text_column_has_a_maximum_or_says_why_not():
    from django.apps import apps

    undocumented = []
    for model in apps.get_models():
        if not model.__module__.startswith("secman."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.TextField) and field.max_length is None:
                label = f"{model._meta.label}.{field.name}"
                if label not in validation.WRITTEN_BY_SECMAN:
                    undocumented.append(label)
    assert not undocumented, (f"free text without a max_length: {undocumented} (give it one, "
                              "or say in core.validation.WRITTEN_BY_SECMAN why not)")
    assert "UNDOCUMENTED" not in validation.maxima_markdown()


def test_docs_free_text_md_is_generated_from_the_models():
    written = (Path(__file__).resolve().parents[2] / validation.DOCS).read_text(
        encoding="utf-8")
    assert written == validation.maxima_markdown(), (
        "docs/free-text.md is out of date: run `python -m secman.core.validation` in the "
        "project root and commit the result")
    assert "| visits.Visit | purpose | multi-line | 10,000 |" in written
    assert "| people.Person | name | single line | 200 |" in written


# --- the same refusal on every channel, and older entries shown as they are ---------------


RLO_NAME = "Eve \u202egnp.exe"
REFUSED = "name contains U+202E RIGHT-TO-LEFT OVERRIDE"


def test_the_web_form_shows_the_refusal_next_to_the_field(client, org):
    client.force_login(org.bea.user)
    before = every_row()
    response = client.post("/people/new/", {"name": RLO_NAME, "email": "eve@example.org",
                                            "authority": "SP 9.1.3"})
    assert response.status_code == 200
    form = response.context["form"]
    assert REFUSED in " ".join(form.errors.get("name", [])), form.errors
    assert every_row() == before


def test_the_api_answers_400_naming_the_field(client, org):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(org.bea.user)
    before = every_row()
    response = api.post("/api/people/", {"name": RLO_NAME, "email": "eve@example.org",
                                         "authority": "SP 9.1.3"}, format="json")
    assert response.status_code == 400, response.content
    assert REFUSED in json.dumps(response.json(), ensure_ascii=False)
    assert every_row() == before


def test_the_command_line_says_why_and_exits_1(org):
    from click.testing import CliRunner

    from secman.cli import main

    ROWS["visits.request_visit"].ok(org)  # the physical lists
    before = every_row()
    result = CliRunner().invoke(main, [
        "visits", "request", "--as", "sam", "--purpose", "swap\x1b[31m disk",
        "--systems", "signer1", "--from", "2099-01-01 10:00", "--until", "2099-01-01 12:00"])
    assert result.exit_code == 1, result.output
    assert "purpose contains U+001B (a control character)" in result.output
    assert every_row() == before


def test_the_event_log_shows_a_stored_control_character_as_its_code(client, org):
    with transaction.atomic():  # an entry from before input was checked
        entry = record("people.person.create", actor=None, actor_label=RLO_NAME,
                       authority="SP 9.1.3", details={"name": RLO_NAME})
    client.force_login(org.bea.user)
    for url in (f"/events/{entry.seq}/", "/events/"):
        html = client.get(url).content.decode()
        assert "\u202e" not in html, url
        assert 'Eve <span class="control"' in html and "U+202E</span>gnp.exe" in html, url
