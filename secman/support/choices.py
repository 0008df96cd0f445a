from __future__ import annotations

from django.db import models


class ChannelKind(models.TextChoices):
    MAIL = "mail", "Mail address"
    TICKETS = "tickets", "Ticket system"
    CHAT = "chat", "Chat room"
    FORUM = "forum", "Forum or list"
    PHONE = "phone", "Phone"


class ActionKind(models.TextChoices):
    ROLE_GRANT = "role_grant", "Enable a role"
    ROLE_REMOVAL = "role_removal", "Remove a role"
    ACCOUNT_CHANGE = "account_change", "Change account data (name, date of birth, email)"
    PASSWORD_RESET = "password_reset", "Reset the password"
    LOOKUP = "lookup", "Look up the account's private data"
    REMOVE_ASSURANCE = "remove_assurance", "Remove an assurance"


class AuthorityKind(models.TextChoices):
    MEMBER_REQUEST = "member_request", "The Member's own request"
    ARBITRATOR = "arbitrator", "An Arbitrator's instruction (token)"


class FilingDecision(models.TextChoices):
    FILE = "file", "File a dispute"
    NOT_FILE = "not_file", "Not file"
