from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone


class RetentionClass(models.TextChoices):
    """SM 4.2.1 log types; their periods are RetentionPolicy rows."""

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
    copies of it for querying, and verification checks that they still match.

    `leaf_hash` is the entry's RFC 9162 leaf, SHA-256(0x00 || canonical). A purged entry
    (past its retention maximum) keeps its leaf hash and loses everything else, so the
    tree and every proof for other entries stay valid. Database triggers refuse every
    other UPDATE and every DELETE (migration 0003)."""

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
    leaf_hash = models.CharField(max_length=64)
    purged_at = models.DateTimeField(null=True, blank=True)
    # Not a column: whether the reader at hand may see the actor, authority and details,
    # set on the entries a page lists by selectors.PayloadAccess.marked.
    visible: bool

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["retention_class", "recorded_at"])]

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
    """The single row holding the log's newest state: sequence number, leaf hash and the
    compact range (the roots of the perfect subtrees covering all entries, hex, largest
    first). Appending locks it (SELECT ... FOR UPDATE), which orders concurrent appends.

    `origin` is the log's name in its checkpoints and of its signing key: empty until the
    first key is made (keys.current), then changed only by checkpoints.change_origin."""

    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)
    frontier = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"head #{self.seq}"


class Node(models.Model):
    """A complete subtree of the Merkle tree of 16 leaves or more (level >= 4,
    services.STORED_LEVEL), stored when the append that completes it happens, so proofs
    and roots need O(log n) reads, not the whole log; smaller subtrees are computed from
    at most 8 leaf hashes. Logs written before that change keep level 1-3 rows, unread."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="one_node_per_position")
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class SigningKey(models.Model):
    """An Ed25519 key that signs checkpoints. The private half lives in a file (the data
    dir, mode 0600, or SECMAN_EVENTLOG_KEY_FILE), never in the database."""

    key_id = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64)  # base64 of the 32 raw bytes
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id}"


class Checkpoint(models.Model):
    """A signed statement of the tree at one size: the note text is what is published."""

    tree_size = models.BigIntegerField(db_index=True)
    root_hash = models.CharField(max_length=64)
    time = models.DateTimeField()
    prev_note_hash = models.CharField(max_length=64, blank=True)
    note = models.TextField()
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="checkpoints")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-tree_size", "-id"]

    def __str__(self) -> str:
        return f"checkpoint at {self.tree_size}"

    def get_absolute_url(self) -> str:
        return reverse("eventlog:checkpoint", args=[self.pk])


class RetentionPolicy(models.Model):
    """SM 4.2.1: how long each class of entry is kept. No maximum means indefinitely
    (incident reports, SM 4.4.3) or until a system's life ends (configuration changes)."""

    retention_class = models.CharField(max_length=30, choices=RetentionClass.choices,
                                       unique=True)
    minimum_days = models.PositiveIntegerField(null=True, blank=True)
    maximum_days = models.PositiveIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=200, help_text="The period as the manual says it.")
    # SM 4.2.2: "Access to logs is restricted to Systems Administrators".
    restricted = models.BooleanField(default=True)

    class Meta:
        ordering = ["retention_class"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.get_retention_class_display()}: {self.rule}"


class LegalHold(models.Model):
    """SM 4.4.2: entries an investigation or Arbitration needs are kept past their
    maximum. Every filter that is set must match."""

    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             related_name="legal_holds")
    retention_class = models.CharField(max_length=30, choices=RetentionClass.choices,
                                       blank=True)
    action_prefix = models.CharField(max_length=80, blank=True)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=60, blank=True)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    placed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"legal hold for {self.case.number}"


class VerificationRun(models.Model):
    """A verification of the whole log, by a person or by the daily duty (SM 4.2.3)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                           blank=True, related_name="+")
    by_label = models.CharField(max_length=200)
    entries = models.BigIntegerField(default=0)
    checkpoints = models.IntegerField(default=0)
    ok = models.BooleanField(default=False)
    problems = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"verification {self.started_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'FAILED'}"


class WitnessCheckpoint(models.Model):
    """A checkpoint brought back from outside (a mail, a file): proof that the log has
    only grown since it was published."""

    note = models.TextField()
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=200)
    imported_at = models.DateTimeField(default=timezone.now)
    consistent = models.BooleanField()
    message = models.CharField(max_length=500)
    # Who brought it back (checkpoints.may_store_witness): a person through the API, or
    # nobody for the operator's command line; the label says which, with the channel.
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    recorded_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"witnessed checkpoint at {self.tree_size}"
