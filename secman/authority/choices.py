from __future__ import annotations

from django.db import models


class CaseStatus(models.TextChoices):
    FILED = "filed", "Filed"
    RUNNING = "running", "Running"
    RULED = "ruled", "Ruled"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Vote(models.TextChoices):
    AYE = "aye", "Aye"
    NAYE = "naye", "Naye"
    ABSTAIN = "abstain", "Abstain"


class SignOffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETE = "complete", "Complete"
    WITHDRAWN = "withdrawn", "Withdrawn"
