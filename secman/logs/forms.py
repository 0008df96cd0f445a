from __future__ import annotations

from django import forms

from secman.logs.models import LOG_CLASSES


class SearchForm(forms.Form):
    host = forms.CharField(required=False, max_length=255)
    log_class = forms.ChoiceField(required=False, label="Class",
                                  choices=[("", "every class"), *LOG_CLASSES])
    since = forms.DateTimeField(required=False, label="From (UTC)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, label="Before (UTC)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    text = forms.CharField(required=False, max_length=200, label="Text contains")
    page = forms.IntegerField(required=False, min_value=1, max_value=10000,
                              widget=forms.HiddenInput)


class ExamineForm(forms.Form):
    # Promoting is opening its incident (the incidents' page does both at once), so the
    # promotion and the incident cannot come apart.
    outcome = forms.ChoiceField(choices=[("dismissed", "Dismiss: harmless, and why")],
                                widget=forms.RadioSelect, initial="dismissed")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class RuleForm(forms.Form):
    yaml = forms.CharField(label="Sigma rule (YAML)", max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 18, "class": "code"}))
    authority = forms.CharField(max_length=40, initial="SM 5.2")
