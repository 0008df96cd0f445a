"""Reads of the systems register that pages, the API, the command line and the controls
all ask the same way."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from secman.eventlog.models import Event
from secman.eventlog.selectors import PayloadAccess
from secman.systems.choices import FlowStatus
from secman.systems.models import Flow, System

# SM 3.1.2: a request waiting longer than this is a finding (the team leader decides).
REQUEST_WAIT_DAYS = 14


def systems_overview() -> QuerySet[System]:
    """Every system with what the list shows: administrators, host and flow counts."""
    return (System.objects.select_related("primary_admin", "secondary_admin", "host",
                                          "critical_authority")
            .annotate(flows_in=Count("flows", filter=Q(flows__direction="ingress",
                                                       flows__status=FlowStatus.APPROVED)),
                      flows_out=Count("flows", filter=Q(flows__direction="egress",
                                                        flows__status=FlowStatus.APPROVED)),
                      flows_waiting=Count("flows",
                                          filter=Q(flows__status=FlowStatus.REQUESTED))))


def in_effect(at: dt.datetime | None = None) -> Q:
    """The flows in effect: approved, and (if temporary) not yet past their end
    (SP 3.1.1.1)."""
    now = at or timezone.now()
    return Q(status=FlowStatus.APPROVED) & (Q(temporary_until__isnull=True)
                                            | Q(temporary_until__gt=now))


def flows_in_effect(system: System | None = None,
                    at: dt.datetime | None = None) -> QuerySet[Flow]:
    """What the firewall allows and what drift is measured against."""
    flows = Flow.objects.filter(in_effect(at)).select_related("system", "peer_system")
    return flows.filter(system=system) if system is not None else flows


def flows_listed(status: str = "", system: System | None = None) -> QuerySet[Flow]:
    """Flows for the flows page: requests waiting first (oldest first), then the rest."""
    flows = Flow.objects.select_related("system", "peer_system", "requested_by",
                                        "decided_by", "authority")
    if status in FlowStatus.values:
        flows = flows.filter(status=status)
    if system is not None:
        flows = flows.filter(system=system)
    return flows


def pending_first(flows: QuerySet[Flow]) -> list[Flow]:
    rows = list(flows)
    waiting = sorted((f for f in rows if f.status == FlowStatus.REQUESTED),
                     key=lambda f: f.requested_at)
    return waiting + [f for f in rows if f.status != FlowStatus.REQUESTED]


def flow_counts() -> dict[str, int]:
    found = Counter(Flow.objects.values_list("status", flat=True))
    return {status: found.get(status, 0) for status in FlowStatus.values}


def is_past_end(flow: Flow, at: dt.datetime | None = None) -> bool:
    return bool(flow.temporary_until and flow.temporary_until <= (at or timezone.now()))


def history_of(system: System, reader: Any) -> list[Event]:
    """The system's history: the Event Log entries about the system and about its flows,
    oldest first, each marked `.visible` for this reader as on the Event Log page."""
    flow_ids = [str(pk) for pk in system.flows.values_list("pk", flat=True)]
    entries = (Event.objects.filter(Q(subject_type="systems.system", subject_id=str(system.pk))
                                    | Q(subject_type="systems.flow", subject_id__in=flow_ids))
               .select_related("actor").order_by("seq"))
    return PayloadAccess(reader).marked(entries)


def system_by_name(name: str) -> System | None:
    return System.objects.filter(name=name).first()


def ids_by_host_name() -> dict[str, int]:
    """Each system's id under its name, lower-cased: the systems' logs name their host."""
    return {name.lower(): pk for pk, name in System.objects.values_list("pk", "name")}


def retired_since(before: Any) -> list[int]:
    """The systems retired before `before`: their configuration logs' year is over."""
    return list(System.objects.filter(retired_at__lt=before).values_list("pk", flat=True))
