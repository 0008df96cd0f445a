"""The forms of keys, accounts and admin origins: they check the shape of the input; the
services (secman.privileged.keys, secman.privileged.accounts) decide."""

from __future__ import annotations

from django import forms

from secman.core.forms import AuthorityField
from secman.core.validation import max_length
from secman.people.models import Person
from secman.privileged.choices import AccountKind
from secman.privileged.keys import KEY_TYPES, PUBLIC_KEY_MAX
from secman.privileged.models import Account, AdminOrigin, SshKey
from secman.systems.models import System


def people() -> object:
    return Person.objects.order_by("name")


class KeyAddForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.none())
    public_key = forms.CharField(
        required=False, max_length=PUBLIC_KEY_MAX, strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One public key line (the .pub file): ssh-ed25519 AAAA… comment. Never "
                  "a private key.")
    fingerprint = forms.CharField(required=False, max_length=max_length(SshKey, "fingerprint"),
                                  help_text="Or its fingerprint as ssh-keygen -l prints it "
                                            "(SHA256:…), with the type.")
    key_type = forms.ChoiceField(required=False, choices=[("", "—"),
                                                          *((t, t) for t in KEY_TYPES)])
    comment = forms.CharField(required=False, max_length=max_length(SshKey, "comment"))
    authority = AuthorityField(initial="SM 3.4.3")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["person"].queryset = people()  # type: ignore[attr-defined]


class KeyBlockForm(forms.Form):
    reason = forms.CharField(max_length=max_length(SshKey, "block_reason"))
    authority = AuthorityField(initial="SM 9.1.7")


class AccountAddForm(forms.Form):
    username = forms.CharField(max_length=max_length(Account, "username"))
    kind = forms.ChoiceField(choices=AccountKind.choices)
    person = forms.ModelChoiceField(queryset=Person.objects.none(), required=False,
                                    help_text="The owner of a personal named account only.")
    purpose = forms.CharField(required=False, max_length=max_length(Account, "purpose"))
    authority = AuthorityField(initial="SM 3.4.3")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["person"].queryset = people()  # type: ignore[attr-defined]


class AccountRemoveForm(forms.Form):
    reason = forms.CharField(max_length=max_length(Account, "purpose"))
    authority = AuthorityField(initial="SM 3.4.3")


class OriginAddForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=System.objects.filter(retired_at__isnull=True).order_by("name"),
        required=False, help_text="The hop machine; or give a network instead.")
    network = forms.CharField(required=False, max_length=max_length(AdminOrigin, "network"),
                              help_text="CIDR, 192.0.2.0/28")
    description = forms.CharField(max_length=max_length(AdminOrigin, "description"))
    authority = AuthorityField(initial="SM 3.4.3")


class OriginEndForm(forms.Form):
    reason = forms.CharField(max_length=max_length(AdminOrigin, "description"))
    authority = AuthorityField(initial="SM 3.4.3")
