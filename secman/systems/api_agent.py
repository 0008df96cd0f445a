"""POST /api/agent/reports/: where a host agent posts its report (docs/agent.md).

Not a session or DRF-token endpoint: the agent authenticates with its system's own token
(`Authorization: Bearer <token>`), which is all it holds; a browser's cookie does not
count here, so there is no CSRF to check (DRF checks CSRF only for session logins). The
token and the size are judged before the body is read; the body is then read as bytes
and judged whole by systems.agents.receive_report. A refusal says why and stores
nothing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secman.core.api import Refusal
from secman.systems import agents


class RawJSON(BaseParser):
    """Declares the media type; the view reads the bytes itself (never request.data)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Any = None) -> Any:
        return {}


def bearer(request: Request) -> str:
    kind, _, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return credential.strip() if kind.lower() == "bearer" else ""


def refusal(exc: agents.ReportRefused) -> Response:
    body = {"detail": exc.message}
    if exc.section:
        body["section"] = exc.section
    response = Response(body, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="secman-agent"'
    return response


Stored = inline_serializer("AgentReportStored", {
    "id": serializers.IntegerField(),
    "system": serializers.CharField(),
    "received_at": serializers.DateTimeField(),
    "sha256": serializers.CharField(),
    "findings": serializers.IntegerField(help_text="Drift findings of the system now."),
})


class AgentReportView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSON]

    @extend_schema(
        operation_id="agent_report_create", tags=["agent"],
        summary="A host agent's report (secman-agent)",
        description="Sent by secman-agent with `Authorization: Bearer <the system's agent "
        "token>`; the body is the agent's JSON report (docs/agent.md). Stored whole, or "
        "refused whole with nothing written.",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: Stored,
            400: OpenApiResponse(Refusal, description="Not UTF-8 JSON of the agent's "
                                 "shape (unknown keys, wrong types, nested too deep)."),
            401: OpenApiResponse(Refusal, description="No bearer token, or one secman "
                                 "does not know."),
            403: OpenApiResponse(Refusal, description="A revoked token, or a report "
                                 "naming another system than the token's."),
            413: OpenApiResponse(Refusal, description="Larger than "
                                 "SECMAN_AGENT_REPORT_MAX_KB."),
        })
    def post(self, request: Request) -> Response:
        token = bearer(request)
        try:
            agents.authenticate(token)
            # Refused before the body is read (RequestSizeMiddleware has already checked
            # that Content-Length is a number).
            agents.check_size(int(request.META.get("CONTENT_LENGTH") or 0))
            try:
                body = request.body
            except RequestDataTooBig:
                raise agents.ReportRefused(413, "the report is larger than secman reads "
                                                "(DATA_UPLOAD_MAX_MEMORY_SIZE)") from None
            report = agents.receive_report(token, body)
        except agents.ReportRefused as exc:
            return refusal(exc)
        return Response({"id": report.pk, "system": report.system.name,
                         "received_at": report.received_at, "sha256": report.sha256,
                         "findings": len(report.derived.get("findings", []))},
                        status=status.HTTP_201_CREATED)
