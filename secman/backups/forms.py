from __future__ import annotations

from django import forms

from secman.authority.models import ArbitrationCase
from secman.backups.choices import BackupKind, Encryption, RetentionDirection
from secman.backups.models import SealedEnvelope
from secman.people.models import Person
from secman.physical.models import Media
from secman.privileged.models import Secret
from secman.systems.models import System


class JobForm(forms.Form):
    system = forms.ModelChoiceField(queryset=System.objects.filter(retired_at__isnull=True),
                                    to_field_name="name")
    name = forms.CharField(max_length=80, help_text="What is backed up: 'database'.")
    kind = forms.ChoiceField(choices=BackupKind.choices)
    frequency_days = forms.IntegerField(min_value=1, max_value=3660,
                                        help_text="A set or a passing check is due this often.")
    authority = forms.CharField(max_length=40, initial="SP 4.3.2",
                                help_text="What sets this frequency: a section or a Board "
                                "minute.")
    restic_repository = forms.CharField(max_length=300, required=False,
                                        help_text="Operational jobs: the restic repository.")
    restic_password_file = forms.CharField(
        max_length=300, required=False,
        help_text="The file holding its password on the secman server (never the password).")
    storage = forms.CharField(max_length=200, required=False,
                              help_text="Where its sets are kept (SM 4.3.3).")


class ScheduleForm(forms.Form):
    frequency_days = forms.IntegerField(min_value=1, max_value=3660)
    authority = forms.CharField(max_length=40, help_text="A section or a Board minute.")


class SetForm(forms.Form):
    label = forms.CharField(max_length=120, help_text="As written on the media.")
    methods = forms.MultipleChoiceField(choices=Encryption.choices,
                                        widget=forms.CheckboxSelectMultiple, required=False,
                                        help_text="A disaster-recovery set needs two.")
    # Not "media": that is a form's own attribute (its CSS and scripts).
    on_media = forms.ModelMultipleChoiceField(
        queryset=Media.objects.exclude(status="retired"), required=False,
        to_field_name="serial_number", label="Media",
        help_text="From the storage media register.")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class StoreForm(forms.Form):
    location = forms.CharField(max_length=200, help_text="Where the set is kept (SM 4.3.3).")
    paper_documentation = forms.CharField(
        max_length=300, required=False, help_text="The paper stored with it (SM 4.3.7): how "
        "to restore it, which keys open it (names only). Required for a DR set.")


class EnvelopeForm(forms.Form):
    label = forms.CharField(max_length=120, help_text="The identification marks on it.")
    seal = forms.CharField(max_length=300, help_text="The envelope and its seal as seen.")
    secrets = forms.ModelMultipleChoiceField(
        queryset=Secret.objects.filter(retired_at__isnull=True), to_field_name="name",
        help_text="What it holds, by name (never the values).")
    custodian = forms.ModelChoiceField(queryset=Person.objects.all(),
                                       help_text="The Board member who keeps it.")
    location = forms.CharField(max_length=200, help_text="Where the custodian keeps it.")
    replaces = forms.ModelChoiceField(queryset=SealedEnvelope.objects.filter(status="sealed"),
                                      required=False, to_field_name="label",
                                      help_text="The envelope it replaces, if any.")


class EnvelopeCheckForm(forms.Form):
    # A choice, not a checkbox: a form sent without it (an unticked box looks the same)
    # must not record a broken seal.
    seal = forms.ChoiceField(choices=[("intact", "seen where recorded, seal intact"),
                                      ("broken", "seal broken, or not where recorded")])
    note = forms.CharField(max_length=500, required=False)


class ExaminationForm(forms.Form):
    case = forms.ModelChoiceField(queryset=ArbitrationCase.objects.filter(
        status__in=("filed", "running")), to_field_name="number", required=False,
        help_text="The case that authorises it (SM 4.3.8).")
    emergency = forms.BooleanField(required=False, help_text="No case yet: a dispute is "
                                   "filed at once to notify the Arbitrator.")
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    extracted = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="What was extracted.")
    extracted_to = forms.CharField(max_length=300, help_text="Where it was put.")


class CleanedForm(forms.Form):
    cleaning = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="How the extracted data was cleaned.")


class RetentionForm(forms.Form):
    case = forms.ModelChoiceField(queryset=ArbitrationCase.objects.all(),
                                  to_field_name="number")
    account = forms.CharField(max_length=120, help_text="As the support team refers to it.")
    direction = forms.ChoiceField(choices=RetentionDirection.choices)
    retain_until = forms.DateField(required=False, help_text="For 'retain until': YYYY-MM-DD.")
