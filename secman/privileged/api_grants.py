"""REST API for authentication schemes (SP 3.4.3), temporary grants (SP 4.1.1.1) and
privileged secrets (SM 4.1.1). Serializers check the shape of the input; the services
decide and record, exactly as for the pages. No serializer has a field for a secret's
value, and a body that carries one is refused before anything is read."""

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
from secman.privileged import grants, schemes
from secman.privileged import secrets_register as secrets
from secman.privileged.choices import AccessPath, RotationReason, SecretKind, SecretWeight
from secman.privileged.models import AuthenticationScheme, Secret, SecretHolder, TemporaryGrant
from secman.privileged.selectors import (
    may_grant_temporary_access,
    may_keep_register,
    why_not_read_access,
)
from secman.systems.models import System


def system_field(**kwargs: Any) -> serializers.SlugRelatedField[System]:
    return serializers.SlugRelatedField(slug_field="name", queryset=System.objects.all(),
                                        **kwargs)


class AccessView(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = why_not_read_access(self.actor)
        if refusal is not None:
            raise refusal

    def check_keeper(self) -> None:
        if not may_keep_register(self.actor):
            raise NotAllowed("this register is kept by Systems Administrators",
                             section="SM 4.1.1")

    def check_granter(self) -> None:
        if not may_grant_temporary_access(self.actor):
            raise NotAllowed("temporary access is granted by the Systems Administration "
                             "team leader, or as the Arbitrator directs", section="SP 4.1.1.1")


# --- schemes ---------------------------------------------------------------------------------


class SchemeSerializer(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True)
    via: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True)
    documented_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = AuthenticationScheme
        fields = ["id", "system", "path", "via", "authenticates", "refused", "ip_blocking",
                  "documented_at", "documented_by", "authority", "ended_at"]
        read_only_fields = fields


class SchemeCreateSerializer(serializers.Serializer):
    system = system_field()
    path = choice_field(AccessPath.choices)
    via = system_field(required=False, allow_null=True, default=None,
                       help_text="The hop machine, for ssh_hop only.")
    authenticates = serializers.CharField(max_length=10_000)
    refused = serializers.CharField(max_length=10_000)
    ip_blocking = serializers.BooleanField(default=False)
    authority = AuthorityField(default="SP 3.4.3")


class AccessReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField()


SYSTEM_FILTER = OpenApiParameter("system", str, description="Only this system's.")
ALL_FILTER = OpenApiParameter("all", bool, description="Replaced and ended schemes too.")


