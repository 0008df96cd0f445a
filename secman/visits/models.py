from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import TEXT_MAX
from secman.visits.choices import DeviceKind, OnSiteRole, ReportKind, VisitStatus


class Visit(models.Model):
    """A physical visit to the equipment (SP 2.3): requested, authorised (SM 2.3.1), carried
    out under dual control, reported by the accessor and the Access Engineer (SP 4.2.4)
    and closed. An emergency visit (SP 2.3.4) is recorded after the fact and waits for an
    Arbitrator's ruling."""

    purpose = models.TextField(max_length=TEXT_MAX)
    systems = models.TextField(max_length=2_000, help_text="The systems concerned, as text.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    logical_access = models.BooleanField(
        default=True,
        help_text="Logical access to critical servers is needed: a Systems Administrator "
        "must be on site (SM 2.3.2).",
    )
    requested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=VisitStatus.choices,
                              default=VisitStatus.REQUESTED)
    # SM 2.3.1: per Appendix B of the hosting MoU as kept by the Boards.
    authorisation_reference = models.CharField(max_length=200, blank=True)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    authorised_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    authorised_at = models.DateTimeField(null=True, blank=True)
    is_emergency = models.BooleanField(default=False)
    circumstances = models.TextField(blank=True, max_length=TEXT_MAX)
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             null=True, blank=True, related_name="+",
                             help_text="The dispute filed for an emergency access.")
    ruling = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                               null=True, blank=True, related_name="+",
                               help_text="The ruling that authorised it after the fact.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=models.F("window_start")),
                                   name="visit_window_ends_after_start"),
        ]

    def __str__(self) -> str:
        kind = "Emergency visit" if self.is_emergency else "Visit"
        return f"{kind} #{self.pk} on {self.window_start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("visits:visit", args=[self.pk])

    @property
    def awaiting_ruling(self) -> bool:
        return self.is_emergency and self.ruling_id is None


class Participant(models.Model):
    """A person on site during a visit, with their check-in and check-out times."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="participants")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30, choices=OnSiteRole.choices)
    # SM 2.3.2: "Access Engineers do not access the data."
    accesses_data = models.BooleanField()
    checked_in_at = models.DateTimeField()
    checked_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "person"], name="one_participation"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="participant_out_after_in",
            ),
            models.CheckConstraint(
                condition=~Q(role=OnSiteRole.ACCESS_ENGINEER, accesses_data=True),
                name="access_engineers_do_not_access_data",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()})"


class VisitReport(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=TEXT_MAX)
    filed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["filed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "kind"], name="one_report_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.author})"


class Device(models.Model):
    """A physical security code or device (SP/SM 2.3.5). A code is registered by its
    existence only: its value is never stored."""

    kind = models.CharField(max_length=20, choices=DeviceKind.choices)
    label = models.CharField(max_length=120, unique=True,
                             help_text='What it is, e.g. "Rack 12 key #1". Never a code.')
    controlling_party = models.CharField(
        max_length=200, help_text="Who controls it, e.g. the hosting company for the card "
        "access system and the eye scanner.")
    copies_permitted = models.BooleanField(
        default=False, help_text="Rack lock keys are registered and may not be copied.")
    notes = models.TextField(blank=True, max_length=TEXT_MAX)
    registered_at = models.DateTimeField(default=timezone.now)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["kind", "label"]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("visits:device", args=[self.pk])


class HoldingQuerySet(models.QuerySet["Holding"]):
    def current(self) -> HoldingQuerySet:
        return self.filter(returned_at__isnull=True)


class Holding(models.Model):
    """Who holds a device or knows a code, from issue to return."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="holdings")
    holder = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    authorisation_reference = models.CharField(max_length=200)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")

    objects = HoldingQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "holder"],
                                    condition=Q(returned_at__isnull=True),
                                    name="one_current_holding_per_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.device} held by {self.holder}"
