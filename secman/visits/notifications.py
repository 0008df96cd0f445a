"""Mail for visits (SM 2.3.3: physical accesses are reported to the systems
administration mailing list; SM 2.3.4: an emergency access goes before an Arbitrator)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from secman.eventlog.models import Event
from secman.eventlog.notifications import notify_on


@notify_on("visits.visit.close")
def _sysadmin_list(event: Event) -> list[str]:
    return [settings.SECMAN_SYSADMIN_LIST] if settings.SECMAN_SYSADMIN_LIST else []


NOT_SET = "SECMAN_SYSADMIN_LIST is not set"


def close_mail() -> dict[str, str]:
    """What the close entry says about its mail: to whom it goes when the close commits,
    or why nobody is mailed. The same setting decides both (see _sysadmin_list)."""
    if settings.SECMAN_SYSADMIN_LIST:
        return {"mailed_to": settings.SECMAN_SYSADMIN_LIST}
    return {"not_mailed": NOT_SET}


def close_mail_text(details: dict) -> str:
    """The close entry's mail, said to a person: "mailed to ..." or "not mailed: ..."."""
    if details.get("mailed_to"):
        return f"mailed to {details['mailed_to']}"
    if details.get("not_mailed"):
        return f"not mailed: {details['not_mailed']}"
    return "its Event Log entry does not say whether it was mailed"  # closed before it did


@notify_on("visits.visit.emergency")
def _dispute_address(event: Event) -> list[str]:
    return [settings.SECMAN_DISPUTE_ADDRESS] if settings.SECMAN_DISPUTE_ADDRESS else []


def close_mail_of(visit: Any) -> str:
    """close_mail_text for a closed visit's entry."""
    entry = (Event.objects.filter(action="visits.visit.close",
                                  subject_type=visit._meta.label_lower,
                                  subject_id=str(visit.pk)).order_by("seq").last())
    return close_mail_text(entry.details if entry else {})
