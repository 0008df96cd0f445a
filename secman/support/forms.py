from __future__ import annotations

from django import forms

from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.core.forms import DateInput
from secman.support.choices import ActionKind, AuthorityKind, ChannelKind, FilingDecision
from secman.support.models import AdHocQuery, Channel


def _roles() -> list[tuple[str, str]]:
    from secman.support.services import member_roles

    return [("", "—"), *((r.name, r.title) for r in member_roles().values())]


class ActionForm(forms.Form):
    member = forms.CharField(max_length=200, help_text="The account: email or member number.")
    kind = forms.ChoiceField(choices=ActionKind.choices)
    role = forms.ChoiceField(choices=_roles, required=False,
                             help_text="For enabling or removing a role (SM 8.2.2).")
    member_is_assurer = forms.BooleanField(required=False, label="The Member is an Assurer")
    authority_kind = forms.ChoiceField(choices=[("", "— choose —"), *AuthorityKind.choices],
                                       label="Authority", required=False)
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(in_use=True),
                                     required=False, help_text="The Member's request came in "
                                     "on...")
    message_reference = forms.CharField(max_length=200, required=False,
                                        help_text="Ticket number or mail Message-ID.")
    token = forms.CharField(max_length=40, required=False,
                            help_text="The Arbitrator's instruction's TOKEN (SM 8.4).")
    interface = forms.CharField(max_length=200, help_text="The restricted interface used "
                                "(SP 8: its use is logged).")
    note = forms.CharField(max_length=500, required=False)


class InstructionForm(forms.Form):
    case = forms.ModelChoiceField(queryset=ArbitrationCase.objects.filter(
        status__in=[CaseStatus.RUNNING, CaseStatus.RULED]), to_field_name="number")
    member = forms.CharField(max_length=200)
    instruction = forms.CharField(max_length=500)


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ChannelKind.choices)
    address = forms.CharField(max_length=200)
    logged = forms.BooleanField(required=False)
    logging = forms.CharField(max_length=300, required=False, help_text="Where and how.")
    in_use = forms.BooleanField(required=False, initial=True)


class TriageForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    assurer = forms.BooleanField(required=False, label="An Assurer")
    agreed_at = forms.DateField(widget=DateInput, label="Agreed to the SP and SM on")


class FilingForm(forms.Form):
    request_reference = forms.CharField(max_length=200, label="Support request")
    decision = forms.ChoiceField(choices=FilingDecision.choices)
    reason = forms.CharField(max_length=500)
    case = forms.ModelChoiceField(queryset=ArbitrationCase.objects.all(),
                                  to_field_name="number", required=False,
                                  help_text="The dispute filed, when filed.")


class QueryForm(forms.Form):
    purpose = forms.CharField(max_length=500)
    query = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "class": "code"}),
                            max_length=20_000, help_text="The exact query to run.")
    case = forms.ModelChoiceField(queryset=ArbitrationCase.objects.filter(
        status__in=[CaseStatus.RUNNING, CaseStatus.RULED]), to_field_name="number",
        help_text="The case whose Arbitrator approves it (SP 3.3).")


class QueryDecisionForm(forms.Form):
    query = forms.ModelChoiceField(queryset=AdHocQuery.objects.all(),
                                   widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(choices=[("yes", "Approve"), ("no", "Refuse")],
                                     coerce=lambda v: v == "yes")


class QueryRunForm(forms.Form):
    query = forms.ModelChoiceField(queryset=AdHocQuery.objects.all(),
                                   widget=forms.HiddenInput)
    rows = forms.IntegerField(min_value=0, help_text="Rows it returned.")
    result_handling = forms.CharField(max_length=500, label="What was done with the result",
                                      help_text="To whom it went; when it is deleted.")
