"""REST API for compliance: every control's status with its findings, duty occurrences,
and the actions (complete, skip, attest, accept) through the same services as the pages.
Evidence files are uploaded through the page; the API takes a note and an Event Log
entry as evidence."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from secman.authority.models import Authority
from secman.compliance import evaluation, services
from secman.compliance.models import AcceptanceKind, Occurrence, OccurrenceStatus
from secman.core.api import REFUSALS, AuthorityField, SecmanAPIView, choice_field, valid_data
from secman.core.controls import control, declared_controls
from secman.people.models import Person


class FindingSerializer(serializers.Serializer):
    section = serializers.CharField()
    message = serializers.CharField()
    url = serializers.CharField()
    status = serializers.CharField()
    subject = serializers.CharField()


class ControlResultSerializer(serializers.Serializer):
    id = serializers.CharField(source="control.id")
    sections = serializers.ListField(child=serializers.CharField(), source="control.sections")
    statement = serializers.CharField(source="control.statement")
    owner = serializers.CharField(source="control.owner")
    kind = serializers.CharField(source="control.kind")
    status = serializers.CharField()
    summary = serializers.CharField()
    evaluated_at = serializers.DateTimeField()
    findings = FindingSerializer(many=True)
    accepted = serializers.SerializerMethodField()

    def get_accepted(self, result: evaluation.Result) -> list[dict[str, Any]]:
        return [{"finding": FindingSerializer(finding).data, "acceptance": acceptance.pk,
                 "kind": acceptance.kind, "authority": str(acceptance.authority),
                 "expires_at": acceptance.expires_at}
                for finding, acceptance in result.accepted]


class ControlsView(SecmanAPIView, APIView):
    """Every control evaluated now, from records and Event Log entries."""

    @extend_schema(responses=ControlResultSerializer(many=True))
    def get(self, request: Any) -> Response:
        self.actor  # noqa: B018  (a login without a person reads nothing)
        return Response(ControlResultSerializer(evaluation.evaluate(), many=True).data)


class AttestSerializer(serializers.Serializer):
    statement = serializers.CharField(allow_blank=True)
    authority = AuthorityField()


class AcceptSerializer(serializers.Serializer):
    kind = choice_field(AcceptanceKind.choices)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reason = serializers.CharField(allow_blank=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    authority = AuthorityField()


class ControlView(SecmanAPIView, APIView):
    @extend_schema(responses=ControlResultSerializer)
    def get(self, request: Any, control_id: str) -> Response:
        self.actor  # noqa: B018
        declared = control(control_id)
        if declared is None:
            raise Http404("no such control")
        return Response(ControlResultSerializer(evaluation.evaluate([declared])[0]).data)


class AttestedSerializer(serializers.Serializer):
    attestation = serializers.IntegerField(help_text="The id of the attestation recorded.")
    expires_at = serializers.DateTimeField(help_text="When it is due again.")


class AcceptedSerializer(serializers.Serializer):
    acceptance = serializers.IntegerField(help_text="The id of the acceptance recorded.")


class AttestView(SecmanAPIView, APIView):
    @extend_schema(request=AttestSerializer, responses={201: AttestedSerializer, **REFUSALS})
    def post(self, request: Any, control_id: str) -> Response:
        data = valid_data(AttestSerializer, request)
        attestation = services.attest(actor=self.actor, control_id=control_id, **data)
        return Response({"attestation": attestation.pk,
                         "expires_at": attestation.expires_at}, status=201)


class AcceptView(SecmanAPIView, APIView):
    @extend_schema(request=AcceptSerializer, responses={201: AcceptedSerializer, **REFUSALS})
    def post(self, request: Any, control_id: str) -> Response:
        data = valid_data(AcceptSerializer, request)
        acceptance = services.accept(actor=self.actor, control_id=control_id, **data)
        return Response({"acceptance": acceptance.pk}, status=201)


class OccurrenceSerializer(serializers.ModelSerializer):
    control = serializers.CharField(source="duty.control_id", read_only=True)
    completed_by: serializers.StringRelatedField[Person] = serializers.StringRelatedField()
    authority: serializers.StringRelatedField[Authority] = serializers.StringRelatedField()

    class Meta:
        model = Occurrence
        fields = ["id", "control", "period_start", "due_at", "status", "procedure_reference",
                  "completed_by", "completed_at", "note", "evidence_name", "evidence_sha256",
                  "event_seq", "signoff", "authority", "skip_reason"]


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)
    event_seq = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    authority = AuthorityField(required=False)


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    authority = AuthorityField()


class OccurrenceViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """Occurrences of recurring duties. Filters: `control`, `status`
    (open, awaiting_signoff, done, skipped), `overdue=1`."""

    queryset = Occurrence.objects.all()
    serializer_class = OccurrenceSerializer

    def get_queryset(self) -> QuerySet[Occurrence]:
        self.actor  # noqa: B018
        queryset = Occurrence.objects.select_related("duty", "completed_by", "authority")
        params = self.request.query_params
        if params.get("control") in {c.id for c in declared_controls()}:
            queryset = queryset.filter(duty__control_id=params["control"])
        if params.get("status") in OccurrenceStatus.values:
            queryset = queryset.filter(status=params["status"])
        if params.get("overdue") == "1":
            queryset = queryset.filter(due_at__lte=timezone.now(), status__in=[
                OccurrenceStatus.OPEN, OccurrenceStatus.AWAITING_SIGNOFF])
        return queryset

    @extend_schema(request=CompleteSerializer, responses={200: OccurrenceSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def complete(self, request: Any, pk: str | None = None) -> Response:
        data = valid_data(CompleteSerializer, request)
        done = services.complete_occurrence(actor=self.actor, occurrence=self.get_object(),
                                            note=data["note"],
                                            event_seq=data.get("event_seq"),
                                            authority=data.get("authority"))
        return Response(OccurrenceSerializer(done).data)

    @extend_schema(request=SkipSerializer, responses={200: OccurrenceSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def skip(self, request: Any, pk: str | None = None) -> Response:
        data = valid_data(SkipSerializer, request)
        skipped = services.skip_occurrence(actor=self.actor, occurrence=self.get_object(),
                                           **data)
        return Response(OccurrenceSerializer(skipped).data)
