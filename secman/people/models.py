from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.roles import TEAM_ROLES, Role, TeamKind
from secman.core.validation import TEXT_MAX
from secman.people.choices import ChangeKind, ListKind, ProposalStatus


def today() -> dt.date:
    return timezone.localdate()


class Person(models.Model):
    """A member of the community who holds or held a role (SP 1.1.1, 9.1)."""

    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    member_number = models.CharField(
        max_length=40, blank=True, help_text="Community membership number, if any."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="person",
        help_text="The login account of this person, if they have one.",
    )
    # Key Persons List (SP 9.1.4.3, 10.1): restricted to the Board, the Arbitrator and
    # the person themself; see people.selectors.can_see_contact_details.
    phone = models.CharField(max_length=60, blank=True)
    chat_handle = models.CharField(max_length=120, blank=True)
    emergency_contact = models.TextField(blank=True, max_length=2_000)
    # The person's OpenPGP public key (ASCII armour): the Key Persons List is encrypted to
    # it (SM 6.4), and so is a sensitive incident report's appendix (SM 4.4.3).
    openpgp_key = models.TextField(blank=True, max_length=100_000)
    openpgp_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    CONTACT_FIELDS = ("phone", "chat_handle", "emergency_contact")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["member_number"],
                condition=~Q(member_number=""),
                name="person_member_number_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:person", args=[self.pk])


class Team(models.Model):
    kind = models.CharField(max_length=40, choices=TeamKind.choices, unique=True)
    name = models.CharField(max_length=120)
    purpose = models.TextField(blank=True, max_length=TEXT_MAX)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:team", args=[self.kind])

    @property
    def roles(self) -> tuple[Role, ...]:
        return TEAM_ROLES[self.kind]


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self, on: dt.date | None = None) -> MembershipQuerySet:
        on = on or today()
        return self.filter(Q(end__isnull=True) | Q(end__gt=on), start__lte=on)

    def active_from(self, start: dt.date) -> MembershipQuerySet:
        """Rows active on any day from `start` on: those an open-ended membership starting
        then would overlap, including rows that start later."""
        return self.filter(Q(end__isnull=True) | Q(end__gt=start))


class Membership(models.Model):
    """A person's time in a team, in one role. Never rewritten: a change of role or of
    leadership ends this row and starts a new one, so the history stays readable."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=40, choices=Role.choices)
    is_leader = models.BooleanField(default=False)
    start = models.DateField(default=today)
    end = models.DateField(null=True, blank=True, help_text="First day no longer active.")
    authority = models.ForeignKey(
        "authority.Authority", on_delete=models.PROTECT, related_name="+"
    )
    end_authority = models.ForeignKey(
        "authority.Authority", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    end_reason = models.CharField(max_length=200, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team", "-is_leader", "person__name", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="membership_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        leader = ", team leader" if self.is_leader else ""
        return f"{self.person} in {self.team} ({self.get_role_display()}{leader})"

    def is_active(self, on: dt.date | None = None) -> bool:
        on = on or today()
        return self.start <= on and (self.end is None or self.end > on)


class AccessList(models.Model):
    """One of the SP 3.4.2 access control lists. The rows are made by a migration from
    people.rules; the rules themselves stay in code."""

    kind = models.CharField(max_length=40, choices=ListKind.choices, unique=True)
    name = models.CharField(max_length=120)
    who = models.CharField(max_length=40, choices=Role.choices)
    purpose = models.CharField(max_length=200)
    relationship = models.CharField(max_length=200)
    manager = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="managed_lists")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:list", args=[self.kind])


class ListEntryQuerySet(models.QuerySet["ListEntry"]):
    def active(self) -> ListEntryQuerySet:
        return self.filter(removed_at__isnull=True)


class ListEntry(models.Model):
    """A person on a list, from the approval that added them to the one that removed them."""

    access_list = models.ForeignKey(AccessList, on_delete=models.PROTECT, related_name="entries")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="list_entries")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        "ListChangeProposal", on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        "ListChangeProposal", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        ordering = ["access_list", "person__name", "added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access_list", "person"],
                condition=Q(removed_at__isnull=True),
                name="one_active_entry_per_person_and_list",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} on {self.access_list}"


class ListChangeProposal(models.Model):
    """A change of personnel on an access list; it takes effect only when the Board
    approves it (SP 3.4.2: "All changes of personnel to the above lists are subject to
    Board approval")."""

    access_list = models.ForeignKey(
        AccessList, on_delete=models.PROTECT, related_name="proposals"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(max_length=10, choices=ChangeKind.choices)
    reason = models.TextField(max_length=TEXT_MAX)
    proposed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    authority = models.ForeignKey(
        "authority.Authority", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    decision = models.ForeignKey(
        "authority.BoardDecision", on_delete=models.PROTECT, null=True, blank=True,
        related_name="list_proposals",
    )
    decided_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            # Two open proposals for the same change would let the Board approve it twice.
            models.UniqueConstraint(
                fields=["access_list", "person", "change"],
                condition=Q(status="pending"),
                name="one_pending_proposal_per_change",
            )
        ]

    def __str__(self) -> str:
        verb = "add" if self.change == ChangeKind.ADD else "remove"
        prep = "to" if self.change == ChangeKind.ADD else "from"
        return f"Proposal #{self.pk}: {verb} {self.person} {prep} the {self.access_list}"

    def get_absolute_url(self) -> str:
        return reverse("people:proposal", args=[self.pk])
