"""REST API for Board decisions, Arbitration cases and two-person sign-offs (SP 1.2).

Serializers validate the shape of the input; the service functions decide whether the
action is allowed and record it, exactly as for the UI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from secman.authority import arbitration, services
from secman.authority.choices import CaseStatus, SignOffStatus, Vote
from secman.authority.models import (
    ArbitrationCase,
    BoardDecision,
    BoardVote,
    SignOff,
    SignOffRequest,
)
from secman.authority.signoff import TASK, Requirement, dual_control, four_eyes, label_for
from secman.core.api import (
    REFUSALS,
    AuthorityField,
    SecmanAPIView,
    accepted,
    bad_input,
    choice_field,
    valid_data,
)
from secman.core.roles import Role
from secman.people.api import person_field
from secman.people.models import Person

# Identifiers such as m20100222.1 and a20090525.1 contain a dot, which DRF's default
# lookup pattern would cut off.
DOTTED_LOOKUP = r"[^/]+"


# --- Board decisions ----------------------------------------------------------------------


class BoardVoteSerializer(serializers.ModelSerializer):
    person = person_field(help_text="The id of a person who was a Board member that day.")
    person_name = serializers.CharField(source="person.name", read_only=True)
    vote = choice_field(Vote.choices)

    class Meta:
        model = BoardVote
        fields = ["person", "person_name", "vote"]
        validators: list = []


class TallySerializer(serializers.Serializer):
    aye = serializers.IntegerField()
    naye = serializers.IntegerField()
    abstain = serializers.IntegerField()


class BoardDecisionSerializer(serializers.ModelSerializer):
    votes = BoardVoteSerializer(
        many=True, help_text="Every Board member's vote; members active in the area abstain "
                             "(SP 9.1.5)."
    )
    tally = serializers.SerializerMethodField()
    carried = serializers.BooleanField(read_only=True,
                                       help_text="Only a carried decision authorises.")
    recorded_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True)
    confirmed = serializers.BooleanField(
        read_only=True, help_text="Only confirmed minutes authorise: a second Board member, "
        "not the one who recorded them, confirms them (SP 1.2).")
    confirmed_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True)

    class Meta:
        model = BoardDecision
        fields = ["minute_id", "decided_on", "title", "text", "votes", "tally", "carried",
                  "recorded_by", "recorded_at", "confirmed", "confirmed_by", "confirmed_at"]
        read_only_fields = ["recorded_at", "confirmed_at"]
        extra_kwargs = {"minute_id": {
            "validators": [],  # the service says which decision is already recorded
            "help_text": "m, the date as YYYYMMDD, a dot and a number, e.g. m20100222.1.",
        }}

    @extend_schema_field(TallySerializer)
    def get_tally(self, decision: BoardDecision) -> dict[str, int]:
        return decision.tally()

    def validate_votes(self, votes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not votes:
            raise serializers.ValidationError(
                'record the votes of the Board members: [{"person": id, "vote": "aye"}, ...]')
        people = [vote["person"].pk for vote in votes]
        if len(set(people)) != len(people):
            raise serializers.ValidationError("each Board member votes once")
        return votes


@extend_schema_view(
    create=extend_schema(responses={201: BoardDecisionSerializer, **REFUSALS}))
class BoardDecisionViewSet(SecmanAPIView, mixins.CreateModelMixin,
                           viewsets.ReadOnlyModelViewSet):
    """Board decisions as minuted, with their votes. A decision authorises nothing until
    a second Board member confirms the minutes, and one that was not carried is kept but
    authorises nothing."""

    queryset = BoardDecision.objects.prefetch_related("votes__person")
    serializer_class = BoardDecisionSerializer
    lookup_field = "minute_id"
    lookup_value_regex = DOTTED_LOOKUP

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        votes = {vote["person"]: vote["vote"] for vote in data.pop("votes")}
        serializer.instance = services.record_board_decision(
            actor=self.actor, votes=votes, **data)

    @extend_schema(request=None, responses={200: BoardDecisionSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, minute_id: str) -> Response:
        """Confirm the minutes: an active Board member other than the one who recorded
        them (SP 1.2). Until then the decision authorises nothing."""
        decision = services.confirm_board_decision(actor=self.actor,
                                                   decision=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=decision.pk)).data)


# --- Arbitration cases --------------------------------------------------------------------


class ArbitrationCaseSerializer(serializers.ModelSerializer):
    status = choice_field(CaseStatus.choices, required=False,
                          help_text="Set by updates; a new case is filed, or running once "
                                    "an Arbitrator is named.")
    arbitrator = person_field(required=False, allow_null=True,
                              help_text="The id of a person holding the Arbitrator role.")
    # No default: a read-only field's default is skipped in a PATCH's answer (DRF skips
    # defaults on partial updates), and the key would be missing; allow_null gives None.
    arbitrator_name = serializers.CharField(source="arbitrator.name", read_only=True,
                                            allow_null=True)
    case_manager = person_field(required=False, allow_null=True,
                                help_text="The id of a Case Manager, not the Arbitrator "
                                          "(SP 9.1.4).")
    case_manager_name = serializers.CharField(source="case_manager.name", read_only=True,
                                              allow_null=True)

    class Meta:
        model = ArbitrationCase
        fields = ["number", "title", "status", "arbitrator", "arbitrator_name",
                  "case_manager", "case_manager_name", "filed_on", "ruled_on",
                  "ruling_summary"]
        extra_kwargs = {"number": {
            "validators": [],  # the service says which case is already recorded
            "help_text": "a, the date as YYYYMMDD, a dot and a number, e.g. a20090525.1.",
        }}
        validators: list = []

    FIXED = ("number", "title", "filed_on")
    PROGRESS = ("status", "ruled_on", "ruling_summary")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            given = [name for name in self.PROGRESS if name in attrs]
            if given:
                raise serializers.ValidationError({given[0]: (
                    "a new case starts as filed (running once an Arbitrator is named); "
                    "record its status and ruling with PATCH afterwards")})
        else:
            given = [name for name in self.FIXED if name in attrs]
            if given:
                raise serializers.ValidationError({given[0]: (
                    "the number, title and filing date are fixed once a case is recorded; "
                    "a PATCH changes status, arbitrator, case_manager, ruled_on and "
                    "ruling_summary")})
        return attrs


@extend_schema_view(
    create=extend_schema(responses={201: ArbitrationCaseSerializer, **REFUSALS}),
    partial_update=extend_schema(responses={200: ArbitrationCaseSerializer, **REFUSALS}))
class ArbitrationCaseViewSet(SecmanAPIView, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                             viewsets.ReadOnlyModelViewSet):
    """Arbitration cases (Dispute Resolution Policy). Recorded and moved on by
    Arbitrators and Case Managers; only the case's Arbitrator records its ruling."""

    queryset = ArbitrationCase.objects.select_related("arbitrator", "case_manager")
    serializer_class = ArbitrationCaseSerializer
    lookup_field = "number"
    lookup_value_regex = DOTTED_LOOKUP
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = arbitration.file_case(actor=self.actor,
                                                 **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        case = serializer.instance
        assert isinstance(case, ArbitrationCase)  # a PATCH updates the case of its URL
        data = serializer.validated_data
        status = data.get("status", case.status)
        # What the PATCH leaves out stays as recorded; a ruling is carried along only
        # while the status stays 'ruled'.
        ruled = status == CaseStatus.RULED
        serializer.instance = arbitration.update_case(
            actor=self.actor, case=case, status=status,
            arbitrator=data.get("arbitrator", case.arbitrator),
            case_manager=data.get("case_manager", case.case_manager),
            ruled_on=data.get("ruled_on", case.ruled_on if ruled else None),
            ruling_summary=data.get("ruling_summary", case.ruling_summary if ruled else ""),
        )


# --- sign-offs ----------------------------------------------------------------------------

ROLE_HELP = f"Role values: {accepted(Role.values)}."
PRINCIPLES = [("dual control", "dual control"), ("four eyes", "four eyes")]
STATES = [*SignOffStatus.choices, ("expired", "Expired")]


class RoleListField(serializers.ListField):
    """A list of role values. Plain strings in the schema (one role enum under many
    property names would give clients many identical types); checked here instead."""

    child = serializers.CharField()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("help_text", ROLE_HELP)
        super().__init__(**kwargs)

    # A set, not ListField's list: Requirement holds the roles as a frozenset.
    def to_internal_value(self, data: Any) -> frozenset[Role]:  # type: ignore[override]
        values = super().to_internal_value(data)
        unknown = [value for value in values if value not in Role.values]
        if unknown:
            raise serializers.ValidationError(
                f'"{unknown[0]}" is not a role: use {accepted(Role.values)}')
        return frozenset(Role(value) for value in values)


class RequirementSerializer(serializers.Serializer):
    """What the task needs. Dual control: `count` distinct people holding any of
    `roles`. Four eyes: an executor (one of `executor`) and an observer (one of
    `observer`) who is not the executor."""

    principle = choice_field(PRINCIPLES)
    roles = RoleListField(required=False, help_text=f"Dual control only. {ROLE_HELP}")
    count = serializers.IntegerField(required=False, min_value=2, max_value=10,
                                     help_text="Dual control only: how many people sign "
                                               "(default 2).")
    executor = RoleListField(required=False, help_text=f"Four eyes only. {ROLE_HELP}")
    observer = RoleListField(required=False, help_text=f"Four eyes only. {ROLE_HELP}")

    def validate(self, attrs: dict[str, Any]) -> Requirement:
        if attrs["principle"] == "dual control":
            stray: list[str] = [name for name in ("executor", "observer") if name in attrs]
            if stray or "roles" not in attrs:
                raise serializers.ValidationError(
                    'dual control takes "roles" (and optionally "count"), e.g. '
                    '{"principle": "dual control", "roles": ["systems_administrator"], '
                    '"count": 2}')
            return dual_control(attrs["roles"], attrs.get("count", 2))
        stray = [name for name in ("roles", "count") if name in attrs]
        if stray or "executor" not in attrs or "observer" not in attrs:
            raise serializers.ValidationError(
                'four eyes takes "executor" and "observer", e.g. {"principle": "four eyes", '
                '"executor": ["systems_administrator"], "observer": ["access_engineer"]}')
        return four_eyes(attrs["executor"], attrs["observer"])


class SignatureSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = SignOff
        fields = ["slot", "person", "person_name", "role", "signed_at", "comment"]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text=ROLE_HELP)
    signed_by = serializers.IntegerField(allow_null=True,
                                         help_text="The person who filled it, if anyone.")


