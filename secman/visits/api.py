"""REST API for visits and the codes & devices register (SP/SM 2.3, 4.2.4).

Every change is made by the service the UI calls, so the rules and who may act are the
same; a refusal answers 400/403 with the rule's section (secman.core.api)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from secman.authority.models import ArbitrationCase, Authority
from secman.core.api import REFUSALS, AuthorityField, SecmanAPIView, accepted, bad_input, valid_data
from secman.people.api import person_field
from secman.visits import devices, services
from secman.visits.choices import DeviceKind, OnSiteRole, ReportKind, VisitStatus
from secman.visits.models import Device, Holding, Participant, Visit, VisitReport
from secman.visits.selectors import why_not_authorised


@extend_schema_field(OpenApiTypes.STR)
class TextChoice(serializers.ChoiceField):
    """A choice written as a plain string in the schema: "kind" and "role" name other
    choice sets in other apps, and one enum name per field keeps clients' types apart."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        values = [value for value, _label in choices]
        kwargs.setdefault("help_text", f"One of {accepted(values)}.")
        kwargs.setdefault("error_messages", {"invalid_choice": f'"{{input}}" is not '
                                             f"accepted: use one of {accepted(values)}"})
        super().__init__(choices=choices, **kwargs)


# --- visits -------------------------------------------------------------------------------


class ParticipantSerializer(serializers.ModelSerializer):
    role = TextChoice(OnSiteRole.choices, read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Participant
        fields = ["person", "person_name", "role", "accesses_data", "checked_in_at",
                  "checked_out_at"]


class ReportSerializer(serializers.ModelSerializer):
    kind = TextChoice(ReportKind.choices, read_only=True)
    author_name = serializers.CharField(source="author.name", read_only=True)

    class Meta:
        model = VisitReport
        fields = ["kind", "author", "author_name", "text", "filed_at"]


class VisitSerializer(serializers.ModelSerializer):
    authority: serializers.StringRelatedField[Authority] = serializers.StringRelatedField()
    case: serializers.SlugRelatedField[ArbitrationCase] = serializers.SlugRelatedField(
        slug_field="number", read_only=True,
        help_text="The dispute filed for an emergency access.")
    ruling: serializers.SlugRelatedField[ArbitrationCase] = serializers.SlugRelatedField(
        slug_field="number", read_only=True, help_text="The ruling linked after the fact.")
    participants = ParticipantSerializer(many=True, read_only=True)
    reports = ReportSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "purpose", "systems", "window_start", "window_end", "logical_access",
                  "status", "requested_by", "requested_at", "authorisation_reference",
                  "authority", "authorised_by", "authorised_at", "is_emergency",
                  "circumstances", "case", "ruling", "closed_at", "closed_by",
                  "participants", "reports"]
        read_only_fields = fields


class VisitRequestSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    systems = serializers.CharField(help_text="The systems concerned, as text.")
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    logical_access = serializers.BooleanField(default=True)


class AuthoriseSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="SM 2.3.1: where the authorisation is kept.")
    authority = AuthorityField(required=False, default="SM 2.3.1")


class PeopleSerializer(serializers.Serializer):
    people = serializers.ListField(child=person_field(), allow_empty=False)
    at = serializers.DateTimeField(required=False, help_text="Default: now.")


class FileReportSerializer(serializers.Serializer):
    kind = TextChoice(ReportKind.choices)
    text = serializers.CharField(help_text="A short description of what was done.")


class RulingSerializer(serializers.Serializer):
    case = serializers.CharField(help_text="A ruled Arbitration case, e.g. a20090525.1.")


