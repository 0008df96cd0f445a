"""The column check of `secman eventlog verify` (verification.check_columns): each entry's
text is rebuilt from its query columns and compared with its hashed bytes, and
verification.column_mismatch decides for the entries that do not come out the same. Whatever
the columns were changed to, it names exactly what the entry-by-entry check
(verification.verify_chain) names."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.eventlog import proofs, quickwalk, services, verification
from secman.eventlog.models import Event, RetentionClass
from tests.conftest import tamper

AWKWARD = "Zoë \"the\" \\ admin\t\n\x01\x1f\x7f \u2028 (#12) 😀"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def log(org):
    """Entries written both ways, with text that needs escaping everywhere."""
    with transaction.atomic():
        services.record("tests.awkward", actor=org.bea, authority="SM 4.2",
                        actor_label=AWKWARD, subject=org.tom,
                        details={"text": AWKWARD, "number": 2.5, "int": 10**30,
                                 "list": [None, True, 0.1, {"nested": AWKWARD}]},
                        signoffs=[{"person": AWKWARD, "at": "2026-01-01T00:00:00Z"}],
                        retention_class=RetentionClass.LOGIN)
        services.record("tests.plain", actor=None, authority="SP 1.2")
        services.record_batch([services.Entry(action="tests.batch", authority="SM 4.2",
                                              actor_label=AWKWARD.replace("(#", "("),
                                              details={"n": number, "text": AWKWARD})
                               for number in range(5)])
    return org


def head() -> int:
    return proofs.tree_size()


def suspects() -> list[int] | None:
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        return quickwalk.column_suspects(cursor, connection.vendor,
                                         quickwalk.Range(0, head(), None, None, []))
    finally:
        cursor.close()


def chain_column_problems() -> list[str]:
    return [str(p) for p in verification.verify_chain()
            if p.problem.startswith("column") or "not valid JSON" in p.problem]


def test_the_database_finds_every_entry_secman_writes_in_agreement(log):
    assert suspects() == []
    assert verification.check_columns() == []


def test_json_columns_in_another_text_are_read_as_values(log):
    """PostgreSQL's jsonb text is its own; SQLite entries written before record() wrote
    the hashed text hold json.dumps()'s (spaces, \\u escapes): their values are compared."""
    seq = Event.objects.get(action="tests.awkward").seq
    event = Event.objects.get(seq=seq)
    tamper("UPDATE eventlog_event SET details = %s, signoffs = %s WHERE seq = %s",
           [json.dumps(event.details), json.dumps(event.signoffs), seq])
    assert suspects() == []
    assert verification.check_columns() == []


def test_numbers_jsonb_writes_out_in_full_agree(log):
    # jsonb gives 1.5e300 back as its 301 digits and -0.0 as 0.0; the hashed bytes read
    # as jsonb say the same, and column_mismatch reads them as the same numbers.
    with transaction.atomic():
        services.record("tests.numbers", actor=None, authority="SM 4.2",
                        details={"big": 1.5e300, "zero": -0.0, "list": [1e16, 0.1]})
    assert suspects() == []
    assert verification.check_columns() == []


@pytest.mark.parametrize(("column", "value", "name"), [
    ("action", "people.person.delete", "action"),
    ("authority", "SP 9.9", "authority"),
    ("actor_label", "Mallory", "actor"),
    ("subject_label", "Somebody else", "subject"),
    ("subject_id", "999", "subject"),
    ("retention_class", "incident", "class"),
    ("prev_hash", "0" * 64, "prev"),
    ("details", '{"text": "changed"}', "details"),
    ("signoffs", "[]", "signoffs"),
])
def test_it_names_the_entry_whose_column_was_changed(log, column, value, name):
    seq = Event.objects.get(action="tests.awkward").seq
    tamper(f"UPDATE eventlog_event SET {column} = %s WHERE seq = %s", [value, seq])
    expected = [f"entry #{seq}: column {name!r} differs from the hashed entry"]
    assert chain_column_problems() == expected
    assert verification.check_columns() == expected


def test_it_names_an_entry_pointed_at_another_actor_or_time(log):
    awkward = Event.objects.get(action="tests.awkward")
    plain = Event.objects.get(action="tests.plain")
    tamper("UPDATE eventlog_event SET actor_id = %s WHERE seq = %s", [log.tom.pk, awkward.seq])
    tamper("UPDATE eventlog_event SET actor_id = %s WHERE seq = %s", [log.tom.pk, plain.seq])
    later = awkward.recorded_at + dt.timedelta(microseconds=1)
    with transaction.atomic():  # the update needs the ORM's own way of writing a time
        value = connection.ops.adapt_datetimefield_value(later)
    batch = awkward.seq + 2
    tamper("UPDATE eventlog_event SET recorded_at = %s WHERE seq = %s", [value, batch])
    expected = [f"entry #{awkward.seq}: column 'actor' differs from the hashed entry",
                f"entry #{plain.seq}: column 'actor' differs from the hashed entry",
                f"entry #{batch}: column 'time' differs from the hashed entry"]
    assert chain_column_problems() == expected
    assert verification.check_columns() == expected


def test_bytes_that_are_not_an_entry_are_named(log):
    tamper("UPDATE eventlog_event SET canonical = 'not json' WHERE seq = 3")
    tamper("UPDATE eventlog_event SET authority = 'SP 1.1' WHERE seq = 5")
    expected = ["entry #3: stored bytes are not valid JSON",
                "entry #5: column 'authority' differs from the hashed entry"]
    assert chain_column_problems() == expected
    assert verification.check_columns() == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                          allow_infinity=False)
    | st.text(max_size=8).filter(lambda t: "\x00" not in t),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5).filter(lambda t: "\x00" not in t), children,
                      max_size=3),
    max_leaves=6)
short_text = st.text(max_size=12).filter(lambda t: "\x00" not in t)
changes = st.one_of(
    st.tuples(st.sampled_from(["action", "authority", "actor_label", "subject_type",
                               "subject_id", "subject_label", "retention_class"]),
              short_text),
    st.tuples(st.sampled_from(["details", "signoffs"]), json_values.map(json.dumps)),
    st.tuples(st.just("prev_hash"), st.text("0123456789abcdef", min_size=64, max_size=64)),
    st.tuples(st.just("actor_id"), st.sampled_from(["bea", "tom", None])),
    st.tuples(st.just("recorded_at"), st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC))),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=changes, which=st.integers(min_value=0, max_value=6))
def test_whatever_a_column_is_changed_to_it_names_what_verify_chain_names(log, change,
                                                                         which):
    column, value = change
    if column == "actor_id" and value is not None:
        value = getattr(log, value).pk
    elif column == "recorded_at":
        value = connection.ops.adapt_datetimefield_value(value)
    seq = which % head() + 1
    savepoint = transaction.savepoint()
    try:
        tamper(f"UPDATE eventlog_event SET {column} = %s WHERE seq = %s", [value, seq])
        assert verification.check_columns() == chain_column_problems()
    finally:
        transaction.savepoint_rollback(savepoint)