class SignOffRequestSerializer(serializers.ModelSerializer):
    action = serializers.CharField(read_only=True)
    action_label = serializers.SerializerMethodField()
    authority = AuthorityField()
    requirement = RequirementSerializer(write_only=True)
    expires_in_hours = serializers.IntegerField(
        write_only=True, default=7 * 24, min_value=1, max_value=services.MAX_SIGNOFF_DAYS * 24,
        help_text="How long the request waits for its sign-offs (default 168 = 7 days).")
    principle = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField(help_text="The requirement, in words.")
    state = serializers.SerializerMethodField()
    slots = serializers.SerializerMethodField()
    open_slots = serializers.SerializerMethodField()
    my_open_slots = serializers.SerializerMethodField(
        help_text="The open slots you could sign now.")
    signoffs = SignatureSerializer(many=True, read_only=True)
    requested_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True)

    class Meta:
        model = SignOffRequest
        fields = ["id", "action", "action_label", "title", "description", "authority",
                  "requirement", "expires_in_hours", "principle", "needs", "state", "slots",
                  "open_slots", "my_open_slots", "signoffs", "requested_by", "requested_at",
                  "expires_at", "completed_at"]
        read_only_fields = ["requested_at", "expires_at", "completed_at"]

    def get_action_label(self, request: SignOffRequest) -> str:
        return label_for(request.action)

    def get_principle(self, request: SignOffRequest) -> str:
        return str(request.requirement["principle"])

    def get_needs(self, request: SignOffRequest) -> str:
        return Requirement.from_json(request.requirement).describe()

    @extend_schema_field(serializers.ChoiceField(choices=STATES))
    def get_state(self, request: SignOffRequest) -> str:
        return request.state

    @extend_schema_field(SlotSerializer(many=True))
    def get_slots(self, request: SignOffRequest) -> Any:
        signed = {s.slot: s.person_id for s in request.signoffs.all()}
        return SlotSerializer([
            {"name": slot.name, "roles": sorted(slot.roles), "signed_by": signed.get(slot.name)}
            for slot in Requirement.from_json(request.requirement).slots
        ], many=True).data

    def get_open_slots(self, request: SignOffRequest) -> list[str]:
        return services.open_slots(request)

    def get_my_open_slots(self, request: SignOffRequest) -> list[str]:
        viewer = self.context.get("viewer")
        return services.slots_for(viewer, request) if viewer else []


