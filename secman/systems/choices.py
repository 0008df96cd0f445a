"""The vocabulary of chapter 3 (SP/SM 3.1, 3.2) as the Systems Administrators speak it."""

from __future__ import annotations

from django.db import models


class SystemKind(models.TextChoices):
    PHYSICAL = "physical", "Physical machine"
    VM = "vm", "Virtual machine"
    CONTAINER = "container", "Container"


class Criticality(models.TextChoices):
    """SP 1.1: a critical system is added by Board decision; the rest is infrastructure."""

    CRITICAL = "critical", "Critical"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"


class SystemStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    INSTALLED = "installed", "Installed, not yet inspected"
    IN_SERVICE = "in_service", "In service"
    RETIRED = "retired", "Retired"


class Network(models.TextChoices):
    """The networks an address of infradocs lives on (:IP Internet:, :IP Intranet:, ...)."""

    INTERNET = "internet", "Internet"
    INTRANET = "intranet", "Intranet"
    INTERNAL = "internal", "Internal"


class Direction(models.TextChoices):
    INGRESS = "ingress", "Ingress (listening)"
    EGRESS = "egress", "Egress (outbound)"


class Protocol(models.TextChoices):
    TCP = "tcp", "TCP"
    UDP = "udp", "UDP"
    ICMP = "icmp", "ICMP"


class FlowStatus(models.TextChoices):
    """SP 3.1.1.2: a new or changed connectivity is requested, and takes effect only when
    the Systems Administration team leader approves."""

    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved (in effect)"
    REFUSED = "refused", "Refused"
    ENDED = "ended", "Ended"


class Encryption(models.TextChoices):
    ENABLED = "enabled", "Enabled at install"
    DISABLED = "disabled", "Not enabled"
    UNKNOWN = "unknown", "Not known"


class PatchStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved by the team leader"
    APPLIED = "applied", "Applied under four eyes"
    REPORTED = "reported", "Reported to the SA list"
    WITHDRAWN = "withdrawn", "Withdrawn"