class SchemeViewSet(AccessView, viewsets.ReadOnlyModelViewSet):
    """The authentication schemes (SP 3.4.3): those in force; `all=true` adds the ones
    replaced or ended, `system` filters by system."""

    queryset = AuthenticationScheme.objects.all()
    serializer_class = SchemeSerializer

    def get_queryset(self) -> QuerySet[AuthenticationScheme]:
        self.check_reader()
        found = AuthenticationScheme.objects.select_related("system", "via", "documented_by",
                                                            "authority")
        if query_text(self.request, "all") not in ("true", "1"):
            found = found.filter(ended_at__isnull=True)
        system = query_text(self.request, "system")
        return found.filter(system__name=system) if system else found

    @extend_schema(parameters=[SYSTEM_FILTER, ALL_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SchemeCreateSerializer, responses={201: SchemeSerializer,
                                                              **REFUSALS})
    def create(self, request: Any) -> Response:
        """Document a scheme; the one in force for the same system and path ends."""
        self.check_reader()
        self.check_keeper()
        data = valid_data(SchemeCreateSerializer, request)
        made = schemes.document_scheme(actor=self.actor, **data)
        return Response(SchemeSerializer(made).data, status=201)

    @extend_schema(request=AccessReasonSerializer, responses={200: SchemeSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def end(self, request: Any, pk: str | None = None) -> Response:
        """The path no longer exists: the scheme ends without a replacement."""
        scheme = self.get_object()
        self.check_keeper()
        data = valid_data(AccessReasonSerializer, request)
        return Response(SchemeSerializer(schemes.end_scheme(actor=self.actor, scheme=scheme,
                                                            **data)).data)


# --- grants ----------------------------------------------------------------------------------


class GrantSerializer(serializers.ModelSerializer):
    person = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    person_id = serializers.IntegerField(read_only=True)
    system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True)
    granted_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    revoked_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    state = serializers.SerializerMethodField()

    class Meta:
        model = TemporaryGrant
        fields = ["id", "person", "person_id", "system", "reason", "granted_by", "authority",
                  "starts_at", "ends_at", "revoked_at", "revoked_by", "state"]
        read_only_fields = fields

    def get_state(self, grant: TemporaryGrant) -> str:
        return grants.state(grant)


class GrantCreateSerializer(serializers.Serializer):
    person = person_field(help_text="The Software Assessor (id, see /api/people/).")
    system = system_field()
    reason = serializers.CharField(max_length=10_000)
    ends_at = serializers.DateTimeField(help_text="Required; at most "
                                        f"{grants.MAX_GRANT.days} days from the start.")
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    authority = AuthorityField(default="SP 4.1.1.1")


STATE_FILTER = OpenApiParameter("state", str, enum=["active", "future", "expired", "revoked"],
                                description="Only grants in this state now.")


class GrantViewSet(AccessView, viewsets.ReadOnlyModelViewSet):
    """Temporary SSH access of Software Assessors (SP 4.1.1.1), newest first. A grant
    past its end is `expired`: not in effect, with no job needed. `state` and `system`
    filter the list."""

    queryset = TemporaryGrant.objects.all()
    serializer_class = GrantSerializer

    def get_queryset(self) -> QuerySet[TemporaryGrant]:
        self.check_reader()
        found = TemporaryGrant.objects.select_related("person", "system", "granted_by",
                                                      "revoked_by", "authority")
        system = query_text(self.request, "system")
        if system:
            found = found.filter(system__name=system)
        state = query_text(self.request, "state")
        if state == "active":
            found = found.filter(pk__in=grants.active_grants())
        elif state in ("future", "expired", "revoked"):
            found = found.filter(pk__in=[g.pk for g in found if grants.state(g) == state])
        return found

    @extend_schema(parameters=[STATE_FILTER, SYSTEM_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer,
                                                             **REFUSALS})
    def create(self, request: Any) -> Response:
        """Grant a Software Assessor SSH access until an end (the SA team leader, or as
        the Arbitrator directs)."""
        self.check_reader()
        self.check_granter()
        data = valid_data(GrantCreateSerializer, request)
        made = grants.grant_access(actor=self.actor, **data)
        return Response(GrantSerializer(made).data, status=201)

    @extend_schema(request=AccessReasonSerializer, responses={200: GrantSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Any, pk: str | None = None) -> Response:
        """End a grant before its end."""
        grant = self.get_object()
        self.check_granter()
        data = valid_data(AccessReasonSerializer, request)
        return Response(GrantSerializer(grants.revoke_grant(actor=self.actor, grant=grant,
                                                            **data)).data)


# --- secrets ---------------------------------------------------------------------------------


class HolderSerializer(serializers.ModelSerializer):
    person = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    person_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = SecretHolder
        fields = ["id", "person", "person_id", "since", "until"]
        read_only_fields = fields


class SecretSerializer(serializers.ModelSerializer):
    systems: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True)
    holders = HolderSerializer(many=True, read_only=True)
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    due = serializers.SerializerMethodField(
        help_text="Why the secret is due for rotation (SM 4.1.1); empty when it is not.")

    class Meta:
        model = Secret
        fields = ["id", "name", "kind", "weight", "systems", "where_used", "created_at",
                  "authority", "last_rotated_at", "retired_at", "retired_by",
                  "retire_reason", "holders", "due"]
        read_only_fields = fields

    retired_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]

    def get_due(self, secret: Secret) -> list[str]:
        due = self.context.get("due")
        if due is None:
            due = secrets.due_secrets([secret])
        return [d.why for d in due.get(secret.pk, [])]


class SecretCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=secrets.NAME_MAX)
    kind = choice_field(SecretKind.choices)
    weight = choice_field(SecretWeight.choices, default=SecretWeight.MAJOR)
    systems = system_field(many=True, required=False, default=list)
    where_used = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                       default="")
    authority = AuthorityField(default="SM 4.1.1")


class RotateSerializer(serializers.Serializer):
    reason = choice_field(RotationReason.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                 default="")
    authority = AuthorityField(default="SM 4.1.1")


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField(default="SM 4.1.1")


class CompromisedSerializer(serializers.Serializer):
    system = system_field(help_text="The system suspected compromised (its name).")
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField(default="SM 4.1.1")


