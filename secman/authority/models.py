from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.authority.choices import CaseStatus, SignOffStatus, Vote
from secman.core.authorities import AuthorityKind, Document
from secman.core.roles import Role
from secman.core.validation import LONG_TEXT_MAX, TEXT_MAX


class ArbitrationCase(models.Model):
    """A case under the Dispute Resolution Policy, e.g. `a20090525.1`."""

    number = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.FILED)
    arbitrator = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_manager = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filed_on = models.DateField()
    ruled_on = models.DateField(null=True, blank=True)
    ruling_summary = models.TextField(blank=True, max_length=TEXT_MAX)

    class Meta:
        ordering = ["-filed_on", "-number"]
        constraints = [
            # SP 9.1.4: a separate Case Manager provides the four eyes.
            models.CheckConstraint(
                condition=Q(arbitrator__isnull=True)
                | Q(case_manager__isnull=True)
                | ~Q(arbitrator=models.F("case_manager")),
                name="case_manager_is_not_the_arbitrator",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("authority:case", args=[self.number])


class BoardDecision(models.Model):
    """A decision of the Board as minuted, e.g. `m20100222.1`, with its votes. The minutes
    authorise nothing until a second Board member has confirmed them (SP 1.2: two
    people): one types the votes in, another checks them."""

    minute_id = models.CharField(max_length=20, unique=True)
    decided_on = models.DateField()
    title = models.CharField(max_length=300)
    text = models.TextField(max_length=LONG_TEXT_MAX)
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_on", "-minute_id"]
        constraints = [
            # Confirmed means both who and when; and never by the one who recorded them.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | (Q(confirmed_by__isnull=False, confirmed_at__isnull=False)
                   & ~Q(confirmed_by=models.F("recorded_by"))),
                name="minutes_confirmed_by_a_second_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.minute_id} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("authority:decision", args=[self.minute_id])

    def tally(self) -> dict[str, int]:
        counts = {vote.value: 0 for vote in Vote}
        for vote in self.votes.all():
            counts[vote.vote] += 1
        return counts

    @property
    def carried(self) -> bool:
        counts = self.tally()
        return counts[Vote.AYE] > counts[Vote.NAYE]

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class BoardVote(models.Model):
    decision = models.ForeignKey(BoardDecision, on_delete=models.PROTECT, related_name="votes")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(max_length=8, choices=Vote.choices)

    class Meta:
        ordering = ["person__name"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "person"], name="one_vote_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_vote_display()}"


class Authority(models.Model):
    """What authorises an action: a section of the SP/SM, an Arbitration case or a Board
    decision. One row per distinct reference, shared by every action that cites it."""

    reference = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=AuthorityKind.choices)
    document = models.CharField(max_length=2, choices=Document.choices, blank=True)
    section = models.CharField(max_length=40, blank=True)
    case = models.ForeignKey(
        ArbitrationCase, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.ForeignKey(
        BoardDecision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "authorities"
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=AuthorityKind.SECTION, case__isnull=True, decision__isnull=True)
                    & ~Q(section="")
                )
                | Q(kind=AuthorityKind.ARBITRATION, case__isnull=False, decision__isnull=True)
                | Q(kind=AuthorityKind.BOARD_DECISION, case__isnull=True, decision__isnull=False),
                name="authority_points_at_one_thing",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        if self.case_id:
            return reverse("authority:case", args=[self.reference])
        if self.decision_id:
            return reverse("authority:decision", args=[self.reference])
        return ""


class SignOffRequest(models.Model):
    """An action that needs more than one person (SP 1.2: dual control, four eyes).

    `requirement` is what the action declared (see authority.signoff.Requirement): named
    slots, each to be filled by a distinct person holding one of the slot's roles. The
    action stays pending until every slot is filled; then the handler registered for
    `action` runs in the same transaction."""

    action = models.CharField(max_length=80)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, max_length=TEXT_MAX)
    requirement = models.JSONField()
    payload = models.JSONField(default=dict, blank=True)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=SignOffStatus.choices, default=SignOffStatus.PENDING
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Sign-off #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("authority:signoff", args=[self.pk])

    @property
    def is_expired(self) -> bool:
        return self.status == SignOffStatus.PENDING and timezone.now() >= self.expires_at

    @property
    def state(self) -> str:
        """What a reader should see: pending, complete, withdrawn or expired."""
        return "expired" if self.is_expired else self.status


class SignOff(models.Model):
    request = models.ForeignKey(SignOffRequest, on_delete=models.PROTECT, related_name="signoffs")
    slot = models.CharField(max_length=40)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=40, choices=Role.choices)
    signed_at = models.DateTimeField(default=timezone.now)
    comment = models.CharField(max_length=500, blank=True)
    # How the signature came (core.channel): "web", "api" or "cli", and for "cli" the
    # operating-system user who ran the command. `--as` lets the server's operator sign
    # as anyone; this lets sign() refuse one operator filling two slots of a request.
    # Empty on signatures made before it was kept, or by a service called directly.
    channel = models.CharField(max_length=10, blank=True)
    os_user = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            # Distinct people: nobody fills two slots, so the executor is never the observer.
            models.UniqueConstraint(
                fields=["request", "person"], name="signoff_by_distinct_people"
            ),
            models.UniqueConstraint(fields=["request", "slot"], name="one_signoff_per_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.person} as {self.slot}"
