"""REST API for reading the Event Log. Entries are only ever appended by the services,
so this API has no way to write one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from secman.core.api import REFUSALS, SecmanAPIView
from secman.core.api_input import id_field
from secman.core.errors import RuleViolation
from secman.eventlog import checkpoints, keys, proofs, verification
from secman.eventlog.models import Checkpoint, Event, RetentionClass, VerificationRun
from secman.eventlog.selectors import PayloadAccess


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="subject_type", help_text="e.g. people.person")
    id = serializers.CharField(source="subject_id")
    # A field named like Field.label: DRF's metaclass moves declared fields out of the
    # class, so the attribute the stubs see is not shadowed at run time.
    label = serializers.CharField(source="subject_label")  # type: ignore[assignment]


PAYLOAD = ["actor", "actor_label", "subject", "authority", "signoffs", "details",
           "canonical"]


class EventSerializer(serializers.ModelSerializer):
    # The payload fields are null for a restricted class unless the reader may see it.
    subject = serializers.SerializerMethodField(allow_null=True)
    payload_visible = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["seq", "recorded_at", "action", "retention_class", "leaf_hash",
                  "prev_hash", "purged_at", "payload_visible", *PAYLOAD]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            name: {"allow_null": True} for name in PAYLOAD if name != "subject"}
        extra_kwargs["canonical"]["help_text"] = (
            "The exact text that was hashed: SHA-256 of 0x00 followed by its UTF-8 bytes "
            "is leaf_hash (RFC 9162), and its \"prev\" is the previous entry's leaf hash. "
            "Empty once purged.")

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, event: Event) -> Any:
        return SubjectSerializer(event).data

    def get_payload_visible(self, event: Event) -> bool:
        return self.context["access"].visible(event)

    def to_representation(self, event: Event) -> dict[str, Any]:
        data = super().to_representation(event)
        if not data["payload_visible"]:
            # SM 4.2.2: the payload of a restricted class is for Systems Administrators.
            for name in PAYLOAD:
                data[name] = None
        return data


class EventFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False)
    retention_class = serializers.ChoiceField(choices=RetentionClass.choices, required=False)
    actor = id_field(required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until is the same day as since or "
                                                        "later"})
        return attrs


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("action", description="An action (people.list.approve), or its first "
                     "parts (people.list) for all actions under it."),
    OpenApiParameter("actor", int, description="The id of the person who acted."),
    OpenApiParameter("since", dt.date, description="From this day (UTC), inclusive."),
    OpenApiParameter("until", dt.date, description="Up to this day (UTC), inclusive."),
]))
class EventViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """The Event Log, newest first. Read-only: entries are appended by the services in
    the same transaction as the change they record."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    lookup_field = "seq"

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["access"] = PayloadAccess(context["viewer"])
        return context

    def get_queryset(self) -> QuerySet[Event]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = EventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        if action := wanted.get("action"):
            queryset = queryset.filter(Q(action=action) | Q(action__startswith=f"{action}."))
        if "retention_class" in wanted:  # metadata: every reader may filter by it
            queryset = queryset.filter(retention_class=wanted["retention_class"])
        if "actor" in wanted:
            access = PayloadAccess(self.get_serializer_context()["viewer"])
            queryset = access.searchable(queryset.filter(actor_id=wanted["actor"]))
        # recorded_at is UTC (TIME_ZONE = "UTC"), so a day is a UTC day.
        if "since" in wanted:
            queryset = queryset.filter(recorded_at__date__gte=wanted["since"])
        if "until" in wanted:
            queryset = queryset.filter(recorded_at__date__lte=wanted["until"])
        return queryset


# --- checkpoints, proofs, keys, verification --------------------------------------------


class CheckpointSerializer(serializers.ModelSerializer):
    key_id = serializers.CharField(source="key.key_id")

    class Meta:
        model = Checkpoint
        fields = ["id", "tree_size", "root_hash", "time", "prev_note_hash", "key_id", "note"]
        read_only_fields = fields


class CheckpointViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """Signed checkpoints (C2SP signed notes), newest first. `note` is the text to keep."""

    queryset = Checkpoint.objects.select_related("key")
    serializer_class = CheckpointSerializer

    @extend_schema(request=None, responses=CheckpointSerializer)
    @action(detail=False, methods=["post"])
    def sign(self, request: Any) -> Response:
        """Sign a checkpoint of the log as it is now (Systems Administrators)."""
        return Response(CheckpointSerializer(checkpoints.write_checkpoint(actor=self.actor)).data)

    @extend_schema(responses={200: CheckpointSerializer, 404: None})
    @action(detail=False)
    def latest(self, request: Any) -> Response:
        checkpoint = self.get_queryset().first()
        if checkpoint is None:
            raise NotFound("no checkpoint has been signed yet")
        return Response(CheckpointSerializer(checkpoint).data)


class InclusionQuery(serializers.Serializer):
    seq = id_field()
    size = id_field(required=False, help_text="Tree size; the whole log if left out.")


class ConsistencyQuery(serializers.Serializer):
    first = id_field()
    second = id_field(required=False, help_text="The larger size; the whole log if left out.")


class ProofView(SecmanAPIView, APIView):
    kind = ""

    @extend_schema(parameters=[InclusionQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request: Any) -> Response:
        query = (InclusionQuery if self.kind == "inclusion" else ConsistencyQuery)(
            data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            if self.kind == "inclusion":
                return Response(proofs.inclusion_proof(data["seq"], data.get("size")))
            return Response(proofs.consistency_proof(data["first"], data.get("second")))
        except ValueError as exc:
            raise RuleViolation(str(exc)) from None


class InclusionProofView(ProofView):
    """RFC 9162 inclusion proof of entry `seq` in the tree of `size` entries."""

    kind = "inclusion"


class ConsistencyProofView(ProofView):
    """RFC 9162 consistency proof between the trees of `first` and `second` entries."""

    kind = "consistency"

    @extend_schema(parameters=[ConsistencyQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request: Any) -> Response:
        return super().get(request)


class KeysView(SecmanAPIView, APIView):
    """Every key that ever signed a checkpoint, as note verifier keys (name+id+key)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Any) -> Response:
        return Response({"origin": keys.origin(), "keys": keys.verifier_keys()})


class VerificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerificationRun
        fields = ["started_at", "finished_at", "by_label", "entries", "checkpoints", "ok",
                  "problems"]
        read_only_fields = fields


class VerifyView(SecmanAPIView, APIView):
    """GET: the last verification. POST: verify the whole log now (Systems
    Administrators, SM 4.2.2)."""

    @extend_schema(responses={200: VerificationSerializer, 404: None})
    def get(self, request: Any) -> Response:
        last = VerificationRun.objects.first()
        if last is None:
            raise NotFound("the log has not been verified yet")
        return Response(VerificationSerializer(last).data)

    @extend_schema(request=None, responses=VerificationSerializer)
    def post(self, request: Any) -> Response:
        run = verification.run(by=self.actor)
        return Response(VerificationSerializer(run).data)


class WitnessSerializer(serializers.Serializer):
    note = serializers.CharField(trim_whitespace=False, max_length=4000,
                                 help_text="A checkpoint note as published by secman.")
    # Named like Field.source, taken out of the class the same way (see SubjectSerializer).
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200, help_text="Where it was kept.")


class WitnessResultSerializer(serializers.Serializer):
    consistent = serializers.BooleanField(
        help_text="Whether the log now is consistent with the checkpoint.")
    message = serializers.CharField(help_text="What was found, in words.")
    tree_size = serializers.IntegerField(help_text="The size of the checkpoint's tree.")


class WitnessView(SecmanAPIView, APIView):
    """Check a checkpoint kept outside secman against the log now."""

    @extend_schema(request=WitnessSerializer,
                   responses={201: WitnessResultSerializer, **REFUSALS})
    def post(self, request: Any) -> Response:
        checkpoints.require_witness_keeper(self.actor)  # before reading what was sent
        body = WitnessSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            witness = checkpoints.import_checkpoint(body.validated_data["note"],
                                                    source=body.validated_data["source"],
                                                    actor=self.actor)
        except ValueError as exc:
            raise RuleViolation(str(exc)) from None
        return Response({"consistent": witness.consistent, "message": witness.message,
                         "tree_size": witness.tree_size}, status=201)
