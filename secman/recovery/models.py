"""Business processes, recovery plan versions, exercises and their timed steps, the key
persons the Board designated and each distribution of their list (SP/SM 6)."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import TEXT_MAX


class BusinessProcess(models.Model):
    """SM 6.1: "The board maintains BusinessProcesses"; the core ones (SM 6.1.1) carry a
    recovery time objective (SM 6.2)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(max_length=TEXT_MAX)
    core = models.BooleanField(default=False)
    max_outage_hours = models.PositiveIntegerField(
        help_text="The maximum acceptable outage.")
    rto_hours = models.PositiveIntegerField(help_text="The recovery time objective.")
    systems = models.ManyToManyField("systems.System", related_name="business_processes",
                                     blank=True)
    people = models.ManyToManyField("people.Person", related_name="business_processes",
                                    blank=True)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-core", "name"]
        verbose_name_plural = "business processes"

    def __str__(self) -> str:
        return self.name


class RecoveryPlan(models.Model):
    """SM 6.3: one version of the plan, adopted by a Board decision; its steps in order."""

    version = models.PositiveIntegerField(unique=True)
    steps = models.JSONField(help_text="The steps' titles, in order.")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    adopted_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    adopted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Recovery plan v{self.version}"


class Exercise(models.Model):
    """A run of the plan, an exercise or a real recovery: each step timed, the whole
    measured against the recovery time objectives of the processes it covers."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.PROTECT, related_name="exercises")
    processes = models.ManyToManyField(BusinessProcess, related_name="exercises")
    real = models.BooleanField(default=False, help_text="A real recovery, not an exercise.")
    scenario = models.CharField(max_length=300)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        kind = "Recovery" if self.real else "Exercise"
        return f"{kind} of {self.started_at:%Y-%m-%d}: {self.scenario}"

    def get_absolute_url(self) -> str:
        return reverse("recovery:exercise", args=[self.pk])

    @property
    def hours(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() / 3600


class ExerciseStep(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["exercise", "position"]
        constraints = [models.UniqueConstraint(fields=["exercise", "position"],
                                               name="one_exercise_step_per_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class KeyPerson(models.Model):
    """SM 6.4: "The board designates a trusted team of core participants"."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="key_person_designations")
    role = models.CharField(max_length=120, help_text="Their part in a recovery.")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    designated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person__name"]
        constraints = [models.UniqueConstraint(fields=["person"],
                                               condition=models.Q(ended_at__isnull=True),
                                               name="one_current_key_person_designation")]

    def __str__(self) -> str:
        return f"{self.person} ({self.role})"


class Distribution(models.Model):
    """One export of the Key Persons List: what was in it (its SHA-256), to whom it was
    encrypted, by whom (SM 6.4 "distribution and updating of this document")."""

    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    sha256 = models.CharField(max_length=64)
    recipients = models.JSONField(default=list)
    files = models.JSONField(default=list)

    class Meta:
        ordering = ["-made_at"]

    def __str__(self) -> str:
        return f"Key Persons List of {self.made_at:%Y-%m-%d %H:%M}"
