"""The vocabulary of backups (SP/SM 4.3) as the Systems Administrators speak it."""

from __future__ import annotations

from django.db import models


class BackupKind(models.TextChoices):
    OPERATIONAL = "operational", "Operational (online, local)"
    DISASTER_RECOVERY = "disaster_recovery", "Disaster recovery (offline, remote)"
    # SM 3.2.2, 3.2.3, 5.5.2: when a system enters service and after a substantive patch.
    REFERENCE = "reference", "Full reference (known good)"


class SetStatus(models.TextChoices):
    # SM 4.3.7: "At least two must conduct the backup".
    AWAITING_SECOND = "awaiting_second", "Made, waiting for the second person"
    MADE = "made", "Made by two, not verified"
    # SP 4.3.6: "Two CAcert System Administrators must be present for verification".
    VERIFYING = "verifying", "Verification waiting for its second Systems Administrator"
    VERIFIED = "verified", "Verified by two Systems Administrators"
    STORED = "stored", "Stored"


class Encryption(models.TextChoices):
    """SP 4.3.5: two divergent methods (SM: "encrypted file system and GPG public key")."""

    FILESYSTEM = "filesystem", "Encrypted file system (LUKS)"
    OPENPGP = "openpgp", "OpenPGP to the DR keys (GnuPG)"
    RESTIC = "restic", "restic repository encryption (AES-256)"


class EnvelopeStatus(models.TextChoices):
    SEALED = "sealed", "Sealed, with its custodian"
    # "When one or more stored secrets are changed, a new sealed envelope will be provided"
    SUPERSEDED = "superseded", "Replaced by a newer envelope"
    # "Recovery ... from sealed envelope is by decision of the Board."
    OPENED = "opened", "Opened by decision of the Board"
    BROKEN = "broken", "Found with its seal broken"


class ExaminationStatus(models.TextChoices):
    OPEN = "open", "Open: data extracted"
    CLEANED = "cleaned", "Cleaned"


class RetentionDirection(models.TextChoices):
    """SM 4.4.1: "On termination of an account, user data will be retained according to
    the direction of the Arbitrator"."""

    RETAIN_UNTIL = "retain_until", "Retain until a date, then delete"
    DELETE = "delete", "Delete now"
    RETAIN = "retain", "Retain until the Arbitrator directs otherwise"
