"""Chapter 3 controls (SP/SM 3.1, 3.2, 4.1.3): plain functions returning findings, each
naming its section, declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding
from secman.core.roles import TeamKind
from secman.eventlog.models import Event
from secman.systems import diagram
from secman.systems.choices import FlowStatus
from secman.systems.models import Flow, System

CONTROLS: list[Control] = []


# --- the network diagram (SP 3.1.1) --------------------------------------------------------


def _changes_after(moment: Any) -> list[str]:
    """Approved flows and system changes newer than `moment` (cheap queries: the drawing
    itself is compared only when one exists)."""
    changes = [f"flow {f.pk} of {f.system} ({f.port_label}) approved "
               f"{f.decided_at:%Y-%m-%d %H:%M}"
               for f in Flow.objects.filter(status__in=[FlowStatus.APPROVED, FlowStatus.ENDED],
                                            decided_at__gt=moment)
               .select_related("system").order_by("decided_at")[:5]]
    changes += [f"flow {f.pk} of {f.system} ended {f.ended_at:%Y-%m-%d %H:%M}"
                for f in Flow.objects.filter(ended_at__gt=moment).select_related("system")
                .order_by("ended_at")[:5]]
    changes += [f"temporary flow {f.pk} of {f.system} expired {f.temporary_until:%Y-%m-%d %H:%M}"
                for f in Flow.objects.filter(temporary_until__gt=moment,
                                             temporary_until__lte=timezone.now())
                .select_related("system").order_by("temporary_until")[:5]]
    changes += [f"system {s} recorded {s.created_at:%Y-%m-%d %H:%M}"
                for s in System.objects.filter(created_at__gt=moment).order_by("created_at")[:5]]
    changes += [f"{e.subject_label}: {e.action} {e.recorded_at:%Y-%m-%d %H:%M}"
                for e in Event.objects.filter(subject_type__in=["systems.system",
                                                                "systems.address"],
                                              recorded_at__gt=moment).order_by("seq")[:5]]
    return changes


def diagram_up_to_date() -> list[Finding]:
    """SP 3.1.1: "diagrams must be updated when any change is made". A finding when
    systems exist and no revision was drawn, or when an approved flow or a change of a
    system is newer than the newest revision and the register now draws differently
    (a change that alters nothing drawn needs no revision)."""
    url = reverse("systems:network")
    newest = diagram.current_revision()
    if newest is None:
        if System.objects.exists():
            return [Finding("SP 3.1.1", "the register holds systems but no network diagram "
                            "has been drawn", url, subject="diagram:network")]
        return []
    changes = _changes_after(newest.created_at)
    if not changes or diagram.digest_of(diagram.dot_source()) == newest.digest:
        return []
    return [Finding("SP 3.1.1", f"the network diagram r{newest.number} "
                    f"({newest.created_at:%Y-%m-%d}) predates approved changes: "
                    f"{'; '.join(changes[:3])}", url, subject="diagram:network")]


CONTROLS.append(
    Control("systems.diagram_current", ("SP 3.1.1",),
            "The network diagram is updated whenever an approved change alters the network.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=diagram_up_to_date))
