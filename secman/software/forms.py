from __future__ import annotations

from django import forms

from secman.software.choices import Risk, TestResult
from secman.software.models import Repository
from secman.systems.models import System


class ChangeForm(forms.Form):
    repository = forms.ModelChoiceField(queryset=Repository.objects.all())
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
    risk = forms.ChoiceField(choices=[("", "— choose —"), *Risk.choices])
    base = forms.CharField(max_length=200, help_text="The commit the change starts from.")
    head = forms.CharField(max_length=200, help_text="The change's last commit (or branch).")


class ReleaseForm(forms.Form):
    repository = forms.ModelChoiceField(queryset=Repository.objects.all())
    name = forms.CharField(max_length=80, help_text="The revision or build: v2026.12.1.")
    commit = forms.CharField(max_length=200, help_text="The commit the build is made of.")


class ReviewForm(forms.Form):
    commit = forms.CharField(max_length=64, help_text="The exact commit you read and approve.")
    note = forms.CharField(max_length=500, required=False)


class AssessForm(forms.Form):
    guidelines_followed = forms.BooleanField(
        required=False, label="Follows the coding guidelines",
        help_text="Unticked: the change goes back to its author.")
    test_instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                        max_length=10_000, required=False,
                                        label="Instructions for the test system")


class TestForm(forms.Form):
    result = forms.ChoiceField(choices=TestResult.choices)
    notes = forms.CharField(max_length=500, required=False)


class HeadForm(forms.Form):
    head = forms.CharField(max_length=200, label="New head",
                           help_text="A later commit of the change.")


class HandOverForm(forms.Form):
    target = forms.ModelChoiceField(queryset=System.objects.filter(retired_at__isnull=True),
                                    label="Deploy on")


class TestAccountForm(forms.Form):
    system = forms.ModelChoiceField(queryset=System.objects.filter(retired_at__isnull=True),
                                    help_text="The test system or the bug tracker.")
    member_name = forms.CharField(max_length=200, label="Member")
    member_email = forms.EmailField(label="Member's email")
    assurer = forms.BooleanField(required=False, label="An Assurer (checked)")
    checked = forms.CharField(max_length=500, help_text="What you checked, and how.")
    grant = forms.BooleanField(required=False, label="Grant the account",
                               help_text="Unticked: the request is refused, and recorded.")
