"""REST API for people, teams, access control lists and list change proposals.

Serializers describe and validate the input; every change is made by the service
function the UI calls too, so the rules (and who may act) are the same. Contact details
are shown only where people.selectors.can_see_contact_details allows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
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
from rest_framework.views import APIView

from secman.core.api import (
    REFUSALS,
    AuthorityField,
    SecmanAPIView,
    accepted,
    bad_input,
    choice_field,
    valid_data,
)
from secman.core.roles import TEAM_ROLES, Role
from secman.people import accounts, services
from secman.people.choices import ChangeKind, ListKind, ProposalStatus
from secman.people.models import (
    AccessList,
    ListChangeProposal,
    ListEntry,
    Membership,
    Person,
    Team,
)
from secman.people.rules import LIST_RULES, SECTION
from secman.people.selectors import can_see_contact_details, is_administrator, roles_of

ROLE_HELP = f"Role values: {accepted(Role.values)}."


# Used by every API that names people (authority, physical, visits).
def person_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    """A person given by id, with a refusal that says where ids come from."""
    kwargs.setdefault("queryset", Person.objects.all())
    kwargs.setdefault("help_text", "The id of a person recorded in secman (see /api/people/).")
    return serializers.PrimaryKeyRelatedField(
        error_messages={
            "does_not_exist": 'no person has the id "{pk_value}": give the id of a person '
                              "recorded in secman (see /api/people/)",
            "incorrect_type": "a person is given by their numeric id (see /api/people/), "
                              "not {data_type}",
        },
        **kwargs,
    )


@extend_schema_field(OpenApiTypes.STR)
class KindField(serializers.SlugRelatedField):
    """A team or list named by its kind. A plain string in the schema: the kind enums
    belong to the Team and AccessList resources, and naming the same choice set again
    under `team`, `manager` or `access_list` would give clients duplicate types."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="kind", **kwargs)


# --- people -------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField(help_text=f"Roles held today. {ROLE_HELP}")
    has_login = serializers.SerializerMethodField()
    username = serializers.CharField(
        write_only=True, required=False, allow_blank=True,
        help_text="Login name to create with the person (create only).",
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Password for that login, at least 12 characters (create only).",
    )
    authority = AuthorityField(write_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "email", "member_number", "phone", "chat_handle",
                  "emergency_contact", "roles", "has_login", "created_at", "username",
                  "password", "authority"]
        read_only_fields = ["created_at"]
        # The service checks uniqueness and says which value clashes; DRF's generic
        # validators would answer first with a vaguer message.
        extra_kwargs = {
            "email": {"validators": []},
            "member_number": {"validators": []},
            **{name: {"help_text": "Key Persons List detail: shown only to the Board, the "
                                   "Arbitrator and the person themself."}
               for name in Person.CONTACT_FIELDS},
        }
        validators: list = []

    def get_roles(self, person: Person) -> list[str]:
        return sorted(roles_of(person))

    def get_has_login(self, person: Person) -> bool:
        return person.user_id is not None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH skips required fields, but no change is made without an authority.
        if "authority" not in attrs:
            raise serializers.ValidationError({"authority": self.fields["authority"]
                                               .error_messages["required"]})
        if self.instance is not None and {"username", "password"} & set(attrs):
            raise serializers.ValidationError(
                {"username": "a login is made when the person is recorded; it cannot be "
                             "added or changed here"})
        return attrs

    def to_representation(self, person: Person) -> dict[str, Any]:
        data = super().to_representation(person)
        viewer = self.context.get("viewer")
        if not can_see_contact_details(viewer, person):
            for name in Person.CONTACT_FIELDS:
                data.pop(name, None)
        return data


@extend_schema_view(
    create=extend_schema(responses={201: PersonSerializer, **REFUSALS}),
    partial_update=extend_schema(responses={200: PersonSerializer, **REFUSALS}))
