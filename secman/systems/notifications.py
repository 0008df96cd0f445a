"""Mail for the systems register: a temporary Internet access (SP 3.1.1.1 "must be
reported and logged") is mailed to the Systems Administration team when it is requested
and when it is approved."""

from __future__ import annotations

from django.conf import settings

from secman.core.roles import TeamKind
from secman.eventlog.models import Event
from secman.eventlog.notifications import notify_on
from secman.people.models import Membership


def systems_administration_team() -> list[str]:
    """The SA mailing list where one is configured; else every active member of the
    Systems Administration team."""
    if settings.SECMAN_SYSADMIN_LIST:
        return [settings.SECMAN_SYSADMIN_LIST]
    return sorted(set(Membership.objects.active()
                      .filter(team__kind=TeamKind.SYSTEMS_ADMINISTRATION)
                      .exclude(person__email="").values_list("person__email", flat=True)))


def _temporary_access(event: Event) -> list[str]:
    return systems_administration_team() if event.details.get("temporary_until") else []


notify_on("systems.flow.request")(_temporary_access)
notify_on("systems.flow.approve")(_temporary_access)
