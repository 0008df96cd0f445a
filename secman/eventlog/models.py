from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse


class RetentionClass(models.TextChoices):
    """SM 4.2.1 log types. The Event Log issue adds their periods and the purge."""

    ANOMALOUS_TRAFFIC = "anomalous_traffic", "Anomalous network traffic"
    SYSTEM = "system", "System activities and events"
    LOGIN = "login", "Login and root access"
    APPLICATION = "application", "Application events"
    SIGNING_REQUESTS = "signing_requests", "Certificate signing requests"
    CONFIGURATION = "configuration", "Configuration changes"
    INCIDENT = "incident", "Incident reports and evidence"


class AppendOnly(Exception):
    pass


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("Event Log entries are never changed")

    def delete(self) -> Any:
        raise AppendOnly("Event Log entries are never deleted")


class Event(models.Model):
    """One entry. `canonical` holds the exact bytes that were hashed (as UTF-8 text), so
    verification reads what is stored and never re-serialises; the other columns are
    copies of it for querying, and verification checks that they still match."""

    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80, db_index=True)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=60, blank=True)
    subject_label = models.CharField(max_length=300, blank=True)
    authority = models.CharField(max_length=40)
    signoffs = models.JSONField(default=list)
    details = models.JSONField(default=dict)
    retention_class = models.CharField(
        max_length=30, choices=RetentionClass.choices, default=RetentionClass.APPLICATION
    )
    canonical = models.TextField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Event Log entries are never changed")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("eventlog:event", args=[self.seq])

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("Event Log entries are never deleted")


class LogHead(models.Model):
    """The single row holding the newest sequence number and hash. Appending locks it
    (SELECT ... FOR UPDATE), which puts concurrent appends in one order."""

    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
