"""Repositories, changes, their reviews and tests, and releases (SP/SM 7)."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.core.validation import TEXT_MAX
from secman.software.choices import ChangeStatus, ReleaseStatus, Risk, TestResult


class Repository(models.Model):
    """SM 7.3: the central version control; its host is a system of the register."""

    name = models.SlugField(max_length=80, unique=True)
    location = models.CharField(max_length=300, help_text="A path or URL secman can read.")
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="repositories",
                               help_text="The system hosting the version control (SM 7.3).")
    # History up to this commit is taken as it was when the repository was registered;
    # every commit after it reaches production only through a reviewed change.
    baseline = models.CharField(max_length=64)
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    added_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name


class ReviewRule(models.Model):
    """How many reviews a change of each risk needs (SP 7), set under authority."""

    risk = models.CharField(max_length=10, choices=Risk.choices, unique=True)
    reviews = models.PositiveIntegerField()
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    set_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_risk_display()}: {self.reviews}"


class Change(models.Model):
    """A patch: the commits base..head of a repository, read from git."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT,
                                   related_name="changes")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=TEXT_MAX)
    risk = models.CharField(max_length=10, choices=Risk.choices)
    base = models.CharField(max_length=64)
    head = models.CharField(max_length=64)
    # The commits as git showed them when the head was last read (authors, signatures).
    commits = models.JSONField(default=list)
    shortstat = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=ChangeStatus.choices,
                              default=ChangeStatus.SUBMITTED)
    submitted_by = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    # SM 7.4: the coding guidelines followed, and instructions for the test system.
    test_instructions = models.TextField(max_length=TEXT_MAX, blank=True)
    assessed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    assessed_at = models.DateTimeField(null=True, blank=True)
    # SP 7 "Test status of each patch must be logged": the newest test of the head.
    test_result = models.CharField(max_length=10, choices=TestResult.choices, blank=True)
    tested_commit = models.CharField(max_length=64, blank=True)
    tested_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    tested_at = models.DateTimeField(null=True, blank=True)
    test_notes = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"Change {self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("software:change", args=[self.pk])

    @property
    def authors(self) -> set[str]:
        return {commit["email"].lower() for commit in self.commits}


class Review(models.Model):
    """A sign-off of one exact commit of a change (SP 7 "signed off by the team leader or
    his designated reviewer"). It counts while that commit is the change's head."""

    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    commit = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reviewed_at"]
        constraints = [models.UniqueConstraint(fields=["change", "reviewer", "commit"],
                                               name="one_review_per_person_and_commit")]

    def __str__(self) -> str:
        return f"{self.reviewer} approved {self.commit[:12]}"


class Release(models.Model):
    """SM 7.6: a revision/build of reviewed, tested changes, handed to the Systems
    Administrators and deployed under one sign-off from each team."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT,
                                   related_name="releases")
    name = models.CharField(max_length=80, help_text="The revision or build: 'v2026.12.1'.")
    commit = models.CharField(max_length=64)
    # What the release adds: the commits after the previous release (or the baseline).
    since = models.CharField(max_length=64)
    changes = models.ManyToManyField(Change, related_name="releases")
    status = models.CharField(max_length=12, choices=ReleaseStatus.choices,
                              default=ReleaseStatus.RELEASED)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    target = models.ForeignKey("systems.System", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    deploy_signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+")
    deployed_at = models.DateTimeField(null=True, blank=True)
    configuration_change = models.ForeignKey("systems.ConfigurationChange",
                                             on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["repository", "name"],
                                               name="one_release_name_per_repository")]

    def __str__(self) -> str:
        return f"{self.repository} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("software:release", args=[self.pk])


class TestAccount(models.Model):
    """SM 7.5: an account on the test system or the bug tracker, given on request to a
    Member at Assurer level "after a small degree of checking": what was checked and by
    whom."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, related_name="+")
    member_name = models.CharField(max_length=200)
    member_email = models.EmailField()
    requested_at = models.DateTimeField(default=timezone.now)
    assurer = models.BooleanField(help_text="The Member is an Assurer (checked).")
    checked = models.CharField(max_length=500, help_text="What was checked, and how.")
    decided_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    granted = models.BooleanField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.member_name} on {self.system}"
