"""The systems register (SP 1.1, 3.1, 3.2): every system, its addresses and names, the
flows it is documented to accept and initiate, the network diagram's revisions, the
facts its host agent reports, and the patches and configuration changes made to it.

Only systems.services (and the split service modules it names) change these rows; each
change is an Event Log entry, which is also the register's history."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import TEXT_MAX
from secman.systems.choices import (
    Criticality,
    Direction,
    Encryption,
    FlowStatus,
    Network,
    PatchStatus,
    Protocol,
    SystemKind,
    SystemStatus,
)


class System(models.Model):
    """A physical machine, virtual machine or container that a Systems Administrator
    runs. A critical one is added by Board decision (SP 1.1)."""

    name = models.CharField(max_length=63, unique=True,
                            help_text="Host name as the administrators call it (webdb).")
    kind = models.CharField(max_length=12, choices=SystemKind.choices)
    host = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="guests",
                             help_text="The system a VM or container runs on.")
    # A physical machine is a computer of the physical register (SP 2.2.1).
    computer = models.ForeignKey("physical.Computer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    criticality = models.CharField(max_length=16, choices=Criticality.choices,
                                   default=Criticality.INFRASTRUCTURE)
    # The Board decision that made the system critical (SP 1.1).
    critical_authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                           null=True, blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=SystemStatus.choices,
                              default=SystemStatus.IN_SERVICE)
    purpose = models.TextField(max_length=TEXT_MAX, blank=True)
    # SP 1.2 redundancy: a system with fewer than two administrators is a finding.
    primary_admin = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    secondary_admin = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    # Administrators named in the documentation who are not (yet) in the people register.
    unresolved_admins = models.JSONField(default=list, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    os_name = models.CharField(max_length=60, blank=True, help_text="Debian GNU/Linux")
    os_release = models.CharField(max_length=20, blank=True, help_text="12.5")
    disk_encryption = models.CharField(max_length=10, choices=Encryption.choices,
                                       default=Encryption.UNKNOWN)
    # SP 3.2.2: options and packages chosen at install are documented, and a newly
    # installed system is inspected before it enters service.
    build_document = models.CharField(max_length=300, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    inspected_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    inspection_notes = models.TextField(max_length=TEXT_MAX, blank=True)
    # What the documentation lists that secman keeps as written (rows of dicts).
    monitoring = models.JSONField(default=list, blank=True)
    running_services = models.JSONField(default=list, blank=True)
    databases = models.JSONField(default=list, blank=True)
    applications = models.JSONField(default=list, blank=True)
    ssh_host_keys = models.JSONField(default=list, blank=True)
    macs = models.JSONField(default=list, blank=True)
    # The systems the documentation says this one is connected to (names, as written).
    connected_systems = models.JSONField(default=list, blank=True)
    # Where the record came from: "infradocs/systems/web.rst" or "" (entered by hand).
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("systems:system", args=[self.name])


class Address(models.Model):
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="addresses")
    network = models.CharField(max_length=10, choices=Network.choices)
    address = models.GenericIPAddressField(unpack_ipv4=False)
    interface = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["network", "address"]
        constraints = [models.UniqueConstraint(fields=["system", "address"],
                                               name="address_once_per_system")]

    def __str__(self) -> str:
        return self.address

    @property
    def version(self) -> int:
        return 6 if ":" in self.address else 4


class DnsRecord(models.Model):
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="dns_records")
    name = models.CharField(max_length=253)
    rtype = models.CharField(max_length=10)
    content = models.CharField(max_length=500)

    class Meta:
        ordering = ["name", "rtype", "content"]
        constraints = [models.UniqueConstraint(fields=["system", "name", "rtype", "content"],
                                               name="dns_record_once")]

    def __str__(self) -> str:
        return f"{self.name} {self.rtype} {self.content}"


class Flow(models.Model):
    """One documented flow of SM 3.1.2: a port the system listens on (ingress: port,
    protocol, service, origin, purpose) or a connection it initiates (egress:
    destination, port, protocol, purpose). Only approved flows are in effect: they are
    what the firewall allows and what drift is measured against."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="flows")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    protocol = models.CharField(max_length=4, choices=Protocol.choices,
                                default=Protocol.TCP)
    # None: any port (an egress flow to a host on every port, ICMP).
    port = models.PositiveIntegerField(null=True, blank=True)
    port_end = models.PositiveIntegerField(null=True, blank=True,
                                           help_text="Last port of a range.")
    service = models.CharField(max_length=60, blank=True)
    # Ingress: the origin; egress: the destination. "ANY", "local", an address or
    # network, or a system's name (then peer_system is that system).
    peer = models.CharField(max_length=200, blank=True)
    peer_system = models.ForeignKey(System, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    purpose = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=FlowStatus.choices,
                              default=FlowStatus.REQUESTED)
    # SP 3.1.1.1: a temporary Internet access ends; until then it is reported and logged.
    temporary_until = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # "infradocs/systems/web.rst:142" or "" (requested by hand).
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["system__name", "direction", "protocol", "port", "peer"]
        indexes = [models.Index(fields=["system", "status"], name="flow_system_status")]
        constraints = [
            models.CheckConstraint(condition=Q(port__isnull=True) | Q(port__lte=65535),
                                   name="flow_port_range"),
            models.CheckConstraint(condition=Q(port_end__isnull=True)
                                   | Q(port__isnull=False, port_end__lte=65535),
                                   name="flow_port_end_range"),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.direction} {self.port_label} {self.peer}".strip()

    @property
    def port_label(self) -> str:
        if self.port is None:
            return f"any/{self.protocol}"
        if self.port_end:
            return f"{self.port}-{self.port_end}/{self.protocol}"
        return f"{self.port}/{self.protocol}"


