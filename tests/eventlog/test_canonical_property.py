"""Whatever a service puts into an entry's details, the stored bytes hash and verify."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.eventlog import canonical
from secman.eventlog.models import Event
from secman.eventlog.services import Entry, leaf_hex, record, record_batch
from secman.eventlog.verification import verify_chain
from tests.conftest import tamper

# JSON values as services write them: text (any Unicode, including NUL, surrogates
# excluded since they cannot be UTF-8), integers, booleans, None, lists and dicts.
keys = st.text(min_size=1, max_size=12).filter(
    lambda k: not any(word in k.lower() for word in ("password", "passphrase", "secret",
                                                     "token", "private_key")))
values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children,
                                                                      max_size=4),
    max_leaves=12,
)


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(details=st.dictionaries(keys, values, max_size=5), label=st.text(max_size=60))
def test_it_verifies_any_details_it_was_given(details, label):
    before = Event.objects.count()
    if contains_nul((details, label)):
        # Refused the same way on SQLite and PostgreSQL (which cannot store NUL).
        with pytest.raises(ValueError, match="NUL characters"), transaction.atomic():
            record("test.property", actor=None, actor_label=label or "x",
                   authority="SP 4.2.1", details=details)
        assert Event.objects.count() == before
        return
    with transaction.atomic():
        event = record("test.property", actor=None, actor_label=label or "x",
                       authority="SP 4.2.1", details=details)
    stored = Event.objects.get(pk=event.pk)
    assert stored.details == details
    assert verify_chain() == []


# What the bytes must be, however an append builds them: canonical.encode() of the
# entry's fields with sign-offs and details made plain (sorted keys, JSON types only).
# Floats below 2**53: PostgreSQL's jsonb keeps a larger one as the exact decimal its text
# names, which is not the double it was, so the details column is not equal to the plain
# details here (the hashed bytes are right either way, and the column check reads it as
# the same number: the tests at the end).
rich_values = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(min_value=-(2.0**53), max_value=2.0**53)
    | st.text(max_size=20).filter(lambda t: "\x00" not in t) | st.dates() | st.decimals(
        allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(keys.filter(lambda k: "\x00" not in k), children, max_size=3),
    max_leaves=10,
)


@pytest.mark.django_db
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(details=st.dictionaries(keys.filter(lambda k: "\x00" not in k), rich_values,
                               max_size=5),
       signoffs=st.lists(st.dictionaries(keys.filter(lambda k: "\x00" not in k),
                                         rich_values, max_size=3), max_size=2),
       label=st.text(max_size=30).filter(lambda t: "\x00" not in t),
       single=st.booleans())
def test_the_stored_bytes_are_the_canonical_encoding_of_the_entry(details, signoffs, label,
                                                                  single):
    if single:
        with transaction.atomic():
            seq = record("test.bytes", actor=None, actor_label=label, authority="SP 4.2.1",
                         details=details, signoffs=signoffs).seq
    else:
        with transaction.atomic():
            [seq] = record_batch([Entry(action="test.bytes", authority="SP 4.2.1",
                                        actor_label=label, details=details,
                                        signoffs=signoffs)])
    event = Event.objects.get(seq=seq)
    default = DjangoJSONEncoder().default
    expected = canonical.encode({
        "v": 2, "seq": seq, "prev": event.prev_hash,
        "time": event.recorded_at.isoformat().replace("+00:00", "Z"),
        "class": "application", "actor": label or "system", "action": "test.bytes",
        "subject": {"type": "", "id": "", "label": ""}, "authority": "SP 4.2.1",
        "signoffs": canonical.plain(signoffs, default),
        "details": canonical.plain(details, default)})
    assert event.canonical.encode() == expected
    assert event.details == canonical.plain(details, default)
    assert event.signoffs == canonical.plain(signoffs, default)
    assert leaf_hex(expected) == event.leaf_hash


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1.5e300, -3.25e20, 2.0**53 + 2, 1e16, 0.1, 10**30])
def test_numbers_the_json_column_writes_out_differently_pass_the_column_check(value):
    """PostgreSQL's jsonb gives 1.5e300 back as the 301-digit integer its text names: the
    same number read as a float, so not a changed column."""
    with transaction.atomic():
        record("test.number", actor=None, authority="SP 4.2.1",
               details={"value": value, "list": [value, {"again": value}]})
    assert verify_chain() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("hashed", "column"), [(1.5e300, 1.6e300), (1, True), (0.5, 1)])
def test_a_number_changed_in_the_column_is_still_found(hashed, column):
    with transaction.atomic():
        event = record("test.number", actor=None, authority="SP 4.2.1",
                       details={"value": hashed})
    tamper("UPDATE eventlog_event SET details = %s WHERE seq = %s",
           [json.dumps({"value": column}), event.seq])
    assert [str(p) for p in verify_chain()] == [
        f"entry #{event.seq}: column 'details' differs from the hashed entry"]
