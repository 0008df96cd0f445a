"""REST API for the systems register and its flows. Serializers check the shape of the
input; the services decide and record, exactly as for the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from secman.core.api import REFUSALS, AuthorityField, SecmanAPIView, choice_field, valid_data
from secman.core.api_input import query_text
from secman.core.errors import NotAllowed
from secman.people.api import person_field
from secman.systems import selectors, services
from secman.systems.choices import (
    Criticality,
    Direction,
    Encryption,
    FlowStatus,
    Network,
    Protocol,
    SystemKind,
    SystemStatus,
)
from secman.systems.models import Address, DnsRecord, Flow, System


class RegisterView(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = services.why_not_read_register(self.actor)
        if refusal is not None:
            raise refusal

    def check_changer(self) -> None:
        """Before the body is read: whoever may not change the register is answered 403,
        whatever they sent (the service asks again)."""
        if not services.may_change_register(self.actor):
            raise NotAllowed("the systems register is changed by Systems Administrators",
                             section="SP 3.2.2")


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["network", "address", "interface"]


class DnsRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = DnsRecord
        fields = ["name", "rtype", "content"]


class FlowSerializer(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True)
    peer_system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True)
    port_label = serializers.CharField(read_only=True)
    in_effect = serializers.SerializerMethodField()
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    requested_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    decided_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Flow
        fields = ["id", "system", "direction", "protocol", "port", "port_end", "port_label",
                  "service", "peer", "peer_system", "purpose", "status", "in_effect",
                  "temporary_until", "requested_by", "requested_at", "decided_by",
                  "decided_at", "authority", "reason", "ended_at", "source"]
        read_only_fields = fields

    def get_in_effect(self, flow: Flow) -> bool:
        return flow.status == FlowStatus.APPROVED and not selectors.is_past_end(flow)


class SystemSerializer(serializers.ModelSerializer):
    host: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True)
    primary_admin = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    secondary_admin = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    inspected_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    critical_authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    addresses = AddressSerializer(many=True, read_only=True)
    dns_records = DnsRecordSerializer(many=True, read_only=True)
    flows = FlowSerializer(many=True, read_only=True)

    class Meta:
        model = System
        fields = ["name", "kind", "host", "computer", "criticality", "critical_authority",
                  "status", "purpose", "primary_admin", "secondary_admin", "contact",
                  "os_name", "os_release", "disk_encryption", "build_document",
                  "inspected_at", "inspected_by", "inspection_notes", "monitoring",
                  "running_services", "databases", "applications", "addresses",
                  "dns_records", "flows", "source", "created_at", "retired_at"]
        read_only_fields = fields


class SystemCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    kind = choice_field(SystemKind.choices)
    criticality = choice_field(Criticality.choices, default=Criticality.INFRASTRUCTURE)
    status = choice_field([(s.value, s.label) for s in SystemStatus
                           if s != SystemStatus.RETIRED], default=SystemStatus.PLANNED)
    host = serializers.SlugRelatedField(slug_field="name", queryset=System.objects.all(),
                                        required=False, allow_null=True)
    primary_admin = person_field(required=False, allow_null=True)
    secondary_admin = person_field(required=False, allow_null=True)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    os_name = serializers.CharField(required=False, allow_blank=True, max_length=60)
    os_release = serializers.CharField(required=False, allow_blank=True, max_length=20)
    disk_encryption = choice_field(Encryption.choices, default=Encryption.UNKNOWN)
    build_document = serializers.CharField(required=False, allow_blank=True, max_length=300)
    running_services = serializers.ListField(child=serializers.JSONField(), required=False)
    databases = serializers.ListField(child=serializers.JSONField(), required=False)
    monitoring = serializers.ListField(child=serializers.JSONField(), required=False)
    authority = AuthorityField(help_text="A Board decision for a critical system (SP 1.1).")


class SystemChangeSerializer(serializers.Serializer):
    kind = choice_field(SystemKind.choices, required=False)
    criticality = choice_field(Criticality.choices, required=False)
    host = serializers.SlugRelatedField(slug_field="name", queryset=System.objects.all(),
                                        required=False, allow_null=True)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    os_name = serializers.CharField(required=False, allow_blank=True, max_length=60)
    os_release = serializers.CharField(required=False, allow_blank=True, max_length=20)
    disk_encryption = choice_field(Encryption.choices, required=False)
    build_document = serializers.CharField(required=False, allow_blank=True, max_length=300)
    running_services = serializers.ListField(child=serializers.JSONField(), required=False)
    databases = serializers.ListField(child=serializers.JSONField(), required=False)
    monitoring = serializers.ListField(child=serializers.JSONField(), required=False)
    authority = AuthorityField()


class AdministratorsSerializer(serializers.Serializer):
    primary = person_field(allow_null=True)
    secondary = person_field(allow_null=True)
    authority = AuthorityField()


class AddressInput(serializers.Serializer):
    network = choice_field(Network.choices)
    address = serializers.CharField(max_length=45)
    interface = serializers.CharField(required=False, allow_blank=True, max_length=30,
                                      default="")


class AddressesSerializer(serializers.Serializer):
    addresses = AddressInput(many=True)
    authority = AuthorityField()


class DnsInput(serializers.Serializer):
    name = serializers.CharField(max_length=253)
    rtype = serializers.CharField(max_length=10)
    content = serializers.CharField(max_length=500)


class DnsSerializer(serializers.Serializer):
    records = DnsInput(many=True)
    authority = AuthorityField()


class InstallSerializer(serializers.Serializer):
    build_document = serializers.CharField(max_length=300)
    disk_encryption = choice_field(Encryption.choices)
    authority = AuthorityField(default="SP 3.2.2")


class InspectSerializer(serializers.Serializer):
    notes = serializers.CharField(max_length=10_000)
    authority = AuthorityField(default="SP 3.2.2")


class SystemReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField()


class FlowRequestSerializer(serializers.Serializer):
    direction = choice_field(Direction.choices)
    protocol = choice_field(Protocol.choices, default=Protocol.TCP)
    port = serializers.IntegerField(required=False, allow_null=True, default=None)
    port_end = serializers.IntegerField(required=False, allow_null=True, default=None)
    service = serializers.CharField(required=False, allow_blank=True, max_length=60,
                                    default="")
    peer = serializers.CharField(max_length=200, help_text="Origin (ingress) or destination "
                                 "(egress): ANY, an address or network, a system, a DNS name.")
    purpose = serializers.CharField(max_length=300)
    temporary_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                   default="")
    authority = AuthorityField(default="SP 3.1.1.2")


class FlowDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                   default="")
    authority = AuthorityField(default="SP 3.1.1.2")


class FlowEndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField(default="SM 3.1.2")


STATUS_FILTER = OpenApiParameter("status", str, enum=SystemStatus.values,
                                 description="Only systems in this status.")


class SystemViewSet(RegisterView, viewsets.ReadOnlyModelViewSet):
    """The systems register (SP 1.1, 3.1, 3.2), by name, with addresses, DNS records and
    flows. `status` filters the list."""

    queryset = System.objects.all()  # for the schema; get_queryset checks the reader
    serializer_class = SystemSerializer
    lookup_field = "name"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self) -> QuerySet[System]:
        self.check_reader()
        queryset = System.objects.select_related(
            "host", "primary_admin", "secondary_admin", "inspected_by", "critical_authority"
        ).prefetch_related("addresses", "dns_records", "flows__peer_system",
                           "flows__authority", "flows__requested_by", "flows__decided_by")
        status = query_text(self.request, "status")
        if status in SystemStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    @extend_schema(parameters=[STATUS_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _answer(self, system: System, status: int = 200) -> Response:
        return Response(SystemSerializer(self.get_queryset().get(pk=system.pk)).data,
                        status=status)

    @extend_schema(request=SystemCreateSerializer, responses={201: SystemSerializer,
                                                              **REFUSALS})
    def create(self, request: Any) -> Response:
        """Record a system; a critical one under a Board decision (SP 1.1)."""
        self.check_reader()
        self.check_changer()
        data = valid_data(SystemCreateSerializer, request)
        return self._answer(services.add_system(actor=self.actor, **data), status=201)

    @extend_schema(request=SystemChangeSerializer, responses={200: SystemSerializer,
                                                              **REFUSALS})
    @action(detail=True, methods=["post"])
    def change(self, request: Any, name: str | None = None) -> Response:
        """Change fields of the entry; the entry names each before and after."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(SystemChangeSerializer, request)
        authority = data.pop("authority")
        return self._answer(services.update_system(actor=self.actor, system=system,
                                                   authority=authority, **data))

    @extend_schema(request=AdministratorsSerializer, responses={200: SystemSerializer,
                                                                **REFUSALS})
    @action(detail=True, methods=["post"])
    def administrators(self, request: Any, name: str | None = None) -> Response:
        """Name the primary and secondary administrator: two distinct Systems
        Administrators (SP 1.2)."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(AdministratorsSerializer, request)
        return self._answer(services.set_administrators(actor=self.actor, system=system,
                                                        **data))

    @extend_schema(request=AddressesSerializer, responses={200: SystemSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def addresses(self, request: Any, name: str | None = None) -> Response:
        """Replace the system's addresses."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(AddressesSerializer, request)
        return self._answer(services.set_addresses(
            actor=self.actor, system=system, addresses=[dict(a) for a in data["addresses"]],
            authority=data["authority"]))

    @extend_schema(request=DnsSerializer, responses={200: SystemSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def dns(self, request: Any, name: str | None = None) -> Response:
        """Replace the DNS records naming the system."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(DnsSerializer, request)
        return self._answer(services.set_dns_records(
            actor=self.actor, system=system, records=[dict(r) for r in data["records"]],
            authority=data["authority"]))

    @extend_schema(request=InstallSerializer, responses={200: SystemSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def install(self, request: Any, name: str | None = None) -> Response:
        """A planned system is installed (SP 3.2.2 build document, SP 3.2.1 encryption)."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(InstallSerializer, request)
        return self._answer(services.record_installation(actor=self.actor, system=system,
                                                         **data))

    @extend_schema(request=InspectSerializer, responses={200: SystemSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def inspect(self, request: Any, name: str | None = None) -> Response:
        """Record the inspection (SP 3.2.2): an installed system enters service."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(InspectSerializer, request)
        return self._answer(services.record_inspection(actor=self.actor, system=system,
                                                       **data))

    @extend_schema(request=SystemReasonSerializer, responses={200: SystemSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def retire(self, request: Any, name: str | None = None) -> Response:
        """Retire the system; its flows end with it."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(SystemReasonSerializer, request)
        return self._answer(services.retire_system(actor=self.actor, system=system, **data))

    @extend_schema(request=FlowRequestSerializer, responses={201: FlowSerializer,
                                                             **REFUSALS})
    @action(detail=True, methods=["post"], url_path="request-flow")
    def request_flow(self, request: Any, name: str | None = None) -> Response:
        """Request a flow (SM 3.1.2); it takes effect when the Systems Administration team
        leader approves it (SP 3.1.1.2)."""
        system = self.get_object()
        self.check_changer()
        data = valid_data(FlowRequestSerializer, request)
        flow = services.request_flow(actor=self.actor, system=system, **data)
        return Response(FlowSerializer(flow).data, status=201)


FLOW_STATUS_FILTER = OpenApiParameter("status", str, enum=FlowStatus.values,
                                      description="Only flows in this status.")
FLOW_SYSTEM_FILTER = OpenApiParameter("system", str, description="Only this system's flows.")


class FlowViewSet(RegisterView, viewsets.ReadOnlyModelViewSet):
    """Every documented flow (SM 3.1.2): requests waiting first. `status` and `system`
    filter the list."""

    queryset = Flow.objects.all()
    serializer_class = FlowSerializer

    def get_queryset(self) -> QuerySet[Flow]:
        self.check_reader()
        system = query_text(self.request, "system")
        flows = selectors.flows_listed(query_text(self.request, "status"))
        return flows.filter(system__name=system) if system else flows

    @extend_schema(parameters=[FLOW_STATUS_FILTER, FLOW_SYSTEM_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=FlowDecisionSerializer, responses={200: FlowSerializer,
                                                              **REFUSALS})
    @action(detail=True, methods=["post"])
    def decide(self, request: Any, pk: str | None = None) -> Response:
        """Approve or refuse a request: the Systems Administration team leader only, never
        the requester (SP 3.1.1.2)."""
        flow = self.get_object()
        if not services.may_decide_flows(self.actor):
            raise NotAllowed("flows are approved or refused by the Systems Administration "
                             "team leader", section="SP 3.1.1.2")
        data = valid_data(FlowDecisionSerializer, request)
        return Response(FlowSerializer(services.decide_flow(actor=self.actor, flow=flow,
                                                            **data)).data)

    @extend_schema(request=FlowEndSerializer, responses={200: FlowSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def end(self, request: Any, pk: str | None = None) -> Response:
        """End an approved flow, or withdraw a request."""
        flow = self.get_object()
        self.check_changer()
        data = valid_data(FlowEndSerializer, request)
        return Response(FlowSerializer(services.end_flow(actor=self.actor, flow=flow,
                                                         **data)).data)
