"""The register's forms: they check the shape of the input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from secman.core.forms import AuthorityField
from secman.core.roles import Role
from secman.core.validation import max_length
from secman.people.models import Membership, Person
from secman.systems.choices import (
    Criticality,
    Direction,
    Encryption,
    Network,
    Protocol,
    SystemKind,
    SystemStatus,
)
from secman.systems.models import Flow, System

CRITICAL_HELP = ("A critical system is added and changed only under a Board decision: cite "
                 "its minute (m20100222.1) as the authority (SP 1.1).")


def systems_administrators() -> Any:
    return Person.objects.filter(memberships__in=Membership.objects.active().filter(
        role=Role.SYSTEMS_ADMINISTRATOR)).distinct().order_by("name")


def computers() -> Any:
    # The physical register's computers, asked through the model's own relation: the
    # systems chapter does not import the physical chapter.
    return System._meta.get_field("computer").related_model._default_manager.all()  # type: ignore[union-attr]


class SystemForm(forms.Form):
    name = forms.CharField(max_length=max_length(System, "name"),
                           help_text="Host name as the administrators call it (webdb).")
    kind = forms.ChoiceField(choices=SystemKind.choices)
    criticality = forms.ChoiceField(choices=Criticality.choices,
                                    initial=Criticality.INFRASTRUCTURE, help_text=CRITICAL_HELP)
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in SystemStatus
                                        if s != SystemStatus.RETIRED],
                               initial=SystemStatus.PLANNED,
                               help_text="A system already running when recorded is "
                               "recorded in service and inspected next (SP 3.2.2).")
    host = forms.ModelChoiceField(queryset=System.objects.exclude(status=SystemStatus.RETIRED),
                                  required=False, to_field_name="name",
                                  help_text="The system a VM or container runs on.")
    computer = forms.ModelChoiceField(queryset=System.objects.none(), required=False,
                                      help_text="A physical machine's computer (SP 2.2.1).")
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    primary_admin = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    secondary_admin = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    os_name = forms.CharField(max_length=max_length(System, "os_name"), required=False,
                              label="Operating system")
    os_release = forms.CharField(max_length=max_length(System, "os_release"), required=False,
                                 label="Release")
    disk_encryption = forms.ChoiceField(choices=Encryption.choices, initial=Encryption.UNKNOWN,
                                        help_text="Enabled when the OS was first installed "
                                        "(SP 3.2.1).")
    build_document = forms.CharField(max_length=max_length(System, "build_document"),
                                     required=False, help_text="Options and packages chosen "
                                     "at install (SP 3.2.2).")
    contact = forms.CharField(max_length=max_length(System, "contact"), required=False)
    authority = AuthorityField(initial="SP 3.2.2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["computer"].queryset = computers()  # type: ignore[attr-defined]
        for slot in ("primary_admin", "secondary_admin"):
            self.fields[slot].queryset = systems_administrators()  # type: ignore[attr-defined]


class SystemEditForm(SystemForm):
    """The same fields but the name and status (a system keeps its name; its status moves
    by installation, inspection and retirement)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["name"], self.fields["status"]
        for slot in ("primary_admin", "secondary_admin"):
            del self.fields[slot]
        self.fields["authority"].initial = ""


class AdministratorsForm(forms.Form):
    primary = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    secondary = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    authority = AuthorityField(initial="SP 1.2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for slot in ("primary", "secondary"):
            self.fields[slot].queryset = systems_administrators()  # type: ignore[attr-defined]


def _lines(text: str, names: tuple[str, ...], what: str) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, len(names) - 1)
        if len(parts) < len(names) - 1:
            raise forms.ValidationError(f"line {number}: write {what}")
        rows.append(dict(zip(names, parts, strict=False)))
    return rows


class AddressesForm(forms.Form):
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="One a line: network (internet, intranet, internal), address, interface "
        "(optional). Example: internet 192.0.2.10 eth0")
    dns_records = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="DNS records",
        help_text="One a line: name, type, content. Example: www.example.org A 192.0.2.10")
    authority = AuthorityField(initial="SM 3.1.2")

    def clean_addresses(self) -> list[dict[str, str]]:
        return _lines(self.cleaned_data["addresses"], ("network", "address", "interface"),
                      "the network and the address")

    def clean_dns_records(self) -> list[dict[str, str]]:
        return _lines(self.cleaned_data["dns_records"], ("name", "rtype", "content"),
                      "the name, the type and the content")


NETWORKS = ", ".join(Network.values)


class InstallForm(forms.Form):
    build_document = forms.CharField(max_length=max_length(System, "build_document"),
                                     help_text="The document of the options and packages "
                                     "chosen at install (SP 3.2.2).")
    disk_encryption = forms.ChoiceField(choices=Encryption.choices)
    authority = AuthorityField(initial="SP 3.2.2")


class InspectForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="What was checked: only the required services active, "
                            "their functions limited by configuration (SP 3.2.2).")
    authority = AuthorityField(initial="SP 3.2.2")


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=max_length(Flow, "reason"))
    authority = AuthorityField()


class FlowRequestForm(forms.Form):
    direction = forms.ChoiceField(choices=Direction.choices)
    protocol = forms.ChoiceField(choices=Protocol.choices, initial=Protocol.TCP)
    port = forms.IntegerField(required=False, help_text="Empty: any port.")
    port_end = forms.IntegerField(required=False, label="Last port of a range")
    service = forms.CharField(max_length=max_length(Flow, "service"), required=False)
    peer = forms.CharField(max_length=max_length(Flow, "peer"), label="Origin / destination",
                           help_text="Ingress: where the traffic comes from; egress: where "
                           "it goes. ANY, an address or network, a system, or a DNS name.")
    purpose = forms.CharField(max_length=max_length(Flow, "purpose"))
    temporary_until = forms.DateTimeField(
        required=False, label="Temporary until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="A temporary Internet access for an administrative task ends; it is "
        "mailed to the Systems Administration team (SP 3.1.1.1).")
    reason = forms.CharField(max_length=max_length(Flow, "reason"), required=False,
                             help_text="Why the connectivity is needed.")
    authority = AuthorityField(initial="SP 3.1.1.2")


class FlowDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("refuse", "Refuse")])
    reason = forms.CharField(max_length=max_length(Flow, "reason"), required=False,
                             help_text="Needed to refuse.")
    authority = AuthorityField(initial="SP 3.1.1.2")


class FlowEndForm(forms.Form):
    reason = forms.CharField(max_length=max_length(Flow, "reason"))
    authority = AuthorityField(initial="SM 3.1.2")
