"""Mail for visits (SM 2.3.3: physical accesses are reported to the systems
administration mailing list; SM 2.3.4: an emergency access goes before an Arbitrator)."""

from __future__ import annotations

from django.conf import settings

from secman.core.notifications import notify_on
from secman.eventlog.models import Event


@notify_on("visits.visit.close")
def _sysadmin_list(event: Event) -> list[str]:
    return [settings.SECMAN_SYSADMIN_LIST] if settings.SECMAN_SYSADMIN_LIST else []


@notify_on("visits.visit.emergency")
def _dispute_address(event: Event) -> list[str]:
    return [settings.SECMAN_DISPUTE_ADDRESS] if settings.SECMAN_DISPUTE_ADDRESS else []