class SignSerializer(serializers.Serializer):
    slot = serializers.CharField(required=False, allow_blank=True,
                                 help_text="The slot to sign; default: the first open slot "
                                           "your roles fit.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; kept in the Event Log.")


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("status", enum=[value for value, _ in STATES],
                     description="Only requests in this state."),
]), create=extend_schema(responses={201: SignOffRequestSerializer, **REFUSALS}))
class SignOffRequestViewSet(SecmanAPIView, mixins.CreateModelMixin,
                            viewsets.ReadOnlyModelViewSet):
    """Tasks that need two people (SP 1.2: dual control, four eyes). The API opens the
    generic task action; other modules open their own actions through their services."""

    queryset = SignOffRequest.objects.select_related("authority").prefetch_related(
        "signoffs__person")
    serializer_class = SignOffRequestSerializer

    def get_queryset(self) -> QuerySet[SignOffRequest]:
        queryset = super().get_queryset()
        state = self.request.query_params.get("status") if self.action == "list" else None
        if state is None:
            return queryset
        now = timezone.now()
        if state == "pending":
            return queryset.filter(status=SignOffStatus.PENDING, expires_at__gt=now)
        if state == "expired":
            return queryset.filter(status=SignOffStatus.PENDING, expires_at__lte=now)
        if state in SignOffStatus.values:
            return queryset.filter(status=state)
        raise bad_input("status", f'"{state}" is not accepted: use one of '
                        f"{accepted(value for value, _ in STATES)}")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.request_signoff(
            actor=self.actor, action=TASK, title=data["title"],
            description=data.get("description", ""), requirement=data["requirement"],
            authority=data["authority"],
            expires_in=dt.timedelta(hours=data["expires_in_hours"]),
        )

    def _answer(self, request_row: SignOffRequest) -> Response:
        fresh = self.get_queryset().get(pk=request_row.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(request=SignSerializer,
                   responses={200: SignOffRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        """Sign one slot; the last signature completes the task."""
        data = valid_data(SignSerializer, request)
        signoff = services.sign(actor=self.actor, request=self.get_object(), **data)
        return self._answer(signoff.request)

    @extend_schema(request=WithdrawSerializer,
                   responses={200: SignOffRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a pending request (its requester or a team leader)."""
        data = valid_data(WithdrawSerializer, request)
        return self._answer(services.withdraw_signoff(
            actor=self.actor, request=self.get_object(), reason=data["reason"]))
