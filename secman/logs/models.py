"""The systems' log messages, the Merkle log that proves them, the rules that classify and
examine them, and the anomalies those rules raise."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.eventlog.models import RetentionClass

# SM 4.2.1's classes of log are the Event Log's retention classes (the same table of the
# manual); the systems' logs use all of them but the incident reports.
LOG_CLASSES = [(value, label) for value, label in RetentionClass.choices
               if value != RetentionClass.INCIDENT]


class Message(models.Model):
    """One message as rsyslog received it. `seq` is its leaf's index in the Merkle log;
    `leaf_hash` is SHA-256(0x00 || canonical bytes) (logs.canonical). A purged message
    keeps its leaf hash, its time, host and class, and loses its text."""

    seq = models.BigIntegerField(primary_key=True)
    received_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    host = models.CharField(max_length=255)
    # The systems register's system of that name, when there is one (SM 3.1.2).
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", db_index=False)
    source_ip = models.CharField(max_length=45, blank=True)
    facility = models.PositiveSmallIntegerField()
    severity = models.PositiveSmallIntegerField()
    program = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    log_class = models.CharField(max_length=30, choices=LOG_CLASSES)
    leaf_hash = models.CharField(max_length=64)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            # The search: one host, one class, a time range (docs/performance.md).
            models.Index(fields=["host", "log_class", "received_at"], name="logs_host_class_time"),
            # The purge and the volume chart: a class or every class over time.
            models.Index(fields=["log_class", "received_at"], name="logs_class_time"),
            models.Index(fields=["received_at"], name="logs_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.host} {self.program}"

    def get_absolute_url(self) -> str:
        return reverse("logs:message", args=[self.seq])


class TreeHead(models.Model):
    """The single row of the Merkle log's newest state: its size and compact range (the
    roots of the perfect subtrees covering every leaf, hex, largest first). The ingest
    locks it for each batch, so there is one writer at a time."""

    size = models.BigIntegerField(default=0)
    frontier = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"systems' log of {self.size} messages"


class TreeNode(models.Model):
    """A complete subtree of 16 leaves or more (as the Event Log keeps them), stored when
    the batch that completes it is committed: proofs need O(log n) reads."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"],
                                               name="logs_one_node_per_position")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class TreeCheckpoint(models.Model):
    """A signed checkpoint of the systems' log (a C2SP signed note, as the Event Log's,
    under the origin `<Event Log origin>/systems-logs`)."""

    tree_size = models.BigIntegerField(db_index=True)
    root_hash = models.CharField(max_length=64)
    time = models.DateTimeField()
    note = models.TextField()
    key = models.ForeignKey("eventlog.SigningKey", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-tree_size", "-id"]

    def __str__(self) -> str:
        return f"systems' log checkpoint at {self.tree_size}"


class SpoolFile(models.Model):
    """How far the ingest has read one of rsyslog's spool files: the offset is committed
    in the same transaction as the messages read up to it, so a killed ingest resumes
    exactly there (no message lost, none stored twice)."""

    name = models.CharField(max_length=255, unique=True)
    inode = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    messages = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.offset}"


class ClassRule(models.Model):
    """Which class a message belongs to (SM 4.2.1). Rules are tried by position; the first
    whose every set condition holds gives the class; a message no rule matches is of the
    class "system activities". Changed only under authority (logs.rules)."""

    position = models.PositiveIntegerField()
    log_class = models.CharField(max_length=30, choices=LOG_CLASSES)
    programs = models.CharField(max_length=300, blank=True,
                                help_text="Program names separated by spaces (any if empty).")
    facilities = models.CharField(max_length=100, blank=True,
                                  help_text="Facility numbers separated by spaces (any if "
                                            "empty): 4 auth, 10 authpriv, 0 kern.")
    hosts = models.CharField(max_length=300, blank=True,
                             help_text="Host names or shell patterns (signer*), separated by "
                                       "spaces (any if empty).")
    text_contains = models.CharField(max_length=200, blank=True,
                                     help_text="Text the message must contain (any if empty).")
    note = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"rule {self.position}: {self.get_log_class_display()}"


class RuleLevel(models.TextChoices):
    """Sigma's levels."""

    INFORMATIONAL = "informational", "Informational"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class DetectionRule(models.Model):
    """A Sigma rule (SM 5.2's automated detectors), kept as its YAML text. A correlation
    rule names the rules it counts by their `name`. Changed only under authority."""

    name = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    level = models.CharField(max_length=16, choices=RuleLevel.choices)
    correlation = models.BooleanField(default=False)
    yaml = models.TextField()
    enabled = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("logs:rule", args=[self.name])


class AnomalyStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    PROMOTED = "promoted", "Promoted to an incident"


class Anomaly(models.Model):
    """What a detection rule found: every match of the same rule on the same host (and
    the same group, e.g. the source address of a brute force) joins the open anomaly, so
    a flood is one anomaly and one mail. The primary log monitor examines each (SM 5.2):
    dismissed with a reason, or promoted to an incident."""

    rule = models.ForeignKey(DetectionRule, on_delete=models.PROTECT, related_name="anomalies")
    host = models.CharField(max_length=255)
    group_key = models.CharField(max_length=200, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    matches = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=AnomalyStatus.choices,
                              default=AnomalyStatus.OPEN)
    mailed_at = models.DateTimeField(null=True, blank=True)
    examined_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    examined_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name_plural = "anomalies"
        indexes = [models.Index(fields=["status", "rule", "host", "group_key"],
                                name="logs_open_anomaly")]

    def __str__(self) -> str:
        suffix = f" from {self.group_key}" if self.group_key else ""
        return f"{self.rule.title} on {self.host}{suffix}"

    def get_absolute_url(self) -> str:
        return reverse("logs:anomaly", args=[self.pk])


class AnomalyMessage(models.Model):
    """A message that made an anomaly: the evidence the examiner reads."""

    anomaly = models.ForeignKey(Anomaly, on_delete=models.PROTECT, related_name="links")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="+",
                                db_constraint=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["anomaly", "message"],
                                               name="logs_one_link_per_message")]

    def __str__(self) -> str:
        return f"{self.anomaly_id} <- {self.message_id}"
