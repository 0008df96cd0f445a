"""Helpers for rule tests: a refusal leaves the database exactly as it was (no row, no
Event Log entry), and a success writes exactly the entries it documents."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import models

from secman.eventlog.models import Event


def snapshot(*tables: type[models.Model]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the Event Log and of `tables`, to compare before and after."""
    return {model._meta.label: list(model.objects.order_by("pk").values())
            for model in (Event, *tables)}


@contextmanager
def refused(exc_type: type[Exception], match: str, *tables: type[models.Model],
            section: str | None = None) -> Iterator[Any]:
    """The block must raise `exc_type` with `match` in its message (and the section, when
    given) and leave the Event Log and `tables` unchanged, row for row."""
    before = snapshot(*tables)
    with pytest.raises(exc_type, match=match) as info:
        yield info
    if section is not None:
        assert info.value.section == section, info.value
    assert snapshot(*tables) == before


def last_seq() -> int:
    last = Event.objects.order_by("-seq").first()
    return last.seq if last else 0


def entries_since(seq: int) -> list[Event]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq"))


def actions_since(seq: int) -> list[str]:
    return [event.action for event in entries_since(seq)]
