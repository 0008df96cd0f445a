"""The controls of support (SP/SM 8), each naming its section, declared in CONTROLS for
the compliance app to collect."""

from __future__ import annotations

from django.urls import reverse

from secman.core.controls import Control, Finding, Kind, Status
from secman.core.roles import TeamKind
from secman.people.models import ListEntry, Person
from secman.people.selectors import roles_of
from secman.support.models import Channel, TriageMember

_SUPPORT = TeamKind.SUPPORT


def channels_logged() -> list[Finding]:
    """SM 8.4: "All support channels should be logged"."""
    url = reverse("support:overview")
    if not Channel.objects.exists():
        return [Finding("SM 8.3", "No support channel is recorded", url, Status.NOT_EVIDENCED,
                        "channels")]
    return [Finding("SM 8.4", f"{channel} ({channel.address}) is in use and not logged", url,
                    Status.VIOLATED, f"channel:{channel.pk}")
            for channel in Channel.objects.filter(in_use=True, logged=False)]


def triage_without_access() -> list[Finding]:
    """SM 8.2.3: Triage has no special access: a member of Triage who holds a role or is
    on an access list is a violation."""
    found = []
    for member in TriageMember.objects.filter(ended_at__isnull=True):
        person = Person.objects.filter(email__iexact=member.email).first()
        if person is None:
            continue
        roles = sorted(role.label for role in roles_of(person))
        listed = ListEntry.objects.active().filter(person=person).exists()
        if roles or listed:
            found.append(Finding(
                "SM 8.2.3", f"{member} is in Triage and "
                + (f"holds {', '.join(roles)}" if roles else "is on an access list"),
                reverse("support:overview"), Status.VIOLATED, f"triage:{member.pk}"))
    return found


CONTROLS = [
    Control("support.channels_logged", ("SM 8.3", "SM 8.4"),
            "Every support channel in use is logged.", _SUPPORT, check=channels_logged),
    Control("support.triage_without_access", ("SM 8.2.3",),
            "Members of Triage are Assurers who agreed to the SP and SM, and hold no role or "
            "access.", _SUPPORT, check=triage_without_access),
    Control("support.filing_review", ("SM 8.5",),
            "The Support team leader reviews the period's decisions to file a dispute and not "
            "to file.", _SUPPORT, Kind.DUTY, schedule="weekly", procedure="SM 8.5",
            evidence="Which decisions were reviewed, and any that should be decided again."),
]
