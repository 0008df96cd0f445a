"""Who may read what in the Event Log (SM 4.2.2: "Access to logs is restricted to Systems
Administrators"). Everybody who may log in sees every entry's metadata (number, time,
class, action, leaf hash) and the verification status; the payload of an entry of a
restricted class is shown to Systems Administrators only."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

from django.db.models import QuerySet

from secman.core.errors import NotAllowed
from secman.core.roles import Role, holds_any
from secman.eventlog.models import Event, RetentionPolicy


def restricted_classes() -> set[str]:
    return set(RetentionPolicy.objects.filter(restricted=True)
               .values_list("retention_class", flat=True))


class PayloadAccess:
    """Decides, for one reader, which entries' payloads they see (one query per reader)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    @cached_property
    def sysadmin(self) -> bool:
        return holds_any(self.reader, Role.SYSTEMS_ADMINISTRATOR)

    @cached_property
    def restricted(self) -> set[str]:
        return set() if self.sysadmin else restricted_classes()

    def visible(self, event: Event) -> bool:
        return event.retention_class not in self.restricted

    def marked(self, events: Iterable[Event]) -> list[Event]:
        """The events, each with `.visible` set for the templates that list them."""
        listed = list(events)
        for event in listed:
            event.visible = self.visible(event)
        return listed

    def searchable(self, events: QuerySet[Event]) -> QuerySet[Event]:
        """The entries a search by payload (actor, subject, authority) may match for this
        reader: a restricted entry found by its actor would tell who its actor was."""
        return events.exclude(retention_class__in=self.restricted) if self.restricted else events


def may_administer_log(person: Any) -> bool:
    """SM 4.2.2: verifying on demand, signing checkpoints on demand, exporting every
    payload and renaming the log are for Systems Administrators."""
    return holds_any(person, Role.SYSTEMS_ADMINISTRATOR)


def require_sysadmin(person: Any, what: str) -> None:
    """Refuse unless `may_administer_log`. `None` is the server itself (command line,
    scheduler), whose operator already holds the database."""
    if person is not None and not may_administer_log(person):
        raise NotAllowed(f"{what} is for Systems Administrators", section="SM 4.2.2")


def history_for(obj: Any, reader: Any) -> list[Event]:
    """The Event Log entries about one record, oldest first, each marked `.visible` for
    this reader by the Event Log page's own rule: a record's page must not show the actor,
    authority or details of a restricted entry that the Event Log page hides."""
    entries = (Event.objects.filter(subject_type=obj._meta.label_lower, subject_id=str(obj.pk))
               .select_related("actor").order_by("seq"))
    return PayloadAccess(reader).marked(entries)
