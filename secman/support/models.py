"""Channels, Arbitrator instructions, support actions, the Triage roster and the decisions
to file (SP/SM 8)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from secman.support.choices import ActionKind, AuthorityKind, ChannelKind, FilingDecision


class Channel(models.Model):
    """SM 8.3: where support requests come in; SM 8.4 "All support channels should be
    logged"."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    address = models.CharField(max_length=200)
    logged = models.BooleanField(help_text="Its traffic is logged and kept.")
    logging = models.CharField(max_length=300, blank=True, help_text="Where and how.")
    in_use = models.BooleanField(default=True)
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Instruction(models.Model):
    """An Arbitrator's instruction to Support under a case, with the TOKEN (SM 8.4) the
    Support Engineer quotes when acting on it."""

    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             related_name="support_instructions")
    token = models.CharField(max_length=40, unique=True)
    member = models.CharField(max_length=200, help_text="The account concerned.")
    instruction = models.CharField(max_length=500)
    issued_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.token} ({self.case.number})"


class SupportAction(models.Model):
    """One action on a Member's account and its authority (SP 8.1-8.2): the Member's own
    request (channel, message) or an Arbitrator's instruction (token)."""

    member = models.CharField(max_length=200, help_text="The account: email or number.")
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    role = models.CharField(max_length=40, blank=True)
    member_is_assurer = models.BooleanField(default=False)
    authority_kind = models.CharField(max_length=20, choices=AuthorityKind.choices)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    message_reference = models.CharField(max_length=200, blank=True)
    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="actions")
    # SP 8: "use of restricted interfaces must be logged".
    interface = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)
    performed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    performed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.member}"


class TriageMember(models.Model):
    """SM 8.2.3: first responders appointed by the Support team leader; Assurers who agreed
    to the SP and SM; no special access."""

    name = models.CharField(max_length=200)
    email = models.EmailField()
    assurer = models.BooleanField()
    agreed_at = models.DateField(help_text="When they agreed to be covered by the SP and SM.")
    appointed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    appointed_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Filing(models.Model):
    """SM 8.5: a decision to file a dispute, or not to, on a support request; reviewed by
    the Support team leader weekly."""

    request_reference = models.CharField(max_length=200)
    decision = models.CharField(max_length=10, choices=FilingDecision.choices)
    reason = models.CharField(max_length=500)
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    decided_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.request_reference}"


class AdHocQuery(models.Model):
    """SP 3.3: "Requests for ad hoc queries over the application database for business or
    similar purposes must be approved by the Arbitrator": the exact query, approved under
    a case before it runs, and what was done with its result."""

    purpose = models.CharField(max_length=500)
    query = models.TextField(max_length=20_000, help_text="The exact query to run.")
    requested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    case = models.ForeignKey("authority.ArbitrationCase", on_delete=models.PROTECT,
                             related_name="+")
    approved_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    refused = models.BooleanField(default=False)
    run_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    run_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    result_handling = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name_plural = "ad hoc queries"

    def __str__(self) -> str:
        return f"Query {self.pk}: {self.purpose[:60]}"
