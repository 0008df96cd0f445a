from __future__ import annotations

from django import forms

from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.core.forms import DateInput
from secman.incidents import checklists
from secman.incidents.choices import Audience, DetectionLevel, Severity, TimelineKind
from secman.people.models import Person
from secman.systems.models import System


def _cases() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=ArbitrationCase.objects.exclude(status=CaseStatus.WITHDRAWN)
        .order_by("-filed_on"), to_field_name="number", required=False,
        help_text="The Arbitration case that oversees it (SM 5.3.3).")


class OpenForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, max_length=10_000,
                                  help_text="What was detected, when, by whom.")
    # No default: the person on the spot classifies it.
    detection_level = forms.ChoiceField(choices=[("", "— choose —"), *DetectionLevel.choices],
                                        help_text="SM 5.1: the level whose logs showed it.")
    severity = forms.ChoiceField(choices=[("", "— choose —"), *Severity.choices],
                                 help_text="SM 5.3.1.")
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.filter(retired_at__isnull=True).order_by("name"),
        widget=forms.CheckboxSelectMultiple)
    bug_reference = forms.CharField(max_length=200, required=False,
                                    label="Security bug",
                                    help_text="Its number or address, when the incident "
                                    "comes from a security bug report (SM 9.1.6).")
    cc = forms.CharField(max_length=2000, required=False, label="CC",
                         help_text="Addresses the warning also goes to, comma-separated: "
                         "your judgment on the spot (SM 5.3.2).")
    war_room = forms.CharField(max_length=300, required=False,
                               help_text="The chat room for the immediate supporters; turn "
                               "on its logging.")
    case = _cases()
    file_case = forms.BooleanField(required=False, label="File a dispute now",
                                   help_text="Required for a compromise or a breach unless a "
                                   "case is chosen.")


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = forms.CharField(max_length=500)
    case = _cases()
    file_case = forms.BooleanField(required=False, label="File a dispute now")


class IsolationForm(forms.Form):
    how = forms.CharField(max_length=500, label="How the services were isolated")


class EscalateForm(forms.Form):
    case = _cases()
    file_case = forms.BooleanField(required=False, label="File a dispute now")


class ManagementForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.all(),
                                    help_text="The Systems Administration team leader, or "
                                    "the Board's designated member.")
    reason = forms.CharField(max_length=500, required=False,
                             help_text="Why the Board's member: the leader is unavailable, "
                             "or decided so.")


class WarRoomForm(forms.Form):
    war_room = forms.CharField(max_length=300, required=False)


class TimelineForm(forms.Form):
    kind = forms.ChoiceField(choices=TimelineKind.choices)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


class EvidenceForm(forms.Form):
    label = forms.CharField(max_length=120)
    description = forms.CharField(max_length=500)
    sha256 = forms.CharField(max_length=64, label="SHA-256",
                             help_text="sha256sum of the image or file, taken when collected.")
    size = forms.IntegerField(min_value=0, required=False, help_text="Bytes.")
    location = forms.CharField(max_length=200, help_text="Where it is kept.")


class HandOverForm(forms.Form):
    to = forms.ModelChoiceField(queryset=Person.objects.all())
    location = forms.CharField(max_length=200)
    reason = forms.CharField(max_length=300)
    sha256_checked = forms.BooleanField(required=False, label="SHA-256 checked on hand-over")


class ArchiveForm(forms.Form):
    since = forms.DateField(widget=DateInput)
    until = forms.DateField(widget=DateInput, required=False,
                            help_text="Empty: until the Arbitrator releases the hold.")


class ChecklistForm(forms.Form):
    checklist = forms.ChoiceField(choices=checklists.choices)


class StepForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(max_length=500, required=False)


class ReportForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea, max_length=20_000,
                              help_text="The public report: what happened, the impact, what "
                              "was done, what changes.")
    audience = forms.MultipleChoiceField(choices=Audience.choices,
                                         widget=forms.CheckboxSelectMultiple,
                                         initial=[Audience.SYSADMINS, Audience.BOARD])
    appendix = forms.CharField(widget=forms.Textarea, max_length=20_000, required=False,
                               label="Restricted appendix",
                               help_text="Shown only to the responders, management, "
                               "oversight and auditors.")
    sensitive = forms.BooleanField(required=False, help_text="The appendix holds sensitive "
                                   "data: it is kept only encrypted with GnuPG to its "
                                   "readers' keys (SM 4.4.3).")
    embargoed = forms.BooleanField(required=False, label="Embargo the details",
                                   help_text="Only under the Arbitrator's case: the incident "
                                   "stays listed, its summary is withheld (SM 5.6).")