class EmergencySerializer(serializers.Serializer):
    purpose = serializers.CharField()
    systems = serializers.CharField()
    circumstances = serializers.CharField(help_text="Why the access could not wait.")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    people = serializers.ListField(child=person_field(), allow_empty=False)
    logical_access = serializers.BooleanField(default=True)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("status", enum=VisitStatus.values, description="Only visits in this "
                     "state."),
    OpenApiParameter("emergency", enum=["yes", "no"], description="Only emergency "
                     "accesses, or only ordinary visits."),
]))
class VisitViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """Physical visits (SP 2.3): requested, authorised, checked in and out under dual
    control, reported by the accessor and the Access Engineer (SP 4.2.4), closed."""

    queryset = Visit.objects.select_related("authority", "case", "ruling").prefetch_related(
        "participants__person", "reports__author")
    serializer_class = VisitSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        for name, allowed in (("status", VisitStatus.values), ("emergency", ["yes", "no"])):
            value = self.request.query_params.get(name)
            if value is not None and value not in allowed:
                raise bad_input(name, f'"{value}" is not accepted: use one of {accepted(allowed)}')
        if value := self.request.query_params.get("status"):
            queryset = queryset.filter(status=value)
        if value := self.request.query_params.get("emergency"):
            queryset = queryset.filter(is_emergency=value == "yes")
        return queryset

    def _answer(self, visit: Visit, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=visit.pk)).data,
                        status=code)

    @extend_schema(request=VisitRequestSerializer, responses={201: VisitSerializer, **REFUSALS})
    def create(self, request: Request) -> Response:
        """Request a visit (SM 2.3.1)."""
        data = valid_data(VisitRequestSerializer, request)
        return self._answer(services.request_visit(actor=self.actor, **data),
                            status.HTTP_201_CREATED)

    @extend_schema(request=AuthoriseSerializer, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def authorise(self, request: Request, pk: str) -> Response:
        """Record the authorisation and its reference (SM 2.3.1)."""
        data = valid_data(AuthoriseSerializer, request)
        return self._answer(services.authorise_visit(actor=self.actor,
                                                     visit=self.get_object(), **data))

    @extend_schema(request=PeopleSerializer, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str) -> Response:
        """Check people in (SP 2.3: at least two, an Access Engineer among them)."""
        visit = self.get_object()
        services.check_in(actor=self.actor, visit=visit, **valid_data(PeopleSerializer,
                                                                      request))
        return self._answer(visit)

    @extend_schema(request=PeopleSerializer, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request: Request, pk: str) -> Response:
        """Check people out; those who stay still meet the on-site rule."""
        visit = self.get_object()
        services.check_out(actor=self.actor, visit=visit, **valid_data(PeopleSerializer,
                                                                       request))
        return self._answer(visit)

    @extend_schema(request=FileReportSerializer, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str) -> Response:
        """File the accessor's or the Access Engineer's report (SP 4.2.4)."""
        visit = self.get_object()
        services.file_report(actor=self.actor, visit=visit,
                             **valid_data(FileReportSerializer, request))
        return self._answer(visit)

    @extend_schema(request=None, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """Close the visit; it is mailed to the systems administration list (SM 2.3.3)
        if SECMAN_SYSADMIN_LIST is set. Its Event Log entry says which: `mailed_to` or
        `not_mailed`."""
        return self._answer(services.close_visit(actor=self.actor, visit=self.get_object()))

    @extend_schema(request=RulingSerializer, responses={200: VisitSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="link-ruling")
    def link_ruling(self, request: Request, pk: str) -> Response:
        """Link the ruling that authorises an emergency access after the fact."""
        data = valid_data(RulingSerializer, request)
        return self._answer(services.link_ruling(actor=self.actor, visit=self.get_object(),
                                                 case=data["case"]))

    @extend_schema(request=EmergencySerializer, responses={201: VisitSerializer, **REFUSALS})
    @action(detail=False, methods=["post"])
    def emergency(self, request: Request) -> Response:
        """Record an emergency access (SP 2.3.4): files a dispute with the circumstances."""
        data = valid_data(EmergencySerializer, request)
        return self._answer(services.record_emergency(actor=self.actor, **data),
                            status.HTTP_201_CREATED)


# --- codes and devices --------------------------------------------------------------------


class HoldingSerializer(serializers.ModelSerializer):
    holder_name = serializers.CharField(source="holder.name", read_only=True)
    authority: serializers.StringRelatedField[Authority] = serializers.StringRelatedField()
    not_authorised = serializers.SerializerMethodField(
        help_text="Why the holder is not authorised now (SP 2.3.5); empty if they are.")

    class Meta:
        model = Holding
        fields = ["id", "holder", "holder_name", "issued_at", "issued_by",
                  "authorisation_reference", "authority", "returned_at", "returned_by",
                  "not_authorised"]

    def get_not_authorised(self, holding: Holding) -> str:
        return "" if holding.returned_at else why_not_authorised(holding.holder)


class DeviceSerializer(serializers.ModelSerializer):
    kind = TextChoice(DeviceKind.choices)
    authority = AuthorityField(required=False, default="SM 2.3.5")
    holdings = HoldingSerializer(many=True, read_only=True)

    class Meta:
        model = Device
        fields = ["id", "kind", "label", "controlling_party", "copies_permitted", "notes",
                  "registered_at", "authority", "holdings"]
        read_only_fields = ["registered_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"label": {"validators": []}}
        validators: list = []


class IssueSerializer(serializers.Serializer):
    holder = person_field()
    reference = serializers.CharField(help_text="Where the authorisation is kept.")
    authority = AuthorityField(required=False, default="SM 2.3.5")


class ReturnSerializer(serializers.Serializer):
    holder = person_field(help_text="The person returning it.")


@extend_schema_view(
    create=extend_schema(responses={201: DeviceSerializer, **REFUSALS}))
class DeviceViewSet(SecmanAPIView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The register of physical security codes and devices (SP/SM 2.3.5). A code's value
    is never stored."""

    queryset = Device.objects.select_related("authority").prefetch_related(
        "holdings__holder", "holdings__authority")
    serializer_class = DeviceSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = devices.register_device(actor=self.actor,
                                                       **serializer.validated_data)

    def _answer(self, device: Device) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=device.pk)).data)

    @extend_schema(request=IssueSerializer, responses={200: DeviceSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str) -> Response:
        """Issue the device (or tell the code) to an authorised person."""
        device = self.get_object()
        devices.issue_device(actor=self.actor, device=device,
                              **valid_data(IssueSerializer, request))
        return self._answer(device)

    @extend_schema(request=ReturnSerializer, responses={200: DeviceSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str) -> Response:
        """Record that a holder returned it."""
        device = self.get_object()
        holder = valid_data(ReturnSerializer, request)["holder"]
        holding = device.holdings.current().filter(holder=holder).first()
        if holding is None:
            raise bad_input("holder", f"{holder} does not hold {device}")
        devices.return_device(actor=self.actor, holding=holding)
        return self._answer(device)