class CompromisedAnswer(serializers.Serializer):
    event = serializers.IntegerField(help_text="The Event Log entry that is the mark.")
    now_due = serializers.ListField(child=serializers.CharField(),
                                    help_text="The secrets used there, due until rotated.")


class HolderAddSerializer(serializers.Serializer):
    person = person_field()
    authority = AuthorityField(default="SM 4.1.1")


class HolderEndSerializer(serializers.Serializer):
    person = person_field(help_text="Whose holding ends (id, see /api/people/).")
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField(default="SM 9.1.7")


def _no_value(request: Any) -> None:
    if isinstance(request.data, dict):
        secrets.refuse_values(request.data)


class SecretViewSet(AccessView, viewsets.ReadOnlyModelViewSet):
    """Privileged secrets (SM 4.1.1): what they are, where used, who knows them, when
    changed and whether they are due; never their values."""

    queryset = Secret.objects.all()
    serializer_class = SecretSerializer

    def get_queryset(self) -> QuerySet[Secret]:
        self.check_reader()
        return Secret.objects.select_related("authority").prefetch_related(
            "systems", "holders__person")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            context["due"] = secrets.due_secrets()
        return context

    def _answer(self, secret: Secret, status: int = 200) -> Response:
        return Response(SecretSerializer(self.get_queryset().get(pk=secret.pk)).data,
                        status=status)

    @extend_schema(request=SecretCreateSerializer, responses={201: SecretSerializer,
                                                              **REFUSALS})
    def create(self, request: Any) -> Response:
        """Register a secret. A body with a value field (value, password, ...) is refused:
        secman never keeps a secret's value."""
        self.check_reader()
        self.check_keeper()
        _no_value(request)
        data = valid_data(SecretCreateSerializer, request)
        return self._answer(secrets.register_secret(actor=self.actor, **data), status=201)

    @extend_schema(request=RotateSerializer, responses={200: SecretSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def rotate(self, request: Any, pk: str | None = None) -> Response:
        """Record that the secret was changed now (the new value stays out of secman)."""
        secret = self.get_object()
        self.check_keeper()
        _no_value(request)
        data = valid_data(RotateSerializer, request)
        secrets.rotate_secret(actor=self.actor, secret=secret, **data)
        return self._answer(secret)

    @extend_schema(request=RetireSerializer, responses={200: SecretSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def retire(self, request: Any, pk: str | None = None) -> Response:
        """The secret is used nowhere any more: kept with its history, never due."""
        secret = self.get_object()
        self.check_keeper()
        _no_value(request)
        data = valid_data(RetireSerializer, request)
        secrets.retire_secret(actor=self.actor, secret=secret, **data)
        return self._answer(secret)

    @extend_schema(request=CompromisedSerializer,
                   responses={201: CompromisedAnswer, **REFUSALS})
    @action(detail=False, methods=["post"])
    def compromised(self, request: Any) -> Response:
        """A system is suspected compromised (SM 4.1.1): every secret used there is due
        until it is rotated."""
        self.check_reader()
        self.check_keeper()
        data = valid_data(CompromisedSerializer, request)
        event = secrets.mark_compromised(actor=self.actor, **data)
        return Response({"event": event.seq, "now_due": event.details["now_due"]},
                        status=201)

    @extend_schema(request=HolderAddSerializer, responses={200: SecretSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="holder-add")
    def holder_add(self, request: Any, pk: str | None = None) -> Response:
        """Record that a person knows the secret from now."""
        secret = self.get_object()
        self.check_keeper()
        data = valid_data(HolderAddSerializer, request)
        secrets.add_holder(actor=self.actor, secret=secret, **data)
        return self._answer(secret)

    @extend_schema(request=HolderEndSerializer, responses={200: SecretSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="holder-end")
    def holder_end(self, request: Any, pk: str | None = None) -> Response:
        """A person no longer should know the secret: it is due until rotated."""
        secret = self.get_object()
        self.check_keeper()
        data = valid_data(HolderEndSerializer, request)
        holding = secret.holders.filter(person=data["person"], until__isnull=True).first()
        if holding is None:
            raise secrets.RuleViolation(f"{data['person']} does not know {secret} now",
                                        field="person", section="SM 4.1.1")
        secrets.end_holding(actor=self.actor, holding=holding, reason=data["reason"],
                            authority=data["authority"])
        return self._answer(secret)
