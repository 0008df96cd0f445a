from __future__ import annotations

from django.db import models


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical (signing, keys, authentication)"


# Reviews each risk needs until the Software Assessment team leader sets otherwise (SP 7
# "riskier code needs more reviews"): one sign-off, two for high, three for critical.
DEFAULT_REVIEWS = {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2, Risk.CRITICAL: 3}


class ChangeStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ASSESSED = "assessed", "Assessed (guidelines, test instructions)"
    TESTED = "tested", "Tested on the test system"
    RELEASED = "released", "In a release"
    REJECTED = "rejected", "Returned to its author"


class TestResult(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class ReleaseStatus(models.TextChoices):
    RELEASED = "released", "Built, not yet handed over"
    HANDED_OVER = "handed_over", "Handed to the Systems Administrators"
    DEPLOYED = "deployed", "Deployed"
