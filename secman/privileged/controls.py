"""The controls of privileged access (SP/SM 3.4, 4.1.1, 9.1.7), each naming its section,
declared in CONTROLS for the compliance app to collect. Each topic's module declares its
own list; this module puts them together."""

from __future__ import annotations

from secman.core.controls import Control, Finding, Status, worst
from secman.core.roles import TeamKind

CONTROLS: list[Control] = []


def chapter_findings() -> list[Finding]:
    """Every finding of this chapter's computed controls, for the overview page."""
    return [finding for control in CONTROLS if control.check is not None
            for finding in control.check()]


def chapter_status() -> Status:
    return worst(f.status for f in chapter_findings())


# --- removals and leavers (SP 3.4.4, SM 9.1.7) -------------------------------------------

# SM 3.4.4 gives the Board no deadline; 14 days is two of its usual fortnightly rounds of
# minutes: a removal still temporary after that is chased.
REMOVAL_BOARD_DAYS = 14
# SM 9.1.7 gives no deadline either. The steps are urgent (a leaver's keys and the secrets
# they knew): a week lets a team leader get the secrets changed and the backups secured,
# and a checklist open longer is overdue.
CHECKLIST_DAYS = 7


def removals_decided() -> list[Finding]:
    """Each removal still waiting for the Board (SM 3.4.4): due, overdue after 14 days."""
    from django.urls import reverse
    from django.utils import timezone

    from secman.privileged.choices import RemovalStatus
    from secman.privileged.models import AccessRemoval

    now = timezone.now()
    found = []
    for removal in AccessRemoval.objects.filter(
            status=RemovalStatus.TEMPORARY).select_related("person"):
        days = (now - removal.removed_at).days
        late = days >= REMOVAL_BOARD_DAYS
        found.append(Finding(
            "SM 3.4.4",
            f"{removal.person}'s access was removed {days} day{'s' if days != 1 else ''} ago "
            "and is temporary until the Board approves the list changes"
            + (f" (more than {REMOVAL_BOARD_DAYS} days)" if late else ""),
            reverse("privileged:removal", args=[removal.pk]),
            Status.OVERDUE if late else Status.DUE_SOON, f"removal:{removal.pk}"))
    return found


def checklists_closed() -> list[Finding]:
    """Each open termination checklist (SM 9.1.7): due, overdue after 7 days."""
    from django.urls import reverse
    from django.utils import timezone

    from secman.privileged.choices import ChecklistStatus
    from secman.privileged.models import TerminationChecklist

    now = timezone.now()
    found = []
    for checklist in TerminationChecklist.objects.filter(
            status=ChecklistStatus.OPEN).select_related("person", "team"):
        days = (now - checklist.opened_at).days
        late = days >= CHECKLIST_DAYS
        undone = [s.number for s in checklist.steps.all() if s.done_at is None]
        found.append(Finding(
            "SM 9.1.7",
            f"{checklist.person}'s {checklist.get_trigger_display().lower()} checklist "
            f"({checklist.team}) is open since {days} day{'s' if days != 1 else ''}; steps "
            f"not done: {', '.join(map(str, undone)) or 'none (close it)'}",
            reverse("privileged:checklist", args=[checklist.pk]),
            Status.OVERDUE if late else Status.DUE_SOON, f"checklist:{checklist.pk}"))
    return found


CONTROLS += [
    Control("privileged.removals_decided", ("SM 3.4.4", "SP 3.4.4"),
            "A temporary removal of access is made permanent by the Board's approval of "
            "the list changes; one waiting for the Board is due, and overdue after "
            f"{REMOVAL_BOARD_DAYS} days.", TeamKind.SYSTEMS_ADMINISTRATION,
            check=removals_decided),
    Control("privileged.checklists_closed", ("SM 9.1.7", "SP 3.4.4"),
            "Every termination or transfer checklist is completed with evidence and closed "
            f"by the team leader; an open one is due, and overdue after {CHECKLIST_DAYS} "
            "days.", TeamKind.SYSTEMS_ADMINISTRATION, check=checklists_closed),
]
