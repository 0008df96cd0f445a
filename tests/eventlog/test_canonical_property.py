"""Whatever a service puts into an entry's details, the stored bytes hash and verify."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.eventlog.models import Event
from secman.eventlog.services import record, verify_chain

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
