from __future__ import annotations

from django.db import models


class Source(models.TextChoices):
    """How the incident came to be known (SM 5.2, 9.1.6)."""

    ANOMALY = "anomaly", "An anomaly of the systems' logs"
    SECURITY_BUG = "security_bug", "A security bug report"
    BY_HAND = "by_hand", "Reported by a person"


class DetectionLevel(models.TextChoices):
    """SM 5.1: the levels that generate logs."""

    EXTERNAL_FIREWALL = "external_firewall", "External firewall"
    WEBSERVER_FIREWALL = "webserver_firewall", "Web server firewall"
    APPLICATION = "application", "Application controls"
    SIGNING_SERVER = "signing_server", "Signing server"


class Severity(models.TextChoices):
    """SM 5.3.1's taxonomy, in its order: each is worse than the ones before it."""

    UNDIRECTED_FAILURE = "undirected_failure", "1. Undirected failure (corruption by software)"
    AUTOMATED_PROBE = "automated_probe", "2.1 Probe: automated"
    DIRECTED_PROBE = "directed_probe", "2.2 Probe: directed"
    EXPLOIT_NO_LOSS = "exploit_no_loss", "3.1 Intrusion: exploit, no loss"
    COMPROMISE = "compromise", "3.2 Intrusion: compromise (possible loss)"
    BREACH = "breach", "3.3 Intrusion: breach (evidence of data loss)"
    DENIAL_OF_SERVICE = "denial_of_service", "4. Denial of service"


ORDER = list(Severity)
# SM 5.3.3 "intrusion or worse": separated oversight, mitigation (SM 5.5).
INTRUSION_OR_WORSE = frozenset(ORDER[ORDER.index(Severity.EXPLOIT_NO_LOSS):])
# SM 5.3.1 "compromised services must be isolated immediately": the intrusions (a denial
# of service is handled with the hosting and firewall entities instead, SM 5.3.2).
ISOLATE_FIRST = frozenset({Severity.EXPLOIT_NO_LOSS, Severity.COMPROMISE, Severity.BREACH})
# SM 5.3.3 "if data is compromised, Arbitration is required".
NEEDS_CASE = frozenset({Severity.COMPROMISE, Severity.BREACH})


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Audience(models.TextChoices):
    """SM 5.6: who the final report is notified to."""

    SYSADMINS = "sysadmins", "Systems Administrators"
    BOARD = "board", "Board"
    SOFTWARE = "software", "Software development"
    HOSTING = "hosting", "Hosting (secure-u)"
    AFFECTED_USERS = "affected_users", "Affected users"


class TimelineKind(models.TextChoices):
    FOLLOW_UP = "follow_up", "Follow-up"
    INVESTIGATION = "investigation", "Investigation"
    DECISION = "decision", "Management decision"
