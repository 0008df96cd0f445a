"""REST API for the facility, computers and storage media. Serializers check the shape
of the input; the services decide and record, exactly as for the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from secman.authority.models import Authority, SignOffRequest
from secman.core.api import (
    REFUSALS,
    AuthorityField,
    SecmanAPIView,
    SignOffOpened,
    choice_field,
    valid_data,
)
from secman.people.api import person_field
from secman.people.models import Person
from secman.physical import services
from secman.physical.choices import ComputerStatus, MediaStatus, MediaType, RetirementMethod
from secman.physical.models import Computer, Facility, FacilityRevision, Media, MediaReport


class InventoryView(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = services.why_not_see_inventory(self.actor)
        if refusal is not None:
            raise refusal


class ComputerSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    missing_inventory = serializers.ListField(child=serializers.CharField(), read_only=True)
    authority = AuthorityField(write_only=True)

    class Meta:
        model = Computer
        fields = ["id", "asset_tag", "nickname", "vendor", "model", "serial_number",
                  "maintenance_contact", "rack_location", "intended_use", "legal_owner",
                  "acquisition_notes", "status", "retire_reason", "missing_inventory",
                  "authority"]
        read_only_fields = ["id", "status", "retire_reason"]


class ComputerStepSerializer(serializers.Serializer):
    step = choice_field([("inventory", "inventory"), ("in_service", "in_service"),
                         ("maintenance", "maintenance"), ("service_risk", "service_risk"),
                         ("retire", "retire")])
    note = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                 help_text="Legal owner, maintenance work, or reason.")
    authority = AuthorityField()


class ComputerViewSet(InventoryView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The computer inventory (SP 2.2.1). `status` filters the list."""

    queryset = Computer.objects.all()  # for the schema; get_queryset checks the reader
    serializer_class = ComputerSerializer

    def get_queryset(self) -> QuerySet[Computer]:
        self.check_reader()
        queryset = Computer.objects.all()
        status = self.request.query_params.get("status")
        if status in ComputerStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.create_computer(actor=self.actor,
                                                       **serializer.validated_data)

    @extend_schema(request=ComputerStepSerializer,
                   responses={200: ComputerSerializer, 202: SignOffOpened, **REFUSALS})
    @action(detail=True, methods=["post"])
    def step(self, request: Any, pk: str | None = None) -> Response:
        """Move the computer on: inventory, in_service, maintenance (opens a four-eyes
        sign-off request, answered 202), service_risk, retire."""
        computer = self.get_object()
        data = valid_data(ComputerStepSerializer, request)
        note, authority = data.get("note", ""), data["authority"]
        step = data["step"]
        if step == "maintenance":
            signoff = services.request_maintenance(actor=self.actor, computer=computer,
                                                   work=note, authority=authority)
            return Response({"signoff_request": signoff.pk}, status=202)
        result = {
            "inventory": lambda: services.inventory_computer(
                actor=self.actor, computer=computer, authority=authority),
            "in_service": lambda: services.put_in_service(
                actor=self.actor, computer=computer, legal_owner=note, authority=authority),
            "service_risk": lambda: services.record_service_risk(
                actor=self.actor, computer=computer, reason=note, authority=authority),
            "retire": lambda: services.retire_computer(
                actor=self.actor, computer=computer, reason=note, authority=authority),
        }[step]()
        return Response(ComputerSerializer(result).data)


class MediaReportSerializer(serializers.ModelSerializer):
    present: serializers.StringRelatedField[Person] = serializers.StringRelatedField(many=True)
    authority: serializers.StringRelatedField[Authority] = serializers.StringRelatedField()

    class Meta:
        model = MediaReport
        fields = ["reported_at", "from_status", "to_status", "present", "steps_taken",
                  "location", "erased", "authority"]


