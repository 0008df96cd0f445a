"""Shared API pieces: refusals from services become 400/403 answers that say why."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from secman.core.errors import NotAllowed, Refused


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        body = {"detail": exc.message}
        if exc.section:
            body["section"] = exc.section
        if exc.field:
            body["field"] = exc.field
        code = status.HTTP_403_FORBIDDEN if isinstance(exc, NotAllowed) else 400
        return Response(body, status=code)
    return drf_exception_handler(exc, context)


def actor_of(request: Any) -> Any:
    """The Person behind an API request; a login without one may read nothing."""
    from secman.people.selectors import person_for_user

    person = person_for_user(request.user)
    if person is None:
        raise NotAllowed("this login is not linked to a person in secman")
    return person
