"""An incident, its response steps, its investigation log, its evidence and custody, and
its final report (SP/SM 5). Nothing here is ever deleted: SM 4.4.3 keeps completed
incident reports indefinitely, and the record they rest on with them."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import LONG_TEXT_MAX, TEXT_MAX
from secman.incidents.choices import (
    INTRUSION_OR_WORSE,
    DetectionLevel,
    IncidentStatus,
    Severity,
    Source,
    TimelineKind,
)


class Incident(models.Model):
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=Source.choices)
    # The anomaly it was promoted from (logs), or the security bug's reference (SM 9.1.6).
    anomaly = models.OneToOneField("logs.Anomaly", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="incident")
    bug_reference = models.CharField(max_length=200, blank=True)
    detection_level = models.CharField(max_length=30, choices=DetectionLevel.choices)
    systems = models.ManyToManyField("systems.System", related_name="incidents")
    severity = models.CharField(max_length=30, choices=Severity.choices)
    description = models.TextField(max_length=TEXT_MAX)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices,
                              default=IncidentStatus.OPEN)
    opened_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    # SM 5.3.2: the initial warning, mailed at once, with the CC the person on the spot
    # chose; the war room.
    warning_cc = models.JSONField(default=list, blank=True)
    war_room = models.CharField(max_length=300, blank=True)
    # SM 5.3.1: "compromised services must be isolated immediately".
    isolated_at = models.DateTimeField(null=True, blank=True)
    isolated_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    isolation = models.CharField(max_length=500, blank=True)
    # SM 5.3.3: oversight (the case) and management (the team leader, or the Board's
    # designated member).
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="incidents")
    management = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    management_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"Incident {self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident", args=[self.pk])

    @property
    def intrusion_or_worse(self) -> bool:
        return self.severity in INTRUSION_OR_WORSE


class ResponseStep(models.Model):
    """One step of a response checklist (checklists.toml), copied to the incident when the
    checklist was chosen, so a later change of the file leaves it as it was."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="steps")
    checklist = models.CharField(max_length=40)
    checklist_title = models.CharField(max_length=120)
    section = models.CharField(max_length=20)
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=40)
    text = models.CharField(max_length=300)
    isolation = models.BooleanField(default=False)
    register_check = models.CharField(max_length=40, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["incident", "checklist", "position"]
        constraints = [models.UniqueConstraint(fields=["incident", "checklist", "key"],
                                               name="one_step_per_key")]

    def __str__(self) -> str:
        return f"{self.checklist_title}: {self.text}"


class TimelineEntry(models.Model):
    """The investigation log and the follow-ups (SM 5.3.2, 5.4), in the order written."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    text = models.TextField(max_length=TEXT_MAX)
    written_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                   related_name="+")
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at", "pk"]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.written_at:%Y-%m-%d %H:%M}"


class Evidence(models.Model):
    """An item of evidence (SM 5.4 "preserved in as close to pristine condition as is
    possible"): its SHA-256 when collected, and who holds it now."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    label = models.CharField(max_length=120)
    description = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(null=True, blank=True)
    location = models.CharField(max_length=200)
    collected_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    collected_at = models.DateTimeField(default=timezone.now)
    holder = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["collected_at", "pk"]
        verbose_name_plural = "evidence"
        constraints = [models.UniqueConstraint(fields=["incident", "label"],
                                               name="one_evidence_label_per_incident")]

    def __str__(self) -> str:
        return f"{self.label} ({self.sha256[:12]}…)"


class Custody(models.Model):
    """A hand-over of an item of evidence: the chain of custody."""

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    from_person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                    related_name="+")
    to_person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    location = models.CharField(max_length=200)
    sha256_checked = models.BooleanField(default=False)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "custody"

    def __str__(self) -> str:
        return f"{self.evidence.label}: {self.from_person} → {self.to_person}"


class Report(models.Model):
    """The final report (SM 5.6): a public part, and a restricted appendix that is
    encrypted with GnuPG when it holds sensitive data (SM 4.4.3). Embargoed details are
    under the Arbitrator's case; the incident itself stays listed."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="report")
    summary = models.TextField(max_length=LONG_TEXT_MAX)
    audience = models.JSONField(default=list)
    appendix = models.TextField(max_length=LONG_TEXT_MAX, blank=True)
    sensitive = models.BooleanField(default=False)
    # The appendix as an OpenPGP message when sensitive; `appendix` is then empty.
    appendix_encrypted = models.TextField(blank=True)
    appendix_recipients = models.JSONField(default=list, blank=True)
    embargoed = models.BooleanField(default=False)
    published_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Report of incident {self.incident_id}"
