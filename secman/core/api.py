"""Shared API pieces: refusals from services become 400/403 answers that say why (input
no endpoint takes is refused in core.api_input), and the schema declares, once for every
operation, the error answers any of them can give."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, RequestDataTooBig
from django.db.models import ForeignObjectRel
from django.utils.functional import cached_property
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    TokenAuthentication,
)
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from secman.core.accounts import person_for_user
from secman.core.api_input import JSONParser
from secman.core.authorities import ACCEPTED as ACCEPTED_AUTHORITIES
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
    if isinstance(exc, RequestDataTooBig):
        # DRF reads a JSON body through request.body, which Django refuses past
        # DATA_UPLOAD_MAX_MEMORY_SIZE; Django's own answer would be a bare 400.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": f"the body is larger than the {limit} bytes the API "
                                   "takes (DATA_UPLOAD_MAX_MEMORY_SIZE); nothing was read"},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # ValidationError("...") from a view: DRF answers a bare list; every error body of
        # this API is an object (see ERROR_RESPONSES).
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response


def actor_of(request: Any) -> Any:
    """The Person behind an API request; a login without one may read nothing."""
    person = person_for_user(request.user)
    if person is None:
        raise NotAllowed("this login is not linked to a person in secman")
    return person


# --- pieces every app's api.py uses ---------------------------------------------------------


class PersonRequired(BasePermission):
    """Signed in, and the login belongs to a Person: a login without one may read nothing
    (the same rule as the UI's actor_of)."""

    message = "this login is not linked to a person in secman"

    def has_permission(self, request: Any, view: Any) -> bool:
        return person_for_user(request.user) is not None


class SecmanAPIView:
    """Mixin for every secman API view. Token authentication comes first so that an
    anonymous client is answered 401 with `WWW-Authenticate: Token` (DRF takes the header
    from the first class) instead of a bare 403; session logins work as before, with
    DRF's CSRF check on writes."""

    # Typed as DRF's APIView types them, so that the mixin and the view agree.
    authentication_classes: Sequence[type[BaseAuthentication]] = [
        TokenAuthentication, SessionAuthentication]
    permission_classes: Sequence[type[BasePermission] | OperandHolder | SingleOperandHolder] = [
        PersonRequired]
    # JSON in, JSON out: one request format to document and to test.
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    request: Any

    @cached_property
    def actor(self) -> Any:
        return actor_of(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        # A mixin: the GenericAPIView it is mixed into has the method; object does not.
        context = super().get_serializer_context()  # type: ignore[misc]
        # Schema generation runs without a real user; serializers then show everything.
        fake = getattr(self, "swagger_fake_view", False)
        context["viewer"] = None if fake else self.actor
        return context


def accepted(values: Any) -> str:
    return ", ".join(str(value) for value in values)


def choice_field(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField whose refusal lists what it accepts."""
    values = [value for value, _label in choices]
    kwargs.setdefault("error_messages", {})
    kwargs["error_messages"].setdefault(
        "invalid_choice", f'"{{input}}" is not accepted: use one of {accepted(values)}'
    )
    return serializers.ChoiceField(choices=choices, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class AuthorityField(serializers.Field):
    """SP 1.2: what authorises the action. Written as a reference string; the service
    parses it and refuses free text. Read back as the canonical reference."""

    default_error_messages = {"invalid": f"give the reference as text: {ACCEPTED_AUTHORITIES}"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", f"Authority (SP 1.2): {ACCEPTED_AUTHORITIES}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


class Refusal(serializers.Serializer):
    """The body of a 400/403 from a service refusal (see exception_handler)."""

    detail = serializers.CharField(help_text="What is wrong and what would be accepted.")
    section = serializers.CharField(required=False, help_text="The SP/SM section behind it.")
    field = serializers.CharField(required=False, help_text="The input field it concerns.")


REFUSALS = {400: Refusal, 403: Refusal}


class SignOffOpened(serializers.Serializer):
    """The body of a 202: the action needs sign-offs first (SP 1.2 dual control / four
    eyes); it takes effect when the request opened for it is complete."""

    signoff_request = serializers.IntegerField(
        help_text="The id of the sign-off request: /api/signoffs/{id}/.")


# --- the error answers, declared once for every operation ----------------------------------

BAD_REQUEST = {
    "type": "object",
    "description": "The request was refused and nothing was written. Either the service "
    "refused it ({detail, section?, field?}, see Refusal), or the input is malformed: then "
    "the messages per input field, as DRF gives them ({field: [message, ...]}, nested like "
    "the input; `non_field_errors` for the body as a whole), or {detail} when the body "
    "could not be read at all.",
    "properties": {
        "detail": {"type": "string", "description": "What is wrong and what would be "
                   "accepted."},
        "section": {"type": "string", "description": "The SP/SM section behind it."},
        "field": {"type": "string", "description": "The input field it concerns."},
    },
    "additionalProperties": True,
}

ERRORS = {
    "400": ("BadRequest", BAD_REQUEST, "Refused: the input, or a rule of the policy."),
    "401": ("Refusal", None, "No credentials, or a token that is not valid "
            "(`WWW-Authenticate: Token`)."),
    "403": ("Refusal", None, "This login may not do this: not linked to a person in "
            "secman, or the person does not hold a role that may."),
    "404": ("Refusal", None, "Nothing by that id, or nothing this person may see."),
    "413": ("Refusal", None, "The body is larger than the API takes: a JSON body above "
            "DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), any request above SECMAN_MAX_REQUEST_MB."),
}


def model_fields(field: serializers.Field) -> list[Any]:
    """The model fields a serializer field reads through its source ("authority.reference":
    the authority foreign key, then Authority.reference); reverse relations and what is
    not a model field (a property, a method) end the chain."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    chain: list[Any] = []
    if model is None or field.source == "*":
        return chain
    for name in field.source_attrs:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            break
        if isinstance(model_field, ForeignObjectRel):
            break
        chain.append(model_field)
        model = model_field.related_model
        if model is None:
            break
    return chain


class AutoSchema(SpectacularAutoSchema):
    """Every operation's responses include the errors it can give, each in the one shape
    the exception handler answers with: 401 and 403 everywhere (every endpoint needs a
    login that belongs to a person), 400 wherever there is input (a body or query
    parameters, pagination included) or a view declares it, 404 wherever the path names
    something (or a view declares it). A view's own declaration of one of these codes
    says only that it can happen; the body is always the shared one. 413 wherever a body
    may be sent (exception_handler above, core.uploads)."""

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str,
                      registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        where = {parameter["in"] for parameter in operation.get("parameters", [])}
        responses = operation["responses"]
        wanted = {"401", "403"}
        if "requestBody" in operation or "query" in where or "400" in responses:
            wanted.add("400")
        if "requestBody" in operation or self.method in ("POST", "PUT", "PATCH"):
            wanted.add("413")
        if "path" in where or "404" in responses:
            wanted.add("404")
        for code in sorted(wanted):
            responses[code] = self._error_response(code)
        return operation

    def _map_serializer_field(self, field: Any, direction: str,
                              bypass_extensions: bool = False) -> dict[str, Any]:
        # DRF drops allow_null and allow_blank from read-only model fields, so the schema
        # would promise a value where the record holds none: say what the model allows.
        if field.read_only:
            chain = model_fields(field)
            if any(getattr(model_field, "null", False) for model_field in chain):
                field.allow_null = True
            if (chain and isinstance(field, serializers.ChoiceField)
                    and getattr(chain[-1], "blank", False)):
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _error_response(self, code: str) -> dict[str, Any]:
        name, schema, description = ERRORS[code]
        if schema is None:
            response = self._get_response_for_code(Refusal, code)
        else:
            component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA,
                                          schema=schema, object=name)
            self.registry.register_on_missing(component)
            response = self._get_response_for_code(component.ref, code)
        response["description"] = description
        return response


def _refuse_nul(value: Any, field: str) -> None:
    # PostgreSQL cannot compare or store a NUL: a field that looks a row up by name
    # (a system, a person) would answer 500 before any check of ours saw the text.
    if isinstance(value, str) and "\x00" in value:
        raise bad_input(field, "a NUL character is not accepted")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, field)
            _refuse_nul(item, str(key) if field == "non_field_errors" else field)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, field)


def valid_data(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    """The validated body of an action, or a 400 that names each field's problem (a NUL
    anywhere in it is refused first)."""
    _refuse_nul(request.data, "non_field_errors")
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def bad_input(field: str, message: str) -> serializers.ValidationError:
    """A 400 shaped like a serializer's: {field: [message]}."""
    return serializers.ValidationError({field: [message]})
