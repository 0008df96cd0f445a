from __future__ import annotations

from django import forms

from secman.people.models import Person
from secman.recovery.models import BusinessProcess
from secman.systems.models import System

BOARD_DECISION_HELP = "The Board decision (its minute, e.g. m20261204.1)."


class ProcessForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
    core = forms.BooleanField(required=False, help_text="A core process (SM 6.1.1).")
    max_outage_hours = forms.IntegerField(min_value=1, max_value=100_000,
                                          label="Maximum acceptable outage (hours)")
    rto_hours = forms.IntegerField(min_value=1, max_value=100_000,
                                   label="Recovery time objective (hours)")
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.filter(retired_at__isnull=True).order_by("name"),
        required=False, widget=forms.CheckboxSelectMultiple)
    people = forms.ModelMultipleChoiceField(queryset=Person.objects.all(), required=False,
                                            help_text="The people it depends on.")
    authority = forms.CharField(max_length=40, help_text=BOARD_DECISION_HELP)


class PlanForm(forms.Form):
    steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=15_000,
                            help_text="One step per line, in order.")
    authority = forms.CharField(max_length=40, help_text=BOARD_DECISION_HELP)


class ExerciseForm(forms.Form):
    scenario = forms.CharField(max_length=300, help_text="What the exercise assumes happened.")
    processes = forms.ModelMultipleChoiceField(
        queryset=BusinessProcess.objects.filter(retired_at__isnull=True),
        widget=forms.CheckboxSelectMultiple)
    real = forms.BooleanField(required=False, label="A real recovery, not an exercise")
    started_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}), help_text="Empty: now. Earlier, for an exercise "
        "held away from secman.")


class StepForm(forms.Form):
    at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}), help_text="Empty: now.")
    note = forms.CharField(max_length=500, required=False)


class DesignateForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    role = forms.CharField(max_length=120, help_text="Their part in a recovery.")
    authority = forms.CharField(max_length=40, help_text=BOARD_DECISION_HELP)
