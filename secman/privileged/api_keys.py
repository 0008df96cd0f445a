"""REST API for SSH keys and accounts (SM 3.4.3, 4.1.1, 9.1.7): /api/ssh-keys/ and
/api/accounts/. Serializers check the shape of the input; the services decide and
record, exactly as for the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from secman.core.api import REFUSALS, AuthorityField, SecmanAPIView, choice_field, valid_data
from secman.core.api_input import MAX_ID, query_text, whole_number
from secman.core.errors import NotAllowed
from secman.people.api import person_field
from secman.privileged import accounts, keys, selectors
from secman.privileged.choices import AccountKind
from secman.privileged.models import Account, SshKey
from secman.systems.models import System


class PrivilegedView(SecmanAPIView):
    def check_reader(self) -> None:
        refusal = selectors.why_not_read_access(self.actor)
        if refusal is not None:
            raise refusal

    def check_keeper(self) -> None:
        """Before the body is read: whoever may not keep the register is answered 403,
        whatever they sent (the service asks again)."""
        if not selectors.may_keep_register(self.actor):
            raise NotAllowed("keys and accounts are kept by Systems Administrators",
                             section="SM 3.4.3")


class SshKeySerializer(serializers.ModelSerializer):
    person = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    person_id = serializers.IntegerField(read_only=True)
    added_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    blocked_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = SshKey
        fields = ["id", "person", "person_id", "fingerprint", "key_type", "bits", "comment",
                  "public_key", "added_at", "added_by", "authority", "blocked_at",
                  "blocked_by", "block_reason"]
        read_only_fields = fields


class SshKeyCreateSerializer(serializers.Serializer):
    person = person_field()
    public_key = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=keys.PUBLIC_KEY_MAX,
                                       help_text="One public key line (the .pub file's).")
    fingerprint = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=60,
                                        help_text="Or its fingerprint (SHA256:...) ...")
    key_type = serializers.CharField(required=False, allow_blank=True, default="",
                                     max_length=40, help_text="... and its type.")
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=200)
    authority = AuthorityField(default="SM 3.4.3")


class SshKeyBlockSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    authority = AuthorityField(default="SM 9.1.7")


PERSON_FILTER = OpenApiParameter("person", int, description="Only this person's keys (id).")


class SshKeyViewSet(PrivilegedView, viewsets.ReadOnlyModelViewSet):
    """People's SSH public keys by fingerprint (SM 3.4.3); `person` filters the list."""

    queryset = SshKey.objects.all()  # for the schema; get_queryset checks the reader
    serializer_class = SshKeySerializer

    def get_queryset(self) -> QuerySet[SshKey]:
        self.check_reader()
        rows = SshKey.objects.select_related("person", "added_by", "blocked_by", "authority")
        # Not a whole number, or larger than any id: a 400 that says so, not every key.
        person = whole_number(self.request, "person", 0, 1, MAX_ID)
        return rows.filter(person_id=person) if person else rows

    @extend_schema(parameters=[PERSON_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _answer(self, key: SshKey, status: int = 200) -> Response:
        return Response(SshKeySerializer(self.get_queryset().get(pk=key.pk)).data,
                        status=status)

    @extend_schema(request=SshKeyCreateSerializer, responses={201: SshKeySerializer,
                                                              **REFUSALS})
    def create(self, request: Any) -> Response:
        """Register a person's key: its public key line, or its fingerprint and type. A
        key registered already, to anyone, is refused."""
        self.check_reader()
        self.check_keeper()
        data = valid_data(SshKeyCreateSerializer, request)
        return self._answer(keys.add_key(actor=self.actor, **data), status=201)

    @extend_schema(request=SshKeyBlockSerializer, responses={200: SshKeySerializer,
                                                             **REFUSALS})
    @action(detail=True, methods=["post"])
    def block(self, request: Any, pk: str | None = None) -> Response:
        """Block the key (SM 9.1.7 step 1): found on a critical system from now on, it is
        a violation. Not undone."""
        key = self.get_object()
        self.check_keeper()
        data = valid_data(SshKeyBlockSerializer, request)
        return self._answer(keys.block_key(actor=self.actor, key=key, **data))


class AccountSerializer(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[System] = serializers.SlugRelatedField(
        slug_field="name", read_only=True)
    person = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    person_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    removed_by = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]
    authority = serializers.StringRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Account
        fields = ["id", "system", "username", "kind", "person", "person_id", "purpose",
                  "created_at", "created_by", "authority", "removed_at", "removed_by"]
        read_only_fields = fields


class AccountCreateSerializer(serializers.Serializer):
    system = serializers.SlugRelatedField(slug_field="name", queryset=System.objects.all())
    username = serializers.CharField(max_length=32)
    kind = choice_field(AccountKind.choices)
    person = person_field(required=False, allow_null=True, default=None)
    purpose = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=200)
    authority = AuthorityField(default="SM 3.4.3")


class AccountRemoveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    authority = AuthorityField(default="SM 3.4.3")


SYSTEM_FILTER = OpenApiParameter("system", str, description="Only this system's accounts.")


class AccountViewSet(PrivilegedView, viewsets.ReadOnlyModelViewSet):
    """Accounts per system (SM 3.4.3, 4.1.1), removed ones included with their time;
    `system` filters the list."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        self.check_reader()
        rows = Account.objects.select_related("system", "person", "created_by",
                                              "removed_by", "authority")
        system = query_text(self.request, "system")
        return rows.filter(system__name=system) if system else rows

    @extend_schema(parameters=[SYSTEM_FILTER])
    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _answer(self, account: Account, status: int = 200) -> Response:
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data,
                        status=status)

    @extend_schema(request=AccountCreateSerializer, responses={201: AccountSerializer,
                                                               **REFUSALS})
    def create(self, request: Any) -> Response:
        """Register an account: a personal one names its person (one per person and
        system); privileged and service accounts name nobody."""
        self.check_reader()
        self.check_keeper()
        data = valid_data(AccountCreateSerializer, request)
        return self._answer(accounts.add_account(actor=self.actor, **data), status=201)

    @extend_schema(request=AccountRemoveSerializer, responses={200: AccountSerializer,
                                                               **REFUSALS})
    @action(detail=True, methods=["post"])
    def remove(self, request: Any, pk: str | None = None) -> Response:
        """Record that the account is removed from its system."""
        account = self.get_object()
        self.check_keeper()
        data = valid_data(AccountRemoveSerializer, request)
        return self._answer(accounts.remove_account(actor=self.actor, account=account,
                                                    **data))
