"""Input checked against the model it is written to. A limit is declared once, in the
model (a field's max_length, a unique field, a UniqueConstraint); services refuse what
breaks it with these helpers, and forms take their lengths from the same fields."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, UniqueConstraint

from secman.core.errors import RuleViolation

M = TypeVar("M", bound=Model)


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


def check_lengths(model: type[Model], values: Mapping[str, Any],
                  text_limit: int | None = None) -> None:
    """Refuse the first text longer than its field's max_length; `text_limit` caps the
    fields that have none (TextField), if given."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        field = _column(model, name)
        limit = field.max_length or text_limit
        if limit is not None and len(value) > limit:
            raise RuleViolation(f"{field.verbose_name} is longer than {limit} characters",
                                field=name)


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
