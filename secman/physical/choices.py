from __future__ import annotations

from django.db import models


class ComputerStatus(models.TextChoices):
    ACQUIRED = "acquired", "Acquired"
    INVENTORIED = "inventoried", "Inventoried"
    IN_SERVICE = "in_service", "In service"
    MAINTENANCE = "maintenance", "Under service or maintenance"
    MUST_RETIRE = "must_retire", "Must retire (service security risk)"
    RETIRED = "retired", "Retired"


class MediaType(models.TextChoices):
    HDD = "hdd", "Hard disk drive"
    SSD = "ssd", "Solid-state drive"
    TAPE = "tape", "Tape"
    USB = "usb", "USB stick"
    OPTICAL = "optical", "Optical disc"
    CARD = "card", "Memory card"
    OTHER = "other", "Other removable media"


class MediaStatus(models.TextChoices):
    PROVISIONED = "provisioned", "Provisioned (erased and reformatted)"
    IN_USE = "in_use", "In use"
    STORED = "stored", "Stored (erased)"
    REUSED = "reused", "Reused in a critical system"
    RETIRED = "retired", "Retired"


class RetirementMethod(models.TextChoices):
    """SM 2.2.3 "in order of preference"."""

    DESTROYED = "destroyed", "Rendered unreadable by physical destruction"
    LICENSED_DISPOSAL = "licensed_disposal", "Disposed of via a licensed disposal facility"
    SEALED = "sealed", "Sealed and stored until the data has expired"
