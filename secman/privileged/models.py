"""Privileged access (SP/SM 3.4, 4.1.1, 9.1.7): the accounts on each system and the SSH
keys of each person, the authentication schemes, temporary grants, the privileged
secrets (never their values), removals of access, and the termination checklists.

Only the services of secman.privileged change these rows; each change is an Event Log
entry, which is also the register's history. What the machines really hold comes from
the host agent's reports (systems.AgentReport): the checks compare the two."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from secman.core.validation import TEXT_MAX
from secman.privileged.choices import (
    AccessPath,
    AccountKind,
    ChecklistStatus,
    ChecklistTrigger,
    RemovalEvent,
    RemovalStatus,
    RotationReason,
    SecretKind,
    SecretWeight,
)


class SshKey(models.Model):
    """A person's SSH public key, known by its SHA-256 fingerprint (what `ssh-keygen -l`
    prints and the agent reports). A fingerprint belongs to one person for ever: a
    blocked key stays theirs, so finding it on a system later is still attributed."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="ssh_keys")
    fingerprint = models.CharField(max_length=60, unique=True,
                                   help_text="SHA256:… as ssh-keygen -l prints it")
    key_type = models.CharField(max_length=40, help_text="ssh-ed25519, ssh-rsa, …")
    bits = models.PositiveIntegerField(null=True, blank=True)
    comment = models.CharField(max_length=200, blank=True)
    # The public key itself when it was given (public: no secret); a key registered by
    # fingerprint alone has none.
    public_key = models.TextField(max_length=TEXT_MAX, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    # SM 9.1.7 step 1: "SSH public keys of that person are blocked".
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    block_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["person__name", "added_at"]
        verbose_name = "SSH key"

    def __str__(self) -> str:
        return f"{self.key_type} {self.fingerprint} ({self.person})"


class Account(models.Model):
    """An account on a system as the register documents it: a personal named account
    (one per sysadmin, SM 3.4.3), a privileged account or a service account (SM 4.1.1:
    configured not to permit login)."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="accounts")
    username = models.CharField(max_length=32)
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    # The owner of a personal account; empty for privileged and service accounts.
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="accounts")
    purpose = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["system__name", "username"]
        constraints = [
            models.UniqueConstraint(fields=["system", "username"],
                                    condition=Q(removed_at__isnull=True),
                                    name="one_live_account_per_name_and_system"),
            # SM 3.4.3: one personal named account per sysadmin (on each system).
            models.UniqueConstraint(fields=["system", "person"],
                                    condition=Q(removed_at__isnull=True, kind="personal"),
                                    name="one_personal_account_per_person_and_system"),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.system}"


class AdminOrigin(models.Model):
    """Where administrators may come from over SSH (SM 3.4.3: "via SSH to the hop
    machine ... and from there to the critical server(s)"): a system (the hop machine)
    or a network. An ingress SSH flow from anywhere else is a finding."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    network = models.CharField(max_length=50, blank=True, help_text="CIDR, 192.0.2.0/28")
    description = models.CharField(max_length=200)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.CheckConstraint(
            condition=Q(system__isnull=False, network="") | Q(system__isnull=True)
            & ~Q(network=""), name="admin_origin_is_a_system_or_a_network")]

    def __str__(self) -> str:
        return str(self.system) if self.system_id else self.network


class AuthenticationScheme(models.Model):
    """SP 3.4.3 "All authentication schemes must be documented": per system and access
    path, what authenticates and what is refused."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="authentication_schemes")
    path = models.CharField(max_length=20, choices=AccessPath.choices)
    # The hop machine an SSH_HOP path goes through.
    via = models.ForeignKey("systems.System", on_delete=models.PROTECT, null=True,
                            blank=True, related_name="+")
    authenticates = models.TextField(max_length=TEXT_MAX,
                                     help_text="What authenticates (keys, passphrase, …).")
    refused = models.TextField(max_length=TEXT_MAX,
                               help_text="What is refused (passwords, root logins, …).")
    ip_blocking = models.BooleanField(default=False)
    documented_at = models.DateTimeField(default=timezone.now)
    documented_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    # A scheme is replaced, not edited: the old row ends when the new one is documented.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system__name", "path"]
        constraints = [models.UniqueConstraint(fields=["system", "path"],
                                               condition=Q(ended_at__isnull=True),
                                               name="one_live_scheme_per_system_and_path")]

    def __str__(self) -> str:
        return f"{self.system}: {self.get_path_display()}"


class TemporaryGrant(models.Model):
    """SP 4.1.1.1: the Systems Administration team leader "may temporarily permit
    Software Assessors access to the application via SSH in order to do advanced
    debugging, or as specifically directed by the Arbitrator". Always with an end."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="temporary_grants")
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="temporary_grants")
    reason = models.TextField(max_length=TEXT_MAX)
    granted_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                   related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="grant_ends_after_it_starts")]

    def __str__(self) -> str:
        return f"{self.person} on {self.system} until {self.ends_at:%Y-%m-%d %H:%M}"


