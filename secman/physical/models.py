from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import TEXT_MAX
from secman.physical.choices import (
    ComputerStatus,
    MediaStatus,
    MediaType,
    RetirementMethod,
)


class Facility(models.Model):
    """A hosting facility (SP/SM 2.1). Its description lives in revisions: a change adds
    one, so the history is never overwritten."""

    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("physical:facility", args=[self.pk])

    @property
    def current(self) -> FacilityRevision | None:
        return self.revisions.order_by("-recorded_at", "-id").first()


class FacilityRevision(models.Model):
    FIELDS = ("hosting_provider", "contract_references", "location_construction", "power",
              "network_connectivity", "catastrophic_event_mitigation", "rating")

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="revisions")
    hosting_provider = models.CharField(max_length=200)
    contract_references = models.TextField(max_length=TEXT_MAX,
                                           help_text="MoU, hosting contract and annexes.")
    location_construction = models.TextField(blank=True, max_length=TEXT_MAX)
    power = models.TextField(blank=True, max_length=TEXT_MAX)
    network_connectivity = models.TextField(blank=True, max_length=TEXT_MAX)
    catastrophic_event_mitigation = models.TextField(blank=True, max_length=TEXT_MAX)
    rating = models.CharField(max_length=200, blank=True, help_text="e.g. BORG class 4")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.facility} as of {self.recorded_at:%Y-%m-%d}"


class Computer(models.Model):
    """A unit of critical hardware (SP 2.2.1). Inventory fields are those SM 2.2.1 lists."""

    INVENTORY_FIELDS = ("vendor", "model", "serial_number", "maintenance_contact",
                        "rack_location", "intended_use", "nickname")

    asset_tag = models.CharField(max_length=40, unique=True)
    nickname = models.CharField(max_length=60, blank=True)
    vendor = models.CharField(max_length=120, blank=True)
    model = models.CharField(max_length=120, blank=True)
    serial_number = models.CharField(max_length=120, blank=True)
    maintenance_contact = models.CharField(max_length=200, blank=True)
    rack_location = models.CharField(max_length=120, blank=True)
    intended_use = models.CharField(max_length=300, blank=True)
    legal_owner = models.CharField(max_length=200, blank=True)
    acquisition_notes = models.TextField(
        blank=True, max_length=TEXT_MAX,
        help_text="How pre-acquisition security risks were reduced (SP 2.2.1.1).")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="computers")
    status = models.CharField(max_length=20, choices=ComputerStatus.choices,
                              default=ComputerStatus.ACQUIRED)
    retire_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["asset_tag"]
        constraints = [
            models.UniqueConstraint(fields=["nickname"], condition=~Q(nickname=""),
                                    name="computer_nickname_unique"),
            models.UniqueConstraint(fields=["vendor", "serial_number"],
                                    condition=~Q(serial_number=""),
                                    name="computer_serial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_tag} {self.nickname}".strip()

    def get_absolute_url(self) -> str:
        return reverse("physical:computer", args=[self.pk])

    def missing_inventory(self) -> list[str]:
        return [field for field in self.INVENTORY_FIELDS if not getattr(self, field)]


class Media(models.Model):
    """A storage medium (SP 2.2.3): inventoried on acquisition, tracked in its use."""

    serial_number = models.CharField(max_length=120, unique=True)
    media_type = models.CharField(max_length=20, choices=MediaType.choices)
    capacity_gb = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=MediaStatus.choices,
                              default=MediaStatus.PROVISIONED)
    location = models.CharField(max_length=200)
    holder = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    computer = models.ForeignKey(Computer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="media")
    critical_data = models.BooleanField(
        default=True, help_text="Exposed to critical data: two Systems Administrators "
        "sign off each step (SP 2.2.3.3).")
    retirement_method = models.CharField(max_length=20, choices=RetirementMethod.choices,
                                         blank=True)
    disposal_certificate = models.CharField(max_length=200, blank=True)
    seal_expiry_year = models.PositiveIntegerField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    last_erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["serial_number"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return f"{self.get_media_type_display()} {self.serial_number}"

    def get_absolute_url(self) -> str:
        return reverse("physical:media_item", args=[self.pk])


class MediaReport(models.Model):
    """SM 2.2.3: every change of status is a report: sysadmins present, steps taken,
    location of storage."""

    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="reports")
    from_status = models.CharField(max_length=20, choices=MediaStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=MediaStatus.choices)
    present = models.ManyToManyField("people.Person", related_name="+")
    steps_taken = models.TextField(max_length=TEXT_MAX)
    location = models.CharField(max_length=200)
    erased = models.BooleanField(default=False)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    reported_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    related_name="+")
    signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.media}: {self.from_status or 'new'} → {self.to_status}"
