"""REST API for removals of access (SM 3.4.4) and termination checklists (SM 9.1.7).
Serializers check the shape of the input; the services in privileged.removals and
privileged.checklists decide and record, exactly as for the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from secman.core.api import REFUSALS, AuthorityField, SecmanAPIView, choice_field, valid_data
from secman.core.api_input import query_text
from secman.people.models import Person
from secman.privileged import checklists, removals, selectors
from secman.privileged.choices import CHECKLIST_STEPS, ChecklistStatus, RemovalEvent
from secman.privileged.models import AccessRemoval, ChecklistStep, TerminationChecklist


class AccessReader(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = selectors.why_not_read_access(self.actor)
        if refusal is not None:
            raise refusal


class RemovalSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    authority = serializers.CharField(source="authority.reference", read_only=True)
    proposals: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True)

    class Meta:
        model = AccessRemoval
        fields = ["id", "person", "person_name", "event", "reason", "removed_at",
                  "removed_by", "authority", "status", "proposals", "decided_at"]
        read_only_fields = fields


class RemoveSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    event = choice_field(RemovalEvent.choices)
    reason = serializers.CharField(max_length=4000, allow_blank=True)
    authority = AuthorityField(default="SM 3.4.4")


class RemovalViewSet(AccessReader, viewsets.ReadOnlyModelViewSet):
    """Removals of access (SM 3.4.4): at once, temporary until the Board approves the list
    removals, restored if it rejects one."""

    queryset = AccessRemoval.objects.all()
    serializer_class = RemovalSerializer

    def get_queryset(self) -> QuerySet[AccessRemoval]:
        self.check_reader()
        return AccessRemoval.objects.select_related("person", "authority").prefetch_related(
            "proposals")

    @extend_schema(request=RemoveSerializer, responses={201: RemovalSerializer, **REFUSALS})
    def create(self, request: Any) -> Response:
        """Remove a person's access now (the SA team leader, the person's team leader, a
        Board member or the Arbitrator)."""
        self.check_reader()
        data = valid_data(RemoveSerializer, request)
        made = removals.remove_access(actor=self.actor, **data)
        return Response(RemovalSerializer(made).data, status=201)


class StepSerializer(serializers.ModelSerializer):
    what = serializers.SerializerMethodField()
    reports: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True)

    class Meta:
        model = ChecklistStep
        fields = ["number", "what", "done_at", "done_by", "evidence", "reports"]
        read_only_fields = fields

    def get_what(self, step: ChecklistStep) -> str:
        return CHECKLIST_STEPS[step.number]


class ChecklistSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    team = serializers.CharField(source="team.kind", read_only=True)
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = TerminationChecklist
        fields = ["id", "person", "person_name", "team", "trigger", "membership",
                  "list_entry", "removal", "opened_at", "status", "closed_at",
                  "closed_by", "steps"]
        read_only_fields = fields


class CompleteStepSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=len(CHECKLIST_STEPS))
    evidence = serializers.CharField(max_length=4000, allow_blank=True, required=False,
                                     default="", help_text="What was done and where it is "
                                     "recorded; required unless from_agent_reports.")
    from_agent_reports = serializers.BooleanField(
        default=False, help_text="Step 1 only: the agents' reports since the checklist "
        "opened are the evidence.")


CHECKLIST_FILTER = OpenApiParameter("status", OpenApiTypes.STR,
                                    enum=[*ChecklistStatus.values],
                                    description="Only checklists with this status.")


@extend_schema(parameters=[CHECKLIST_FILTER])
class ChecklistViewSet(AccessReader, viewsets.ReadOnlyModelViewSet):
    """Termination and transfer checklists (SM 9.1.7), opened automatically."""

    queryset = TerminationChecklist.objects.all()
    serializer_class = ChecklistSerializer

    def get_queryset(self) -> QuerySet[TerminationChecklist]:
        self.check_reader()
        rows = TerminationChecklist.objects.select_related("person", "team").prefetch_related(
            "steps__reports")
        status = query_text(self.request, "status")
        if status in ChecklistStatus.values:
            rows = rows.filter(status=status)
        return rows

    @extend_schema(request=CompleteStepSerializer,
                   responses={200: ChecklistSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def step(self, request: Any, pk: str | None = None) -> Response:
        """Complete a step with its evidence (the team's leader or a Systems
        Administrator)."""
        checklist = self.get_object()
        data = valid_data(CompleteStepSerializer, request)
        step = get_object_or_404(ChecklistStep, checklist=checklist, number=data["number"])
        if data["from_agent_reports"]:
            checklists.complete_keys_step_from_reports(actor=self.actor, step=step)
        else:
            checklists.complete_step(actor=self.actor, step=step, evidence=data["evidence"])
        return Response(ChecklistSerializer(self.get_queryset().get(pk=checklist.pk)).data)

    @extend_schema(request=None, responses={200: ChecklistSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def close(self, request: Any, pk: str | None = None) -> Response:
        """Close the checklist once every step is done (the team leader)."""
        checklist = self.get_object()
        checklists.close_checklist(actor=self.actor, checklist=checklist)
        return Response(ChecklistSerializer(self.get_queryset().get(pk=checklist.pk)).data)
