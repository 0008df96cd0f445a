from __future__ import annotations

from typing import Any, cast

from django import forms

from secman.authority.choices import CaseStatus, Vote
from secman.authority.models import ArbitrationCase, BoardDecision, SignOff, SignOffRequest
from secman.core.forms import AuthorityField, DateInput
from secman.core.roles import Role
from secman.core.validation import max_length
from secman.people.models import Membership, Person

NOT_VOTING = ""


class DecisionForm(forms.Form):
    minute_id = forms.CharField(max_length=max_length(BoardDecision, "minute_id"),
                                label="Minute id",
                                help_text="m, the date as YYYYMMDD, a dot, a number: "
                                "m20100222.1")
    decided_on = forms.DateField(widget=DateInput)
    title = forms.CharField(max_length=max_length(BoardDecision, "title"))
    text = forms.CharField(widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        board = Person.objects.filter(
            memberships__in=Membership.objects.active().filter(role=Role.BOARD_MEMBER)
        ).distinct()
        self.board = list(board)
        for member in self.board:
            self.fields[f"vote_{member.pk}"] = forms.ChoiceField(
                label=f"Vote of {member}", required=False,
                choices=[(NOT_VOTING, "did not vote"), *Vote.choices],
            )

    def votes(self) -> dict[Person, str]:
        return {member: self.cleaned_data[f"vote_{member.pk}"] for member in self.board
                if self.cleaned_data.get(f"vote_{member.pk}")}


def _people_with(role: Role) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Person.objects.filter(
            memberships__in=Membership.objects.active().filter(role=role)).distinct(),
        required=False,
    )


class CaseForm(forms.Form):
    number = forms.CharField(max_length=max_length(ArbitrationCase, "number"), label="Case number",
                             help_text="a, the date as YYYYMMDD, a dot, a number: a20090525.1")
    title = forms.CharField(max_length=max_length(ArbitrationCase, "title"))
    filed_on = forms.DateField(widget=DateInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["arbitrator"] = _people_with(Role.ARBITRATOR)
        self.fields["case_manager"] = _people_with(Role.CASE_MANAGER)


class CaseUpdateForm(forms.Form):
    """Offers the statuses the case can move to (lifecycles.CASE); the ruling fields
    only while a ruling can still be recorded."""

    status = forms.ChoiceField(choices=CaseStatus.choices)
    ruled_on = forms.DateField(widget=DateInput, required=False,
                               help_text="Only with the status 'ruled'.")
    ruling_summary = forms.CharField(widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, moves: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (value, label) for value, label in CaseStatus.choices if value in moves]
        if CaseStatus.RULED not in moves:
            del self.fields["ruled_on"], self.fields["ruling_summary"]
        self.fields["arbitrator"] = _people_with(Role.ARBITRATOR)
        self.fields["case_manager"] = _people_with(Role.CASE_MANAGER)


ROLE_CHOICES = [(r.value, r.label) for r in Role if r != Role.AUDITOR]


class SignOffRequestForm(forms.Form):
    title = forms.CharField(max_length=max_length(SignOffRequest, "title"),
                            label="What is to be done")
    description = forms.CharField(widget=forms.Textarea, required=False)
    principle = forms.ChoiceField(
        choices=[("four eyes", "Four eyes: one executes, another observes"),
                 ("dual control", "Dual control: several people control the task together")],
    )
    executor_role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.SYSTEMS_ADMINISTRATOR,
                                      help_text="Four eyes: the role of the executor. "
                                      "Dual control: the role everyone must hold.")
    observer_role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.SYSTEMS_ADMINISTRATOR,
                                      help_text="Four eyes only: the role of the observer.")
    people = forms.IntegerField(min_value=2, max_value=5, initial=2,
                                help_text="Dual control only: how many distinct people.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=90, initial=7)
    authority = AuthorityField()


class SignForm(forms.Form):
    slot = forms.ChoiceField(choices=[])
    comment = forms.CharField(max_length=max_length(SignOff, "comment"), required=False)

    def __init__(self, *args: Any, slots: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slot = cast(forms.ChoiceField, self.fields["slot"])
        slot.choices = [(s, s) for s in slots]
