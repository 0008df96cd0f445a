"""The two ways a service refuses an action.

Both carry a message meant for the person who asked: what is wrong, and (where a rule of
the policy or manual is behind it) which section says so.
"""

from __future__ import annotations


class Refused(Exception):
    """Base: the action was refused and nothing was written."""

    def __init__(self, message: str, *, section: str = "", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.section = section
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} ({self.section})" if self.section else self.message


class RuleViolation(Refused):
    """The action breaks a rule of the Security Policy or Manual, or its input is invalid."""


class NotAllowed(Refused):
    """The person asking does not hold a role that may do this."""
