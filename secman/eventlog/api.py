"""REST API for reading the Event Log. Entries are only ever appended by the services,
so this API has no way to write one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets

from secman.core.api import SecmanAPIView
from secman.eventlog.models import Event


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="subject_type", help_text="e.g. people.person")
    id = serializers.CharField(source="subject_id")
    label = serializers.CharField(source="subject_label")


class EventSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["seq", "recorded_at", "actor", "actor_label", "action", "subject",
                  "authority", "signoffs", "details", "retention_class", "prev_hash",
                  "entry_hash", "canonical"]
        read_only_fields = fields
        extra_kwargs = {"canonical": {
            "help_text": "The exact text that was hashed: SHA-256 of its UTF-8 bytes is "
                         "entry_hash, and its \"prev\" is the previous entry's hash."}}

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, event: Event) -> Any:
        return SubjectSerializer(event).data


class EventFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False)
    actor = serializers.IntegerField(required=False, min_value=1)
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

    def get_queryset(self) -> QuerySet[Event]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = EventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        if action := wanted.get("action"):
            queryset = queryset.filter(Q(action=action) | Q(action__startswith=f"{action}."))
        if "actor" in wanted:
            queryset = queryset.filter(actor_id=wanted["actor"])
        # recorded_at is UTC (TIME_ZONE = "UTC"), so a day is a UTC day.
        if "since" in wanted:
            queryset = queryset.filter(recorded_at__date__gte=wanted["since"])
        if "until" in wanted:
            queryset = queryset.filter(recorded_at__date__lte=wanted["until"])
        return queryset
