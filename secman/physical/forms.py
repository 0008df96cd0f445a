from __future__ import annotations

from typing import Any

from django import forms

from secman.core.forms import AuthorityField
from secman.core.roles import Role
from secman.core.validation import max_length
from secman.people.models import Membership, Person
from secman.physical.choices import MediaStatus, MediaType, RetirementMethod
from secman.physical.models import Computer, Facility, FacilityRevision, Media


class ComputerForm(forms.Form):
    asset_tag = forms.CharField(max_length=max_length(Computer, "asset_tag"))
    nickname = forms.CharField(max_length=max_length(Computer, "nickname"), required=False)
    vendor = forms.CharField(max_length=max_length(Computer, "vendor"), required=False)
    model = forms.CharField(max_length=max_length(Computer, "model"), required=False)
    serial_number = forms.CharField(max_length=max_length(Computer, "serial_number"),
                                    required=False)
    maintenance_contact = forms.CharField(max_length=max_length(Computer, "maintenance_contact"),
                                          required=False)
    rack_location = forms.CharField(max_length=max_length(Computer, "rack_location"),
                                    required=False)
    intended_use = forms.CharField(max_length=max_length(Computer, "intended_use"), required=False)
    acquisition_notes = forms.CharField(widget=forms.Textarea, required=False,
                                        help_text="How pre-acquisition security risks were "
                                        "reduced (SP 2.2.1.1).")
    authority = AuthorityField(initial="SP 2.2.1.1")


class ComputerStepForm(forms.Form):
    STEPS = [("inventory", "Inventoried (all SM 2.2.1 fields present)"),
             ("in_service", "Put into service"),
             ("maintenance", "Request maintenance (four eyes)"),
             ("service_risk", "Service needed that poses a security risk (must retire)"),
             ("retire", "Retire")]
    step = forms.ChoiceField(choices=STEPS)
    note = forms.CharField(max_length=300, required=False,
                           help_text="Legal owner (into service), the work (maintenance), "
                           "or the reason (service risk, retirement).")
    authority = AuthorityField(initial="SP 2.2.1")

    def __init__(self, *args: Any, offered: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_only(self.fields["step"], offered)


def offer_only(field: forms.Field, offered: list[str]) -> None:
    """Show only the moves the lifecycle allows now, but accept any declared one: a move
    posted from a page that has gone stale reaches the service, which says why not."""
    field.widget.choices = [  # type: ignore[attr-defined]
        (value, label) for value, label in field.choices  # type: ignore[attr-defined]
        if value in offered]


def present_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Person.objects.filter(memberships__in=Membership.objects.active().filter(
            role__in=[Role.SYSTEMS_ADMINISTRATOR, Role.ACCESS_ENGINEER])).distinct(),
        help_text="The Systems Administrators (and Access Engineers) present.")


class MediaForm(forms.Form):
    serial_number = forms.CharField(max_length=max_length(Media, "serial_number"))
    media_type = forms.ChoiceField(choices=MediaType.choices)
    capacity_gb = forms.IntegerField(min_value=1, label="Capacity (GB)")
    description = forms.CharField(max_length=max_length(Media, "description"), required=False)
    location = forms.CharField(max_length=max_length(Media, "location"))
    critical_data = forms.BooleanField(required=False, initial=True,
                                       help_text="Will hold critical data: every later step "
                                       "needs two Systems Administrators (SP 2.2.3.3).")
    erased_and_reformatted = forms.BooleanField(required=False,
                                                label="Securely erased and reformatted")
    steps_taken = forms.CharField(widget=forms.Textarea)
    authority = AuthorityField(initial="SP 2.2.3.1")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["present"] = present_field()


class MediaStepForm(forms.Form):
    to_status = forms.ChoiceField(choices=[*((s.value, s.label) for s in MediaStatus
                                             if s != MediaStatus.PROVISIONED),
                                           ("destroyed", "Destroyed (a sealed medium)")])
    computer = forms.ModelChoiceField(queryset=Computer.objects.exclude(
                                          status__in=["acquired", "retired"]),
                                      required=False, help_text="For in use or reused.")
    location = forms.CharField(max_length=200)
    erased = forms.BooleanField(required=False, label="Securely erased in this step")
    method = forms.ChoiceField(choices=[("", "—"), *RetirementMethod.choices], required=False,
                               help_text="For retirement, in the SM's order of preference.")
    certificate = forms.CharField(max_length=200, required=False,
                                  help_text="Licensed disposal: the facility's certificate.")
    expiry_year = forms.IntegerField(required=False, min_value=2000, max_value=2200,
                                     help_text="Sealed: the year the data expires.")
    steps_taken = forms.CharField(widget=forms.Textarea)
    authority = AuthorityField(initial="SP 2.2.3")

    def __init__(self, *args: Any, offered: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_only(self.fields["to_status"], offered)
        self.fields["present"] = present_field()


class FacilityForm(forms.Form):
    name = forms.CharField(max_length=max_length(Facility, "name"))
    hosting_provider = forms.CharField(max_length=max_length(FacilityRevision, "hosting_provider"))
    contract_references = forms.CharField(widget=forms.Textarea)
    location_construction = forms.CharField(widget=forms.Textarea, required=False)
    power = forms.CharField(widget=forms.Textarea, required=False)
    network_connectivity = forms.CharField(widget=forms.Textarea, required=False)
    catastrophic_event_mitigation = forms.CharField(widget=forms.Textarea, required=False)
    rating = forms.CharField(max_length=max_length(FacilityRevision, "rating"), required=False)
    authority = AuthorityField(initial="SP 2.1")




class ImportForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with the columns of the export (without "
                           "status), at most 20,000 rows and 5 MB. Every row is checked "
                           "first; one bad row and nothing is written.")
    dry_run = forms.BooleanField(required=False, label="Only check, write nothing")
    authority = AuthorityField(initial="SP 2.2.1")

    def __init__(self, *args: Any, media: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if media:
            self.fields["present"] = present_field()
            self.fields["authority"].initial = "SP 2.2.3.1"
