"""The forms of schemes, grants and secrets: they check the shape of the input; the
services decide. No form has a field for a secret's value."""

from __future__ import annotations

from typing import Any

from django import forms

from secman.core.forms import AuthorityField
from secman.core.roles import Role
from secman.core.validation import max_length
from secman.people.models import Membership, Person
from secman.privileged.choices import AccessPath, RotationReason, SecretKind, SecretWeight
from secman.privileged.grants import MAX_GRANT
from secman.privileged.models import Secret
from secman.systems.choices import SystemStatus
from secman.systems.models import System

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


def holders_of(role: Role) -> Any:
    return Person.objects.filter(memberships__in=Membership.objects.active().filter(
        role=role)).distinct().order_by("name")


def systems_live() -> Any:
    return System.objects.exclude(status=SystemStatus.RETIRED).order_by("name")


class SchemeForm(forms.Form):
    system = forms.ModelChoiceField(queryset=System.objects.none(), to_field_name="name")
    path = forms.ChoiceField(choices=AccessPath.choices)
    via = forms.ModelChoiceField(queryset=System.objects.none(), to_field_name="name",
                                 required=False, label="Via (hop machine)",
                                 help_text="SSH via the hop machine only (SM 3.4.3).")
    authenticates = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="What authenticates: personal keys, "
                                    "passphrase-protected, from the hop machine, ...")
    refused = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="What is refused: passwords, root logins, ...")
    ip_blocking = forms.BooleanField(required=False, label="IP blocking",
                                     help_text="Repeated failures block the address.")
    authority = AuthorityField(initial="SP 3.4.3")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems_live()  # type: ignore[attr-defined]
        self.fields["via"].queryset = systems_live()  # type: ignore[attr-defined]


class GrantForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.none(),
                                    label="Software Assessor")
    system = forms.ModelChoiceField(queryset=System.objects.none(), to_field_name="name")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Advanced debugging of ..., or the Arbitrator's "
                             "direction (SP 4.1.1.1).")
    ends_at = forms.DateTimeField(widget=DATETIME, label="Ends at",
                                  help_text=f"Required; at most {MAX_GRANT.days} days from "
                                  "now, in the site's time zone (SECMAN_TIME_ZONE).")
    authority = AuthorityField(initial="SP 4.1.1.1")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = holders_of(  # type: ignore[attr-defined]
            Role.SOFTWARE_ASSESSOR)
        self.fields["system"].queryset = systems_live()  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)
    authority = AuthorityField()


class SecretForm(forms.Form):
    name = forms.CharField(max_length=max_length(Secret, "name"),
                           help_text="What it is (signer root password), never the value.")
    kind = forms.ChoiceField(choices=SecretKind.choices)
    weight = forms.ChoiceField(choices=SecretWeight.choices, initial=SecretWeight.MAJOR,
                               help_text="Major: root passwords, server SSH keys; minor: "
                               "database passwords (SM 9.1.7).")
    systems = forms.ModelMultipleChoiceField(queryset=System.objects.none(), required=False,
                                             to_field_name="name")
    where_used = forms.CharField(max_length=max_length(Secret, "where_used"), required=False)
    authority = AuthorityField(initial="SM 4.1.1")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].queryset = systems_live()  # type: ignore[attr-defined]


class RotateForm(forms.Form):
    reason = forms.ChoiceField(choices=RotationReason.choices,
                               initial=RotationReason.TURNOVER)
    note = forms.CharField(max_length=300, required=False,
                           help_text="Never the new value.")
    authority = AuthorityField(initial="SM 4.1.1")


class HolderForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.none())
    authority = AuthorityField(initial="SM 4.1.1")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = holders_of(  # type: ignore[attr-defined]
            Role.SYSTEMS_ADMINISTRATOR)


class CompromiseForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="What is suspected.")
    authority = AuthorityField(initial="SM 4.1.1")