class MediaSerializer(serializers.ModelSerializer):
    reports = MediaReportSerializer(many=True, read_only=True)

    class Meta:
        model = Media
        fields = ["id", "serial_number", "media_type", "capacity_gb", "description", "status",
                  "location", "computer", "critical_data", "retirement_method",
                  "disposal_certificate", "seal_expiry_year", "destroyed_at",
                  "last_erased_at", "reports"]
        read_only_fields = fields


class MediaCreateSerializer(serializers.Serializer):
    serial_number = serializers.CharField(max_length=120)
    media_type = choice_field(MediaType.choices)
    capacity_gb = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    location = serializers.CharField(max_length=200)
    critical_data = serializers.BooleanField(default=True)
    erased_and_reformatted = serializers.BooleanField()
    steps_taken = serializers.CharField()
    present = serializers.ListField(child=person_field(), min_length=1)
    authority = AuthorityField(default="SP 2.2.3.1")


class MediaStepSerializer(serializers.Serializer):
    to_status = choice_field([*((s.value, s.label) for s in MediaStatus
                                if s != MediaStatus.PROVISIONED), ("destroyed", "Destroyed")])
    present = serializers.ListField(child=person_field(), min_length=1)
    steps_taken = serializers.CharField()
    location = serializers.CharField(max_length=200)
    computer = serializers.PrimaryKeyRelatedField(queryset=Computer.objects.all(),
                                                  required=False, allow_null=True)
    erased = serializers.BooleanField(default=False)
    method = choice_field([("", "none"), *RetirementMethod.choices], required=False,
                          default="")
    certificate = serializers.CharField(required=False, allow_blank=True, default="")
    expiry_year = serializers.IntegerField(required=False, allow_null=True, default=None)
    authority = AuthorityField(default="SP 2.2.3")


class MediaViewSet(InventoryView, viewsets.ReadOnlyModelViewSet):
    """Storage media with their status reports (SP 2.2.3). `status` filters the list."""

    queryset = Media.objects.all()
    serializer_class = MediaSerializer

    def get_queryset(self) -> QuerySet[Media]:
        self.check_reader()
        queryset = Media.objects.prefetch_related("reports__present", "reports__authority")
        status = self.request.query_params.get("status")
        if status in MediaStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    @extend_schema(request=MediaCreateSerializer, responses={201: MediaSerializer, **REFUSALS})
    def create(self, request: Any) -> Response:
        self.check_reader()
        data = valid_data(MediaCreateSerializer, request)
        media = services.register_media(actor=self.actor, **data)
        return Response(MediaSerializer(media).data, status=201)

    @extend_schema(request=MediaStepSerializer,
                   responses={200: MediaSerializer, 202: SignOffOpened, **REFUSALS})
    @action(detail=True, methods=["post"])
    def step(self, request: Any, pk: str | None = None) -> Response:
        """A change of status with its report; for media with critical data it opens a
        request for two Systems Administrators (answered 202)."""
        media = self.get_object()
        data = valid_data(MediaStepSerializer, request)
        result = services.change_media_status(actor=self.actor, media=media, **data)
        if isinstance(result, SignOffRequest):
            return Response({"signoff_request": result.pk}, status=202)
        return Response(MediaSerializer(result).data)


class FacilityRevisionSerializer(serializers.ModelSerializer):
    authority: serializers.StringRelatedField[Authority] = serializers.StringRelatedField()

    class Meta:
        model = FacilityRevision
        fields = ["recorded_at", *FacilityRevision.FIELDS, "authority"]


class FacilitySerializer(serializers.ModelSerializer):
    revisions = FacilityRevisionSerializer(many=True, read_only=True)

    class Meta:
        model = Facility
        fields = ["id", "name", "revisions"]


class FacilityViewSet(InventoryView, viewsets.ReadOnlyModelViewSet):
    """Facilities with every revision of their description, newest first (SP 2.1)."""

    queryset = Facility.objects.all()
    serializer_class = FacilitySerializer

    def get_queryset(self) -> QuerySet[Facility]:
        self.check_reader()
        return Facility.objects.prefetch_related("revisions__authority")
