"""A report made in the background for someone in the web UI (the PDF takes longer than
a web request may last). Imported by compliance/models.py, so Django finds it in the
compliance app."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone


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
