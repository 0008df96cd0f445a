"""Kinds and states of documents, markers and drafts."""

from __future__ import annotations

from django.db import models


class DocumentKind(models.TextChoices):
    POLICY = "policy", "Security Policy"
    MANUAL = "manual", "Security Manual"
    PROCEDURE = "procedure", "Security Procedure"


class MarkerKind(models.TextChoices):
    PROCEDURE = "procedure", "PROCEDURE: should become a procedure"
    DISCUSS = "discuss", "Discuss"
    QUESTION = "question", "Open question"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for the second person"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The section of the policy that governs each kind of document: the default authority
# for importing one.
GOVERNING_SECTION = {
    DocumentKind.POLICY: "SP 1.4.1",
    DocumentKind.MANUAL: "SP 1.4.2",
    DocumentKind.PROCEDURE: "SP 1.4.3",
}
