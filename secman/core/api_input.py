"""Input no API endpoint takes, refused with a 400 that says what is accepted before any
view works on it: a page size out of range, an id no database holds, JSON nested without
end. Used by the REST_FRAMEWORK settings, so this module imports no DRF view (DRF reads
its settings while its views are being defined)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import LimitOffsetPagination

# The largest integer a database column holds (a signed 64-bit integer, SQLite's INTEGER
# and PostgreSQL's bigint): a larger id is not an id of anything, and the driver would
# fail on it.
MAX_ID = 2**63 - 1


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """An integer id in a query or body: a whole number from 1 to MAX_ID, else a 400
    with DRF's message for it (never a database error)."""
    kwargs.setdefault("min_value", 1)
    kwargs.setdefault("max_value", MAX_ID)
    return serializers.IntegerField(**kwargs)


def query_text(request: Any, name: str, default: str = "") -> str:
    """A text query parameter (a name, a status): a NUL in it is a 400, since PostgreSQL
    cannot compare one and a filter on it would answer 500."""
    text = request.query_params.get(name, default)
    if "\x00" in text:
        raise serializers.ValidationError({name: ["a NUL character is not accepted"]})
    return str(text)


def whole_number(request: Any, name: str, default: int, lowest: int, highest: int) -> int:
    """A query parameter that must be a whole number in [lowest, highest] when given."""
    if name not in request.query_params:
        return default
    text = request.query_params[name]
    if not (text.isascii() and text.isdigit() and len(text) <= 19
            and lowest <= int(text) <= highest):
        raise serializers.ValidationError(
            {name: [f"{name} is a whole number from {lowest} to {highest}"]})
    return int(text)


class Pagination(LimitOffsetPagination):
    """`?limit=` (1 to 1000, default 100) and `?offset=` (0 and up) on every list. Out of
    range or not a number is a 400 that says what is accepted: DRF's own class would
    quietly ignore such a value, or hand a limit no database takes to the query."""

    max_limit = 1000
    max_offset = MAX_ID

    def get_limit(self, request: Any) -> int:
        return whole_number(request, self.limit_query_param, self.default_limit or 100, 1,
                            self.max_limit)

    def get_offset(self, request: Any) -> int:
        return whole_number(request, self.offset_query_param, 0, 0, self.max_offset)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: {"minimum": 1, "maximum": self.max_limit,
                                           "default": self.default_limit or 100},
                  self.offset_query_param: {"minimum": 0, "maximum": self.max_offset,
                                            "default": 0}}
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters


# JSON deeper than this is refused before any serializer walks it. The deepest body the
# API takes is three levels (a sign-off request's requirement, a decision's votes).
MAX_JSON_DEPTH = 32


def json_depth(data: Any) -> int:
    """How deep lists and objects nest in parsed JSON (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = (value.values() if isinstance(value, dict)
                    else value if isinstance(value, list) else None)
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing nesting deeper than MAX_JSON_DEPTH with a 400: Python's
    decoder gives up with a RecursionError (a 500) at about a thousand levels, and code
    that walks what it returns might give up sooner. (A body larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE never gets here: DRF reads it through request.body, which
    refuses it; core.api.exception_handler answers that 413.)"""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        too_deep = ParseError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels; "
                              f"this API takes at most {MAX_JSON_DEPTH}")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise too_deep
        return data