class PersonViewSet(SecmanAPIView, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    """People (SP 1.1.1, 9.1). Recorded by the Board, team leaders or the administrator;
    a person may change their own contact details."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.create_person(
            actor=self.actor, authority=data.pop("authority"), **data
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        person = serializer.instance
        assert isinstance(person, Person)  # a PATCH updates the person of its URL
        data = dict(serializer.validated_data)
        serializer.instance = services.update_person(
            actor=self.actor, person=person, authority=data.pop("authority"),
            **data,
        )


# --- teams --------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    team = KindField(read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    authority = serializers.CharField(source="authority.reference", read_only=True)
    end_authority = serializers.CharField(
        source="end_authority.reference", read_only=True, allow_null=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "team", "person", "person_name", "role", "is_leader", "start", "end",
                  "is_active", "authority", "end_authority", "end_reason"]
        read_only_fields = fields

    def get_is_active(self, membership: Membership) -> bool:
        return membership.is_active()


class TeamSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField(
        help_text=f"The roles a member of this team may hold. {ROLE_HELP}"
    )
    members = serializers.SerializerMethodField(help_text="Memberships active today.")
    history = serializers.SerializerMethodField(
        help_text="Every membership, ended ones included: history is never overwritten."
    )

    class Meta:
        model = Team
        fields = ["kind", "name", "purpose", "roles", "members", "history"]

    def get_roles(self, team: Team) -> list[str]:
        return [str(role) for role in TEAM_ROLES[team.kind]]

    @extend_schema_field(MembershipSerializer(many=True))
    def get_members(self, team: Team) -> Any:
        rows = Membership.objects.active().filter(team=team).select_related(
            "person", "authority", "end_authority", "team")
        return MembershipSerializer(rows, many=True).data

    @extend_schema_field(MembershipSerializer(many=True))
    def get_history(self, team: Team) -> Any:
        rows = Membership.objects.filter(team=team).select_related(
            "person", "authority", "end_authority", "team").order_by("start", "id")
        return MembershipSerializer(rows, many=True).data


class AddMemberSerializer(serializers.Serializer):
    person = person_field()
    role = choice_field(Role.choices, required=False,
                        help_text="Defaults to the team's first role.")
    is_leader = serializers.BooleanField(default=False)
    start = serializers.DateField(required=False, help_text="Defaults to today.")
    authority = AuthorityField(
        help_text="A Board decision or Arbitration case (SP 9.1.5), e.g. m20100222.1."
    )


class EndMembershipSerializer(serializers.Serializer):
    membership = serializers.PrimaryKeyRelatedField(
        queryset=Membership.objects.all(),
        help_text="The id of an active membership of this team (see the team's members).",
        error_messages={"does_not_exist": 'no membership has the id "{pk_value}": use the id '
                                          "from the team's members"},
    )
    reason = serializers.CharField(help_text="Resignation, Arbitration ruling, decision...")
    end = serializers.DateField(required=False, help_text="First day no longer active; "
                                                         "defaults to today.")
    authority = AuthorityField()


class AppointLeaderSerializer(serializers.Serializer):
    person = person_field(help_text="The id of a current member of this team.")
    authority = AuthorityField(help_text="A Board decision or Arbitration case.")


class TeamViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """Teams with their current members and full membership history (SP 9.1). Staffing
    changes are the Board's (SP 9.1.5)."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    lookup_field = "kind"

    def _membership_response(self, membership: Membership, code: int) -> Response:
        return Response(MembershipSerializer(membership).data, status=code)

    @extend_schema(request=AddMemberSerializer,
                   responses={201: MembershipSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="add-member")
    def add_member(self, request: Request, kind: str) -> Response:
        data = valid_data(AddMemberSerializer, request)
        membership = services.add_member(actor=self.actor, team=self.get_object(), **data)
        return self._membership_response(membership, status.HTTP_201_CREATED)

    @extend_schema(request=EndMembershipSerializer,
                   responses={200: MembershipSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="end-membership")
    def end_membership(self, request: Request, kind: str) -> Response:
        team = self.get_object()
        data = valid_data(EndMembershipSerializer, request)
        if data["membership"].team_id != team.pk:
            raise bad_input("membership", f"membership {data['membership'].pk} is not in "
                            f"the {team} team: use the id from this team's members")
        membership = services.end_membership(actor=self.actor, **data)
        return self._membership_response(membership, status.HTTP_200_OK)

    @extend_schema(request=AppointLeaderSerializer,
                   responses={200: MembershipSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="appoint-leader")
    def appoint_leader(self, request: Request, kind: str) -> Response:
        data = valid_data(AppointLeaderSerializer, request)
        leader = services.appoint_leader(actor=self.actor, team=self.get_object(), **data)
        return self._membership_response(leader, status.HTTP_200_OK)


# --- access control lists (SP 3.4.2) ------------------------------------------------------


class ListMemberSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    person_name = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    proposal = serializers.IntegerField(
        allow_null=True, help_text="The approved proposal that put them on this list."
    )
    included_via = serializers.CharField(
        allow_null=True,
        help_text="Set when the person is on this list by default, through another list "
                  '(SP 3.4.2: the SSH Access List "includes by default all on Physical '
                  'Access List"); null for an entry of their own.',
    )


class AccessListSerializer(serializers.ModelSerializer):
    # Plain strings rather than enums: one role set under several names would give
    # OpenAPI clients several identical enum types.
    who = serializers.CharField(read_only=True, help_text=ROLE_HELP)
    manager = KindField(read_only=True, help_text="The team whose leader manages the list.")
    includes_lists = serializers.SerializerMethodField()
    excludes_lists = serializers.SerializerMethodField()
    excludes_roles = serializers.SerializerMethodField(help_text=ROLE_HELP)
    members = serializers.SerializerMethodField(
        help_text="Everyone on the list now: own entries and those included by default."
    )

    class Meta:
        model = AccessList
        fields = ["kind", "name", "who", "purpose", "relationship", "manager",
                  "includes_lists", "excludes_lists", "excludes_roles", "members"]

    def get_includes_lists(self, access_list: AccessList) -> list[str]:
        return sorted(LIST_RULES[ListKind(access_list.kind)].includes_lists)

    def get_excludes_lists(self, access_list: AccessList) -> list[str]:
        return sorted(LIST_RULES[ListKind(access_list.kind)].excludes_lists)

    def get_excludes_roles(self, access_list: AccessList) -> list[str]:
        return sorted(LIST_RULES[ListKind(access_list.kind)].excludes_roles)

    @extend_schema_field(ListMemberSerializer(many=True))
    def get_members(self, access_list: AccessList) -> Any:
        rule = LIST_RULES[ListKind(access_list.kind)]
        rows: dict[int, dict[str, Any]] = {}
        own = ListEntry.objects.active().filter(access_list=access_list)
        included = ListEntry.objects.active().filter(access_list__kind__in=rule.includes_lists)
        # Own entries first, so someone both listed and included shows as listed.
        for entry, via in [(e, None) for e in own.select_related("person")] + [
            (e, e.access_list.kind) for e in included.select_related("person", "access_list")
        ]:
            rows.setdefault(entry.person_id, {
                "person": entry.person_id, "person_name": entry.person.name,
                "since": entry.added_at, "proposal": entry.added_by_id, "included_via": via,
            })
        ordered = sorted(rows.values(), key=lambda row: row["person_name"])
        return ListMemberSerializer(ordered, many=True).data


class AccessListViewSet(SecmanAPIView, viewsets.ReadOnlyModelViewSet):
    """The SP 3.4.2 access control lists. Changes go through proposals."""

    queryset = AccessList.objects.select_related("manager")
    serializer_class = AccessListSerializer
    lookup_field = "kind"


# --- list change proposals ----------------------------------------------------------------


class ProposalSerializer(serializers.ModelSerializer):
    access_list = KindField(
        queryset=AccessList.objects.all(),
        help_text=f"The list, by kind: {accepted(ListKind.values)}.",
        error_messages={"does_not_exist": f'there is no list "{{value}}": use one of '
                                          f"{accepted(ListKind.values)}"},
    )
    person = person_field()
    person_name = serializers.CharField(source="person.name", read_only=True)
    change = choice_field(ChangeKind.choices)
    authority = AuthorityField(required=False, default=SECTION)
    status = serializers.ChoiceField(choices=ProposalStatus.choices, read_only=True)
    proposed_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True)
    # A Board decision: its model is in the authority app, which sits above people.
    decision: serializers.SlugRelatedField[Model] = serializers.SlugRelatedField(
        slug_field="minute_id", read_only=True, help_text="The Board decision that decided it.")
    decided_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True)

    class Meta:
        model = ListChangeProposal
        fields = ["id", "access_list", "person", "person_name", "change", "reason",
                  "authority", "status", "proposed_by", "proposed_at", "decision",
                  "decided_by", "decided_at"]
        read_only_fields = ["proposed_at", "decided_at"]
        validators: list = []


class DecisionSerializer(serializers.Serializer):
    decision = serializers.CharField(
        help_text="The minute id of a Board decision recorded in secman and confirmed by "
                  "a second Board member, e.g. m20100222.1 (SP 3.4.2: changes are subject "
                  "to Board approval). Approving needs a carried decision; rejecting, a "
                  "decision to reject or a motion to approve that failed."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; kept in the Event Log.")


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("status", enum=ProposalStatus.values, description="Only proposals in "
                     "this state."),
    OpenApiParameter("list", enum=ListKind.values, description="Only proposals for this "
                     "list."),
]), create=extend_schema(responses={201: ProposalSerializer, **REFUSALS}))
class ProposalViewSet(SecmanAPIView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Changes of personnel on the access lists: proposed by the list's manager or the
    Board, effective only when the Board approves (SP 3.4.2)."""

    queryset = ListChangeProposal.objects.select_related(
        "access_list", "person", "decision", "authority")
    serializer_class = ProposalSerializer

    def get_queryset(self) -> QuerySet[ListChangeProposal]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = {"status": ProposalStatus.values, "list": ListKind.values}
        for name, allowed in filters.items():
            value = self.request.query_params.get(name)
            if value is not None and value not in allowed:
                raise bad_input(name, f'"{value}" is not accepted: use one of {accepted(allowed)}')
        if status_value := self.request.query_params.get("status"):
            queryset = queryset.filter(status=status_value)
        if list_value := self.request.query_params.get("list"):
            queryset = queryset.filter(access_list__kind=list_value)
        return queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.propose_list_change(
            actor=self.actor, **serializer.validated_data
        )

    def _answer(self, proposal: ListChangeProposal) -> Response:
        return Response(self.get_serializer(proposal).data)

    @extend_schema(request=DecisionSerializer, responses={200: ProposalSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Record the Board's approval: the change takes effect now."""
        data = valid_data(DecisionSerializer, request)
        return self._answer(services.approve_proposal(
            actor=self.actor, proposal=self.get_object(), decision=data["decision"]))

    @extend_schema(request=DecisionSerializer, responses={200: ProposalSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Record the Board's rejection."""
        data = valid_data(DecisionSerializer, request)
        return self._answer(services.reject_proposal(
            actor=self.actor, proposal=self.get_object(), decision=data["decision"]))

    @extend_schema(request=ReasonSerializer, responses={200: ProposalSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a pending proposal (its proposer or the list's manager)."""
        data = valid_data(ReasonSerializer, request)
        return self._answer(services.withdraw_proposal(
            actor=self.actor, proposal=self.get_object(), reason=data["reason"]))


# --- the current user ---------------------------------------------------------------------


class MeSerializer(serializers.Serializer):
    person = PersonSerializer()
    roles = serializers.ListField(child=serializers.CharField(), help_text=ROLE_HELP)
    memberships = MembershipSerializer(many=True, help_text="Memberships active today.")
    is_administrator = serializers.BooleanField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send as `Authorization: Token <token>`. Shown once; issuing a new one "
                  "replaces it.")


class MeView(SecmanAPIView, APIView):
    """Who the API sees: your person, roles and team memberships."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        person = self.actor
        memberships = Membership.objects.active().filter(person=person).select_related(
            "person", "team", "authority", "end_authority")
        return Response(MeSerializer({
            "person": person, "roles": sorted(roles_of(person)), "memberships": memberships,
            "is_administrator": is_administrator(person),
        }, context={"viewer": person}).data)


class TokenView(SecmanAPIView, APIView):
    """Issue an API token for your own login (the previous one stops working)."""

    @extend_schema(request=None, responses={201: TokenSerializer, **REFUSALS})
    def post(self, request: Request) -> Response:
        key = accounts.issue_api_token(actor=self.actor)
        return Response({"token": key}, status=status.HTTP_201_CREATED)
