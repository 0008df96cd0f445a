"""evaluate_current(): pages share one evaluation while the Event Log has not moved.

serialized_rollback: each test starts from the rows the migrations made, and the flush
after it leaves the content types to be restored rather than recreating them under new
keys, which broke the next test that restores them (tests/eventlog/test_verify_command.py,
when the browser tests did not run in between)."""

from __future__ import annotations

import pytest
from django.db import transaction

from secman.compliance import evaluation
from secman.eventlog.services import record
from tests.conftest import ensure_reference_data


def _log(action: str) -> None:
    with transaction.atomic():
        record(action, actor=None, authority="SP 1.2")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_reuses_the_evaluation_until_something_is_recorded(monkeypatch):
    ensure_reference_data()  # the controls read the access lists the migrations made
    monkeypatch.setattr(evaluation, "REUSE_SECONDS", 60)
    _log("test.one")
    first = evaluation.evaluate_current()
    assert evaluation.evaluate_current() is first
    _log("test.two")
    second = evaluation.evaluate_current()
    assert second is not first
    assert evaluation.evaluate_current() is second


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_evaluates_afresh_when_the_time_is_up_or_inside_a_transaction(monkeypatch):
    ensure_reference_data()  # the controls read the access lists the migrations made
    monkeypatch.setattr(evaluation, "REUSE_SECONDS", 60)
    _log("test.one")
    first = evaluation.evaluate_current()
    with transaction.atomic():
        assert evaluation.evaluate_current() is not first
    monkeypatch.setattr(evaluation, "REUSE_SECONDS", 0)
    assert evaluation.evaluate_current() is not first
