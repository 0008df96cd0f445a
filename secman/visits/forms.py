from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from secman.core.forms import AuthorityField
from secman.core.roles import TeamKind
from secman.people.models import Membership, Person
from secman.visits.choices import DeviceKind, ReportKind


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _when(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    """A date and time typed in SECMAN_TIME_ZONE (Django reads form input in the current
    zone), which the label names."""
    return forms.DateTimeField(label=f"{label} ({settings.TIME_ZONE})", required=required,
                               widget=DateTimeInput(), help_text=help_text)


def physical_staff() -> QuerySet[Person]:
    """Everyone in the Access or Critical System Administration teams today; the service
    decides who is authorised, so a refusal can say why."""
    return Person.objects.filter(memberships__in=Membership.objects.active().filter(
        team__kind__in=[TeamKind.ACCESS, TeamKind.SYSTEMS_ADMINISTRATION])).distinct()


def _people(label: str = "People", queryset: QuerySet[Person] | None = None
            ) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=queryset if queryset is not None else physical_staff(), label=label,
        widget=forms.CheckboxSelectMultiple)


class VisitRequestForm(forms.Form):
    purpose = forms.CharField(widget=forms.Textarea)
    systems = forms.CharField(label="Systems concerned", max_length=2000)
    window_start = _when("From")
    window_end = _when("Until")
    logical_access = forms.BooleanField(
        required=False, initial=True, label="Logical access to critical servers",
        help_text="A Systems Administrator must then be on site (SM 2.3.2).")


class AuthoriseForm(forms.Form):
    reference = forms.CharField(
        max_length=200, label="Authorisation reference",
        help_text="Where the authorisation is kept (SM 2.3.1: Appendix B of the hosting "
        "MoU as updated by the Boards), e.g. a ticket or annex entry.")
    authority = AuthorityField(initial="SM 2.3.1")


class CheckInForm(forms.Form):
    at = _when("At", required=False, help_text="Leave empty for now.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"people": _people("Who checks in"), **self.fields}


class CheckOutForm(forms.Form):
    at = _when("At", required=False, help_text="Leave empty for now.")

    def __init__(self, *args: Any, on_site: QuerySet[Person] | None = None,
                 **kwargs: Any) -> None:
        # Shown on the same page as the check-in form: ids of its own.
        kwargs.setdefault("auto_id", "id_out_%s")
        super().__init__(*args, **kwargs)
        queryset = on_site if on_site is not None else Person.objects.none()
        self.fields = {"people": _people("Who checks out", queryset), **self.fields}


class ReportForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices)
    text = forms.CharField(widget=forms.Textarea, label="What was done",
                           help_text="A short description of the activities (SM 4.2.4).")


class RulingForm(forms.Form):
    case = forms.CharField(max_length=20, label="Ruled Arbitration case",
                           help_text="e.g. a20090525.1")


class EmergencyForm(forms.Form):
    purpose = forms.CharField(max_length=200)
    systems = forms.CharField(label="Systems concerned", max_length=2000)
    circumstances = forms.CharField(
        widget=forms.Textarea, help_text="Why the access could not wait: this goes before "
        "the Arbitrator (SM 2.3.4).")
    started_at = _when("Started")
    ended_at = _when("Ended")
    logical_access = forms.BooleanField(required=False, initial=True,
                                        label="Logical access to critical servers")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"] = _people("Who was there", Person.objects.all())


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(choices=DeviceKind.choices)
    label = forms.CharField(max_length=120,
                            help_text='What it is, e.g. "Rack 12 key #1". Never a code.')
    controlling_party = forms.CharField(max_length=200)
    copies_permitted = forms.BooleanField(required=False,
                                          help_text="Rack keys may never be copied.")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    authority = AuthorityField(initial="SM 2.3.5")


class IssueForm(forms.Form):
    holder = forms.ModelChoiceField(queryset=Person.objects.all())
    reference = forms.CharField(max_length=200, label="Authorisation reference")
    authority = AuthorityField(initial="SM 2.3.5")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["holder"]).queryset = physical_staff()
