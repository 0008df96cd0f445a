"""REST API for patches, configuration changes, the OS lifecycle and the Board summary
(SP 3.2.3, 3.2.3.1, SM 3.2, 4.1.3). Serializers check the shape of the input; the
services in systems.patches decide and record, exactly as for the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from secman.core.api import (
    REFUSALS,
    AuthorityField,
    SecmanAPIView,
    SignOffOpened,
    bad_input,
    choice_field,
    valid_data,
)
from secman.core.api_input import query_text
from secman.systems import patches
from secman.systems.choices import PatchStatus, SystemStatus
from secman.systems.models import ConfigurationChange, Patch, System


class PatchReader(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = patches.why_not_see_patches(self.actor)
        if refusal is not None:
            raise refusal


def _system_names() -> serializers.ListField:
    return serializers.ListField(child=serializers.SlugRelatedField(
        slug_field="name", queryset=System.objects.exclude(status=SystemStatus.RETIRED)),
        min_length=1, max_length=500)


class PatchSerializer(serializers.ModelSerializer):
    systems: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True)
    case = serializers.SerializerMethodField()
    signoff_request = serializers.IntegerField(source="signoff_id", read_only=True)

    class Meta:
        model = Patch
        fields = ["id", "advisory", "title", "packages", "systems", "emergency", "exploit",
                  "status", "proposed_by", "proposed_at", "approved_by", "approved_at",
                  "remedial_action", "remedial_by", "remedial_at", "signoff_request",
                  "applied_at", "reported_at", "case", "backup_recorded_at",
                  "backup_reference", "notes"]
        read_only_fields = fields

    def get_case(self, patch: Patch) -> str | None:
        return patch.case.number if patch.case else None


class ProposeSerializer(serializers.Serializer):
    advisory = serializers.CharField(max_length=60)
    title = serializers.CharField(max_length=300)
    packages = serializers.ListField(child=serializers.CharField(max_length=100),
                                     min_length=1, max_length=patches.MAX_PACKAGES)
    systems = _system_names()
    emergency = serializers.BooleanField(default=False)
    exploit = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=4000)
    authority = AuthorityField(default="SP 3.2.3")


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000, help_text="The instruction (remedial), "
                                 "the backup's reference (backup) or the reason (withdraw).")


class AuthorityOnly(serializers.Serializer):
    authority = AuthorityField(required=False)


PATCH_FILTER = OpenApiParameter("status", OpenApiTypes.STR, enum=[*PatchStatus.values,
                                                                  "emergency"],
                                description="Only patches with this status, or "
                                "`emergency` for the emergency patches.")


@extend_schema(parameters=[PATCH_FILTER])
class PatchViewSet(PatchReader, viewsets.ReadOnlyModelViewSet):
    """Security patches (SP 3.2.3): proposed, approved by the Systems Administration team
    leader, applied under four eyes, reported, followed by a backup."""

    queryset = Patch.objects.all()
    serializer_class = PatchSerializer

    def get_queryset(self) -> QuerySet[Patch]:
        self.check_reader()
        rows = Patch.objects.select_related("case").prefetch_related("systems")
        status = query_text(self.request, "status")
        if status in PatchStatus.values:
            rows = rows.filter(status=status)
        elif status == "emergency":
            rows = rows.filter(emergency=True)
        return rows

    @extend_schema(request=ProposeSerializer, responses={201: PatchSerializer, **REFUSALS})
    def create(self, request: Any) -> Response:
        """Propose a patch (Systems Administrators)."""
        self.check_reader()
        data = valid_data(ProposeSerializer, request)
        made = patches.propose_patch(actor=self.actor, **data)
        return Response(PatchSerializer(made).data, status=201)

    @extend_schema(request=AuthorityOnly, responses={200: PatchSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def approve(self, request: Any, pk: str | None = None) -> Response:
        """Approve (the Systems Administration team leader only); an emergency patch is
        referred to dispute resolution at the same time (SP 3.2.3.1)."""
        patch = self.get_object()
        data = valid_data(AuthorityOnly, request)
        done = patches.approve_patch(actor=self.actor, patch=patch,
                                     authority=data.get("authority") or "SP 3.2.3")
        return Response(PatchSerializer(done).data)

    @extend_schema(request=TextSerializer, responses={200: PatchSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def remedial(self, request: Any, pk: str | None = None) -> Response:
        """Instruct remedial action for an emergency patch applied before approval (the
        team leader only; SP 3.2.3.1)."""
        patch = self.get_object()
        data = valid_data(TextSerializer, request)
        done = patches.instruct_remedial_action(actor=self.actor, patch=patch,
                                                instruction=data["text"])
        return Response(PatchSerializer(done).data)

    @extend_schema(request=None, responses={202: SignOffOpened, **REFUSALS})
    @action(detail=True, methods=["post"])
    def apply(self, request: Any, pk: str | None = None) -> Response:
        """Open the four-eyes sign-off of applying the patch, signed by the caller as
        executor (answered 202); a second Systems Administrator signs as observer
        (/api/signoffs/{id}/), which applies it and mails the report."""
        patch = self.get_object()
        signoff = patches.start_application(actor=self.actor, patch=patch)
        return Response({"signoff_request": signoff.pk}, status=202)

    @extend_schema(request=None, responses={200: PatchSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def report(self, request: Any, pk: str | None = None) -> Response:
        """Mail an applied patch's report to the Systems Administration list again."""
        patch = self.get_object()
        patches.report_patch(actor=self.actor, patch=patch)
        return Response(PatchSerializer(Patch.objects.get(pk=patch.pk)).data)

    @extend_schema(request=TextSerializer, responses={200: PatchSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def backup(self, request: Any, pk: str | None = None) -> Response:
        """Record the full encrypted backup after the patch (SM 3.2.3)."""
        patch = self.get_object()
        data = valid_data(TextSerializer, request)
        done = patches.record_backup_after_patch(actor=self.actor, patch=patch,
                                                 reference=data["text"])
        return Response(PatchSerializer(done).data)

    @extend_schema(request=TextSerializer, responses={200: PatchSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Any, pk: str | None = None) -> Response:
        """Withdraw a patch not being applied (its proposer or the team leader)."""
        patch = self.get_object()
        data = valid_data(TextSerializer, request)
        done = patches.withdraw_patch(actor=self.actor, patch=patch, reason=data["text"])
        return Response(PatchSerializer(done).data)


class ChangeSerializer(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True)
    authority: serializers.StringRelatedField[Any] = serializers.StringRelatedField()

    class Meta:
        model = ConfigurationChange
        fields = ["id", "system", "summary", "rcs_reference", "covers", "made_at",
                  "recorded_by", "authority"]
        read_only_fields = fields


class RecordChangeSerializer(serializers.Serializer):
    system = serializers.SlugRelatedField(
        slug_field="name", queryset=System.objects.exclude(status=SystemStatus.RETIRED))
    summary = serializers.CharField(max_length=300)
    rcs_reference = serializers.CharField(max_length=200)
    covers = serializers.ListField(child=choice_field([(c, c) for c in patches.COVERS]),
                                   required=False, default=list, max_length=10)
    made_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    authority = AuthorityField(default="SM 4.1.3")


@extend_schema(parameters=[OpenApiParameter("system", OpenApiTypes.STR,
                                            description="Only this system's changes.")])
class ConfigurationChangeViewSet(PatchReader, viewsets.ReadOnlyModelViewSet):
    """Configuration changes with their RCS references (SM 4.1.3), newest first."""

    queryset = ConfigurationChange.objects.all()
    serializer_class = ChangeSerializer

    def get_queryset(self) -> QuerySet[ConfigurationChange]:
        self.check_reader()
        rows = ConfigurationChange.objects.select_related("system", "authority")
        system = query_text(self.request, "system")
        if system:
            rows = rows.filter(system__name=system)
        return rows

    @extend_schema(request=RecordChangeSerializer, responses={201: ChangeSerializer,
                                                              **REFUSALS})
    def create(self, request: Any) -> Response:
        """Record a configuration change (Systems Administrators)."""
        self.check_reader()
        data = valid_data(RecordChangeSerializer, request)
        made = patches.record_change(actor=self.actor, **data)
        return Response(ChangeSerializer(made).data, status=201)


class OsRowSerializer(serializers.Serializer):
    system = serializers.CharField()
    os_name = serializers.CharField()
    os_release = serializers.CharField()
    debian = serializers.CharField(allow_null=True)
    support = serializers.CharField(help_text="stable, oldstable, unsupported, unreleased "
                                    "or unknown")
    support_ends = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(help_text="The control's status for this system.")
    accepted_exception = serializers.BooleanField()


class OsLifecycleView(PatchReader, APIView):
    """Each system's Debian release, support and the date its security support ends
    (SM 3.2; dates from Debian's distro-info-data)."""

    @extend_schema(responses={200: OsRowSerializer(many=True), **REFUSALS})
    def get(self, request: Any) -> Response:
        from secman.systems.views_patches import os_rows

        self.check_reader()
        rows, error = os_rows(timezone.localdate())
        if error:
            raise bad_input("distro_info", error)
        return Response([{
            "system": r["system"].name, "os_name": r["system"].os_name,
            "os_release": r["system"].os_release,
            "debian": str(r["state"].release) if r["state"].release else None,
            "support": r["state"].support.value, "support_ends": r["state"].support_ends,
            "days_left": r["state"].days_left, "status": str(r["status"]),
            "accepted_exception": r["acceptance"] is not None} for r in rows])


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        # ?from=&to= as the page and the command line name them.
        data = {"start": data.get("from"), "end": data.get("to")}
        return super().to_internal_value({k: v for k, v in data.items() if v})


class SummaryView(PatchReader, APIView):
    """The team leader's summary to the Board (SP 3.2.3.1): the period's patches,
    emergency patches with their cases, configuration changes. Without `from` and `to`:
    the last calendar quarter."""

    @extend_schema(parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD)."),
        OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included.")],
        responses={200: OpenApiTypes.OBJECT, **REFUSALS})
    def get(self, request: Any) -> Response:
        self.check_reader()
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        first, last = patches.last_quarter(timezone.localdate())
        found = patches.summary(period.validated_data.get("start", first),
                                period.validated_data.get("end", last))
        return Response(found.as_json())
