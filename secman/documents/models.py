from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from secman.core.roles import TeamKind
from secman.core.validation import DOCUMENT_TEXT_MAX
from secman.documents.choices import DocumentKind, DraftStatus, MarkerKind


class Document(models.Model):
    """The Security Policy, the Security Manual or a procedure (SP 1.4)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("documents:document", args=[self.slug])

    @property
    def current(self) -> Version | None:
        return self.versions.order_by("-seq").first()

    @property
    def short(self) -> str:
        """"SP", "SM" or the document's name: how sections of it are cited."""
        return {"policy": "SP", "manual": "SM"}.get(self.kind, self.name)


class Version(models.Model):
    """One imported or published state of a document; never changed afterwards."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    seq = models.PositiveIntegerField()
    label = models.CharField(max_length=60)
    title = models.CharField(max_length=300, blank=True, help_text="The title in the source.")
    source_name = models.CharField(max_length=300, blank=True)
    source_format = models.CharField(max_length=20, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    source_version = models.CharField(max_length=300, blank=True,
                                      help_text='What the source says of itself, e.g. '
                                                '"last edited 2016-11-06".')
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    warnings = models.JSONField(default=list, blank=True)
    section_count = models.PositiveIntegerField(default=0)
    numbering = models.CharField(
        max_length=20, blank=True,
        help_text="Where the section numbers came from: the heading text, anchors, both, "
                  "the heading structure, or (wiki text) the table of contents.")

    class Meta:
        ordering = ["document", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["document", "seq"], name="version_seq_unique"),
            models.UniqueConstraint(fields=["document", "label"], name="version_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.document} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("documents:version", args=[self.document.slug, self.label])

    @property
    def numbering_said(self) -> str:
        from secman.documents.importers import numbering_said

        return numbering_said(self.numbering)

    @property
    def reference(self) -> str:
        """How the command line and the compare view name it: "slug@label"."""
        return f"{self.document.slug}@{self.label}"


class Section(models.Model):
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="sections")
    number = models.CharField(max_length=40)
    sort_key = models.CharField(max_length=80)
    level = models.PositiveSmallIntegerField()
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="children")
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True, help_text="The normative text, notes left out.")
    html = models.TextField(blank=True, help_text="The same, as sanitised HTML.")
    owner = models.CharField(max_length=40, choices=TeamKind.choices, blank=True)
    owner_text = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["version", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="section_number_unique"),
        ]
        indexes = [models.Index(fields=["version", "sort_key"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    def get_absolute_url(self) -> str:
        return reverse("documents:section", args=[self.version.document.slug, self.number])

    @property
    def anchor(self) -> str:
        return f"s{self.number}"


class Note(models.Model):
    """Editorial material that is "not part of" the document: kept, shown apart."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="notes")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField()
    html = models.TextField(blank=True)

    class Meta:
        ordering = ["section", "position"]

    def __str__(self) -> str:
        return f"Note on {self.section_id}: {self.text[:60]}"


class Marker(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="markers")
    kind = models.CharField(max_length=20, choices=MarkerKind.choices)
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["section", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:60]}"


class CrossReference(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="references")
    text = models.CharField(max_length=100, help_text='As written, e.g. "SM§4.3".')
    target_document = models.CharField(max_length=20, blank=True,
                                       help_text='"" for the same document, SP, SM, CPS, DRC.')
    target_number = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["section", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def external(self) -> bool:
        return self.target_document in ("CPS", "DRC")


class Draft(models.Model):
    """A proposed new text for one section; published only with a second person's
    sign-off and an authority."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="drafts")
    number = models.CharField(max_length=40)
    base_version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=500)
    text = models.TextField(blank=True, max_length=DOCUMENT_TEXT_MAX)
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=DraftStatus.choices,
                              default=DraftStatus.DRAFT)
    signoff = models.ForeignKey("authority.SignOffRequest", on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    published_version = models.ForeignKey(Version, on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="+")

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"Draft of {self.document.short} {self.number} by {self.author}"

    def get_absolute_url(self) -> str:
        return reverse("documents:draft", args=[self.pk])


class EditDelegation(models.Model):
    """A team leader lets a member of their team edit the team's sections (SP 1.4.2:
    the manual is managed by the team leaders)."""

    team = models.CharField(max_length=40, choices=TeamKind.choices)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    granted_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey("authority.Authority", on_delete=models.PROTECT,
                                  related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "-granted_at"]

    def __str__(self) -> str:
        return f"{self.person} edits for the {self.get_team_display()} team"