class DiagramRevision(models.Model):
    """A revision of the network diagram (SP 3.1.1): drawn from the register whenever an
    approved change alters what it shows; kept, never overwritten."""

    number = models.PositiveIntegerField(unique=True)
    dot = models.TextField()
    svg = models.TextField()
    # SHA-256 of what the diagram shows (systems, addresses, flows in effect): an
    # unchanged register draws no new revision.
    digest = models.CharField(max_length=64)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"network diagram r{self.number}"


class AgentToken(models.Model):
    """The credential one system's host agent posts its reports with. Only a SHA-256 of
    the token is stored; `prefix` (its first characters) lets people tell tokens apart."""

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="agent_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["system"],
                                               condition=Q(revoked_at__isnull=True),
                                               name="one_live_agent_token_per_system")]

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.system}"


class AgentReport(models.Model):
    """What a host agent found on its system at one time. Facts are history: every report
    is kept, and drift compares the newest with the register."""

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="reports")
    token = models.ForeignKey(AgentToken, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    collected_at = models.DateTimeField(null=True, blank=True)
    facts = models.JSONField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # What drift needs, worked out once when the report arrives (systems.drift.derive):
    # the exposed listening sockets, the encryption state, a digest per configuration
    # section, when each pending security update was first seen, configuration changes
    # since earlier reports not yet backed by a record, the drift findings at arrival. So
    # evaluating 500 systems reads these few keys, not every report's package list.
    derived = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["system", "-received_at"], name="report_newest")]

    def __str__(self) -> str:
        return f"{self.system} report of {self.received_at:%Y-%m-%d %H:%M}"


class Patch(models.Model):
    """A security patch (SP 3.2.3): approved by the Systems Administration team leader,
    applied under four eyes, reported to the SA list, followed by a full encrypted
    backup of each patched system (SM 3.2.3). An emergency patch (SP 3.2.3.1) may be
    applied first; the team leader then approves it (or instructs remedial action) and
    refers it to dispute resolution."""

    advisory = models.CharField(max_length=60, help_text="DSA-5678-1, CVE-2026-1234")
    title = models.CharField(max_length=300)
    packages = models.JSONField(default=list, blank=True)
    systems = models.ManyToManyField(System, related_name="patches")
    emergency = models.BooleanField(default=False)
    # SP 3.2.3.1: why this is an emergency (a known remote exploit).
    exploit = models.TextField(max_length=TEXT_MAX, blank=True)
    status = models.CharField(max_length=10, choices=PatchStatus.choices,
                              default=PatchStatus.PROPOSED)
    proposed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                    related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    # The four-eyes sign-off of the application (SP 4.1).
    signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # The dispute an emergency patch is referred to (SP 3.2.3.1).
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             null=True, blank=True, related_name="+")
    # Set when the full encrypted backup after the patch is recorded (the backups
    # chapter); until then the patch is a finding (SM 3.2.3).
    backup_recorded_at = models.DateTimeField(null=True, blank=True)
    # What the backup is known by (the backup's name or the backups register's entry).
    backup_reference = models.CharField(max_length=200, blank=True)
    # SP 3.2.3.1: instead of approving an emergency patch applied before approval, the
    # team leader may instruct remedial action; either is the team leader's decision.
    remedial_action = models.TextField(max_length=TEXT_MAX, blank=True)
    remedial_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    remedial_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(max_length=TEXT_MAX, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name_plural = "patches"

    def __str__(self) -> str:
        return f"{self.advisory} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("systems:patch", args=[self.pk])


class ConfigurationChange(models.Model):
    """A change of a system's configuration, recorded with the RCS/git reference it is
    kept under (SM 4.1.3: all changes recorded through RCS)."""

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="changes")
    summary = models.CharField(max_length=300)
    rcs_reference = models.CharField(max_length=200,
                                     help_text="Commit or revision (cacert-puppet@1a2b3c4).")
    # What the agent's facts show this change to cover ("ports", "packages", "sshd",
    # "sudoers", "accounts", "authorized_keys", "ruleset"): a difference between two
    # reports that no change covers is a finding.
    covers = models.JSONField(default=list, blank=True)
    made_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.system}: {self.summary}"
