from __future__ import annotations

from django import forms

from secman.compliance.models import AcceptanceKind
from secman.core.forms import AuthorityField, DateInput
from secman.people.models import Person


class CompleteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                           help_text="What was done and what was found. Required: a duty is "
                           "completed with evidence.")
    evidence_file = forms.FileField(required=False,
                                    help_text="Optional: a report, a log excerpt, a photo. "
                                    "Stored with its SHA-256.")
    event_seq = forms.IntegerField(required=False, min_value=1, label="Event Log entry",
                                   help_text="Optional: the number of an Event Log entry that "
                                   "evidences it.")
    authority = AuthorityField(required=False)


class SkipForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    authority = AuthorityField()


class ScheduleForm(forms.Form):
    schedule = forms.CharField(max_length=100, help_text="daily, weekly, monthly, quarterly, "
                               "yearly, or a cron expression such as '0 9 * * 1'.")
    authority = AuthorityField()


class DesignateForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    authority = AuthorityField()


class AttestForm(forms.Form):
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                help_text="What you checked and what you found.")
    authority = AuthorityField()


class AcceptForm(forms.Form):
    kind = forms.ChoiceField(choices=AcceptanceKind.choices)
    subject = forms.CharField(max_length=200, required=False,
                              help_text="One finding's subject (shown beside it), or blank for "
                              "the whole control.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    expires_on = forms.DateField(required=False, widget=DateInput,
                                 help_text="Required for an exception.")
    authority = AuthorityField()


class WithdrawForm(forms.Form):
    authority = AuthorityField()
