"""Duties and their occurrences, attestations, accepted exceptions, the daily status
record behind the trends, and calendar feed tokens. Controls themselves are code
(registry.py); these rows are what people do about them."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Status
from secman.core.roles import TeamKind
from secman.core.validation import TEXT_MAX


class OccurrenceStatus(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_SIGNOFF = "awaiting_signoff", "Awaiting the second person"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped with authority"


class AcceptanceKind(models.TextChoices):
    EXCEPTION = "exception", "Accepted exception"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Duty(models.Model):
    """The schedule of a recurring-duty control. Declared in code; the row holds what
    can change with authority (the schedule) and where generation has got to."""

    control_id = models.CharField(max_length=80, unique=True)
    schedule = models.CharField(max_length=100)
    owner = models.CharField(max_length=40, choices=TeamKind.choices)
    four_eyes = models.BooleanField(default=False)
    assignee = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+",
                                 help_text="The designated person, for duties that name one.")
    starts_at = models.DateTimeField(default=timezone.now,
                                     help_text="No occurrence is due before this.")
    generated_until = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["control_id"]

    def __str__(self) -> str:
        return self.control_id

    def get_absolute_url(self) -> str:
        return reverse("compliance:control", args=[self.control_id])


class Occurrence(models.Model):
    duty = models.ForeignKey(Duty, on_delete=models.PROTECT, related_name="occurrences")
    period_start = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=OccurrenceStatus.choices,
                              default=OccurrenceStatus.OPEN)
    # The procedure as it read when the occurrence fell due (refreshed until then).
    procedure_reference = models.CharField(max_length=120, blank=True)
    procedure_text = models.TextField(blank=True)
    completed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=TEXT_MAX)
    evidence_file = models.CharField(max_length=300, blank=True,
                                     help_text="Path under the data dir's evidence store.")
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    event_seq = models.BigIntegerField(null=True, blank=True,
                                       help_text="An Event Log entry given as evidence.")
    signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+",
                                  help_text="For a skipped occurrence: what allowed it.")
    skip_reason = models.TextField(blank=True, max_length=TEXT_MAX)
    # Claimed with a conditional UPDATE so that one mail goes out however many replicas run.
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["duty", "due_at"],
                                               name="one_occurrence_per_due_time")]

    def __str__(self) -> str:
        return f"{self.duty.control_id} due {self.due_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("compliance:occurrence", args=[self.pk])

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.status in (OccurrenceStatus.OPEN, OccurrenceStatus.AWAITING_SIGNOFF) \
            and self.due_at <= (now or timezone.now())


class Attestation(models.Model):
    control_id = models.CharField(max_length=80, db_index=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=40)
    statement = models.TextField(max_length=TEXT_MAX)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    attested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-attested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.control_id} attested by {self.person}"


class Acceptance(models.Model):
    """An accepted deviation from a control, or a control (or one of its subjects) found
    not applicable. Always with authority; an exception always expires. Shown, never
    hidden: the finding stays visible with the acceptance beside it."""

    control_id = models.CharField(max_length=80, db_index=True)
    subject = models.CharField(max_length=200, blank=True,
                               help_text="One finding's subject, or blank for the control.")
    kind = models.CharField(max_length=20, choices=AcceptanceKind.choices)
    reason = models.TextField(max_length=TEXT_MAX)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    accepted_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                    related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")

    class Meta:
        ordering = ["control_id", "subject", "-accepted_at"]
        constraints = [models.CheckConstraint(
            condition=Q(kind="not_applicable") | Q(expires_at__isnull=False),
            name="an_exception_expires")]

    def __str__(self) -> str:
        what = f"{self.control_id} / {self.subject}" if self.subject else self.control_id
        return f"{self.get_kind_display()}: {what}"

    def is_active(self, now: dt.datetime | None = None) -> bool:
        return self.withdrawn_at is None and (
            self.expires_at is None or self.expires_at > (now or timezone.now()))


class StatusRecord(models.Model):
    """One control's status on one day: the series behind the 90-day trends. Written
    by each evaluation run (the last run of the day wins)."""

    day = models.DateField()
    control_id = models.CharField(max_length=80)
    status = models.CharField(max_length=20, choices=Status.choices)
    findings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "control_id"]
        constraints = [models.UniqueConstraint(fields=["day", "control_id"],
                                               name="one_status_per_control_and_day")]

    def __str__(self) -> str:
        return f"{self.control_id} {self.status} on {self.day}"


class CalendarFeed(models.Model):
    """A private iCalendar feed. Only the SHA-256 of its token is stored; the URL is shown
    once, when made, like an API token."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    team = models.CharField(max_length=40, choices=TeamKind.choices, blank=True,
                            help_text="Blank: the person's own feed.")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar of {self.team or self.person}"


# --- audit reports made in the background (compliance/report) ----------------------------


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReportJob(models.Model):
    """One audit report asked for on the web, made by `secman report run-job ID` in a
    process of its own. The file lives under SECMAN_DATA_DIR/reports/ for KEEP_DAYS."""

    requested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                      related_name="+")
    first_day = models.DateField()
    last_day = models.DateField()
    format = models.CharField(max_length=10, default="pdf")
    status = models.CharField(max_length=10, choices=JobStatus.choices,
                              default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent.")
    stage = models.CharField(max_length=120, blank=True,
                             help_text="What the job is doing, for the progress page.")
    error = models.TextField(blank=True)
    file = models.CharField(max_length=300, blank=True,
                            help_text="Path under the data dir, once done.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.format.upper()} audit report {self.first_day} to {self.last_day}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:report_job", args=[self.pk])

    @property
    def in_flight(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def elapsed_seconds(self) -> int:
        end = self.finished_at or timezone.now()
        return max(0, round((end - (self.started_at or self.created_at)).total_seconds()))