class Secret(models.Model):
    """A privileged secret, never its value: what it is, where it is used, who knows it
    and when it was last changed (SM 4.1.1, 9.1.7 steps 2-3)."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=SecretKind.choices)
    weight = models.CharField(max_length=6, choices=SecretWeight.choices,
                              default=SecretWeight.MAJOR)
    systems = models.ManyToManyField("systems.System", related_name="secrets", blank=True)
    where_used = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    # The newest SecretRotation's time, kept here so the checks read one row.
    last_rotated_at = models.DateTimeField(null=True, blank=True)
    # Retired: no longer in use anywhere (its system retired, the service replaced). Kept
    # with its rotations and holders; it is then never due.
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    retire_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SecretHolder(models.Model):
    """A person who knows a secret, from when until when. Someone who stopped knowing it
    (left, moved team) still knows what it was: the secret is due for rotation."""

    secret = models.ForeignKey(Secret, on_delete=models.PROTECT, related_name="holders")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="secrets_held")
    since = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["secret", "person__name"]
        constraints = [models.UniqueConstraint(fields=["secret", "person"],
                                               condition=Q(until__isnull=True),
                                               name="one_live_holding_per_person_and_secret")]

    def __str__(self) -> str:
        return f"{self.person} knows {self.secret}"


class SecretRotation(models.Model):
    """One change of a secret (SM 4.1.1: "Changes should be logged to the Event Log").
    The new value is nowhere in secman."""

    secret = models.ForeignKey(Secret, on_delete=models.PROTECT, related_name="rotations")
    rotated_at = models.DateTimeField(default=timezone.now)
    rotated_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    reason = models.CharField(max_length=12, choices=RotationReason.choices)
    note = models.CharField(max_length=300, blank=True)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["-rotated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.secret} changed {self.rotated_at:%Y-%m-%d}"


class AccessRemoval(models.Model):
    """SM 3.4.4: on the listed events "a person's access to CAcert systems may be
    temporarily removed. The removal is made permanent when the Board approves the
    change to the Access List." The proposals filed for that approval are kept."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="access_removals")
    event = models.CharField(max_length=12, choices=RemovalEvent.choices)
    reason = models.TextField(max_length=TEXT_MAX)
    removed_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    status = models.CharField(max_length=10, choices=RemovalStatus.choices,
                              default=RemovalStatus.TEMPORARY)
    # The removals from the lists the Board is asked to approve.
    proposals = models.ManyToManyField("people.ListChangeProposal", blank=True,
                                       related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-removed_at", "-id"]

    def __str__(self) -> str:
        return f"access of {self.person} removed {self.removed_at:%Y-%m-%d}"


class TerminationChecklist(models.Model):
    """SM 9.1.7, opened when a membership ends, a person leaves a list, moves team, or
    their access is removed; on the team leader's Today until closed."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="termination_checklists")
    trigger = models.CharField(max_length=20, choices=ChecklistTrigger.choices)
    # Whose leader sees it: the team the person left (or whose list they left).
    team = models.ForeignKey("people.Team", on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("people.Membership", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    list_entry = models.ForeignKey("people.ListEntry", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    removal = models.ForeignKey(AccessRemoval, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="checklists")
    opened_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=ChecklistStatus.choices,
                              default=ChecklistStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["person", "team"],
                                               condition=Q(status="open"),
                                               name="one_open_checklist_per_person_and_team")]

    def __str__(self) -> str:
        return f"checklist #{self.pk} for {self.person}"


class ChecklistStep(models.Model):
    """One of SM 9.1.7's steps (choices.CHECKLIST_STEPS) on one checklist, done with
    evidence: a text, and for step 1 the agent report that shows the keys gone."""

    checklist = models.ForeignKey(TerminationChecklist, on_delete=models.PROTECT,
                                  related_name="steps")
    number = models.PositiveSmallIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    evidence = models.TextField(max_length=TEXT_MAX, blank=True)
    reports = models.ManyToManyField("systems.AgentReport", blank=True, related_name="+")

    class Meta:
        ordering = ["checklist", "number"]
        constraints = [models.UniqueConstraint(fields=["checklist", "number"],
                                               name="one_step_per_number_and_checklist")]

    def __str__(self) -> str:
        return f"step {self.number} of {self.checklist}"
