"""Backup jobs per system, the sets made of them, and the checks that restore them
(SP/SM 4.3). A set's secrets are never here: only what protects it and who verified it."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.backups.choices import (
    BackupKind,
    EnvelopeStatus,
    ExaminationStatus,
    RetentionDirection,
    SetStatus,
)
from secman.core.validation import TEXT_MAX


class BackupJob(models.Model):
    """What is backed up of one system, how, and how often (SP 4.3.2's frequencies are
    per job, changed with an authority)."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="backup_jobs")
    name = models.CharField(max_length=80, help_text="What the team calls it: 'database'.")
    kind = models.CharField(max_length=20, choices=BackupKind.choices)
    frequency_days = models.PositiveIntegerField(
        help_text="A set (or, for an operational job, a passing check) is due this often.")
    schedule_authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                           related_name="+")
    # Operational jobs: the restic repository `secman backups check` reads, and the file
    # holding its password on the secman server (the password itself is never stored).
    restic_repository = models.CharField(max_length=300, blank=True)
    restic_password_file = models.CharField(max_length=300, blank=True)
    storage = models.CharField(max_length=200, blank=True,
                               help_text="Where its sets are kept (SM 4.3.3).")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system__name", "name"]
        constraints = [models.UniqueConstraint(fields=["system", "name"],
                                               name="one_backup_job_name_per_system")]

    def __str__(self) -> str:
        return f"{self.system.name}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("backups:job", args=[self.pk])


class BackupSet(models.Model):
    """One backup made of a job: by two people, on media of the storage media register,
    encrypted by the methods it records, verified by two Systems Administrators before
    it is stored."""

    job = models.ForeignKey(BackupJob, on_delete=models.PROTECT, related_name="sets")
    label = models.CharField(max_length=120, help_text="As written on the media.")
    status = models.CharField(max_length=20, choices=SetStatus.choices,
                              default=SetStatus.AWAITING_SECOND)
    made_at = models.DateTimeField(default=timezone.now)
    made_signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                     related_name="+")
    media = models.ManyToManyField("physical.Media", blank=True, related_name="+")
    methods = models.JSONField(default=list, blank=True,
                               help_text="Encryption methods (choices.Encryption).")
    # The OpenPGP layer as `gpg --list-packets` of a sample showed it: the key ids it is
    # encrypted to, and whether they are exactly the configured DR keys.
    openpgp_key_ids = models.JSONField(default=list, blank=True)
    openpgp_checked_at = models.DateTimeField(null=True, blank=True)
    openpgp_ok = models.BooleanField(default=False)
    verify_signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    # SM 4.3.7 "Paper documentation must be stored with the backup": what paper goes with
    # the set (how to restore it, which keys open it: names, never values).
    paper_documentation = models.CharField(max_length=300, blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    stored_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    note = models.TextField(max_length=TEXT_MAX, blank=True)

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.job} set {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("backups:set", args=[self.pk])


class BackupCheck(models.Model):
    """One `secman backups check`: restic's own check of the repository, and a sample of
    files restored to a scratch directory and compared with the snapshot's content."""

    job = models.ForeignKey(BackupJob, on_delete=models.PROTECT, related_name="checks")
    ran_at = models.DateTimeField(default=timezone.now)
    ran_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    ok = models.BooleanField()
    snapshot_id = models.CharField(max_length=64, blank=True)
    snapshot_time = models.DateTimeField(null=True, blank=True)
    files = models.PositiveIntegerField(default=0, help_text="Files in the snapshot.")
    bytes = models.PositiveBigIntegerField(default=0, help_text="Bytes in the snapshot.")
    # [{"path", "size", "sha256"}]: the files restored and what they hashed to.
    sample = models.JSONField(default=list, blank=True)
    read_subset = models.CharField(max_length=20, blank=True)
    seconds = models.FloatField(default=0)
    problem = models.TextField(max_length=TEXT_MAX, blank=True)

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"check of {self.job} {'passed' if self.ok else 'failed'}"


class SealedEnvelope(models.Model):
    """SM 4.3.7: "A copy of all root passwords, backup keys and associated passphrases is
    kept in one or more sealed envelopes and stored in a safe of one of CAcert's board
    members." What it holds is named, never written: the secrets of the privileged
    register it copies."""

    label = models.CharField(max_length=120, unique=True,
                             help_text="The identification marks written on it.")
    seal = models.CharField(max_length=300, help_text="The envelope and its seal, as seen: "
                            "'white A6, transparent tape, dated and signed'.")
    secrets = models.ManyToManyField("privileged.Secret", related_name="envelopes")
    sealed_at = models.DateTimeField(default=timezone.now)
    sealed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    custodian = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+",
                                  help_text="The Board member who keeps it.")
    location = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=EnvelopeStatus.choices,
                              default=EnvelopeStatus.SEALED)
    replaced_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_checked_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    opened_authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                         null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-sealed_at", "-id"]

    def __str__(self) -> str:
        return f"envelope '{self.label}'"

    def get_absolute_url(self) -> str:
        return reverse("backups:envelopes") + f"#envelope-{self.pk}"


class Examination(models.Model):
    """SM 4.3.8: reading a backup for anything but a restore, under an Arbitration case
    (in an emergency, a dispute filed at once); what was extracted and where, until it is
    cleaned at the end of the exception."""

    backup_set = models.ForeignKey(BackupSet, on_delete=models.PROTECT,
                                   related_name="examinations")
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             related_name="+")
    emergency = models.BooleanField(default=False)
    purpose = models.TextField(max_length=TEXT_MAX)
    extracted = models.TextField(max_length=TEXT_MAX, help_text="What was extracted.")
    extracted_to = models.CharField(max_length=300, help_text="Where it was put.")
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ExaminationStatus.choices,
                              default=ExaminationStatus.OPEN)
    cleaned_at = models.DateTimeField(null=True, blank=True)
    cleaned_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    cleaning = models.TextField(max_length=TEXT_MAX, blank=True,
                                help_text="How the extracted data was cleaned.")

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"examination #{self.pk} of {self.backup_set}"

    def get_absolute_url(self) -> str:
        return reverse("backups:set", args=[self.backup_set_id]) + f"#examination-{self.pk}"


class RetentionDecision(models.Model):
    """SM 4.4.1: what happens to a terminated account's user data, as the Arbitrator of
    its case directs; carried out (deleted) by the team that holds the data."""

    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             related_name="+")
    account = models.CharField(max_length=120, help_text="The Member's account as the "
                               "support team refers to it (an account number).")
    direction = models.CharField(max_length=16, choices=RetentionDirection.choices)
    retain_until = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                    related_name="+")
    carried_out_at = models.DateTimeField(null=True, blank=True)
    carried_out_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    carried_out_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"retention of {self.account} ({self.case.number})"

    def get_absolute_url(self) -> str:
        return reverse("backups:retention") + f"#retention-{self.pk}"
