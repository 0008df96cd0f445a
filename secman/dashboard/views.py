"""The Today page: what is due, waiting, failing or new for the person signed in, from
every chapter. It sits on top of the layers (docs/architecture.md): it reads every app and
no app reads it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from secman.authority.choices import SignOffStatus
from secman.authority.models import SignOffRequest
from secman.authority.services import decisions_to_confirm, may_request_signoff, slots_for
from secman.compliance import selectors as compliance
from secman.compliance.evaluation import REUSE_SECONDS, evaluate_current, per_evaluation
from secman.core.accounts import person_for_user
from secman.core.controls import Status
from secman.eventlog.models import Event
from secman.eventlog.selectors import PayloadAccess
from secman.incidents.choices import INTRUSION_OR_WORSE, IncidentStatus
from secman.incidents.models import Incident
from secman.incidents.services import may_see_incidents
from secman.people.choices import ProposalStatus
from secman.people.controls import STAFFING_CONTROLS, staffing_findings
from secman.people.models import ListChangeProposal
from secman.people.selectors import is_board_member, roles_of, teams_of
from secman.privileged.checklists import open_for_leader


def start_of(day: dt.date) -> dt.datetime:
    """Midnight of a local day: pages filter on a time range, which the index on
    recorded_at answers, where `recorded_at__date` converts every row's time first."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def events_per_day(days: int = 14) -> list[dict[str, Any]]:
    """Counts for the small bar chart on the Today page, oldest day first."""

    today = timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    counts = dict(
        Event.objects.filter(recorded_at__gte=start_of(since))
        .annotate(day=TruncDate("recorded_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    series = [(since + dt.timedelta(days=i)) for i in range(days)]
    peak = max(counts.values(), default=0) or 1
    bar_width = 10
    return [
        {"day": day, "count": counts.get(day, 0),
         "height": round(40 * counts.get(day, 0) / peak), "x": i * (bar_width + 2),
         "y": 40 - round(40 * counts.get(day, 0) / peak)}
        for i, day in enumerate(series)
    ]


def today(request: HttpRequest) -> HttpResponse:

    results = evaluate_current()
    # The body is the reader's own and changes when something is recorded (every service
    # records an entry, which makes evaluate_current() evaluate again) or as time passes
    # (a duty falling due, a sign-off expiring), which it shows at most REUSE_SECONDS
    # late, as it does the evaluation. So it is rendered once per reader and evaluation.
    key = (f"dashboard.today:{request.user.pk}:{id(results)}:"
           f"{results[0].evaluated_at.timestamp() if results else ''}")
    body = cache.get(key) if results else None
    if body is not None:
        return render(request, "dashboard/today_page.html", {"body": body})
    me = person_for_user(request.user)
    # SM 4.2.2: a restricted entry's subject is payload.
    recent = PayloadAccess(me).marked(Event.objects.select_related("actor")[:12])
    pending = (
        SignOffRequest.objects.filter(status=SignOffStatus.PENDING, expires_at__gt=timezone.now())
        .select_related("requested_by", "authority")
        .prefetch_related("signoffs__person")
    )
    held = roles_of(me)
    waiting_for_me = [r for r in pending if me and slots_for(me, r, held)]
    mine = [r for r in pending if me and r.requested_by_id == me.pk]
    proposals = (
        ListChangeProposal.objects.filter(status=ProposalStatus.PENDING)
        .select_related("access_list", "person", "proposed_by")
    )
    # Made again whenever the evaluation is (every recorded change, at most a minute).
    findings = per_evaluation(results, "dashboard.today.staffing", lambda _: staffing_findings())
    today_date = timezone.localdate()
    my_duties = compliance.my_occurrences(me)
    open_incidents = list(Incident.objects.filter(status=IncidentStatus.OPEN)
                          .only("severity")) if may_see_incidents(me) else []
    my_teams = teams_of(me)
    team_results = [r for r in results if r.control.owner in my_teams
                    and r.control.id not in STAFFING_CONTROLS
                    and r.status in (Status.VIOLATED, Status.OVERDUE, Status.NOT_EVIDENCED)]
    context = {
        "roles": sorted(role.label for role in held),
        "waiting_for_me": waiting_for_me,
        "my_requests": mine,
        "proposals": proposals,
        "decisions_to_confirm": decisions_to_confirm(me),
        "may_request_signoff": may_request_signoff(me),
        "is_board": is_board_member(me),
        "findings": findings,
        "my_duties": my_duties,
        "team_results": team_results,
        "now": timezone.now(),
        "recent": recent,
        # SM 9.1.7: a leaver's checklist stays on their team leader's Today until closed.
        "leaver_checklists": open_for_leader(me),
        "tiles": [
            ("Sign-offs waiting for me", len(waiting_for_me), "warn" if waiting_for_me else "ok"),
            ("My duties due or overdue", len(my_duties),
             "bad" if any(o.due_at <= timezone.now() for o in my_duties)
             else "warn" if my_duties else "ok"),
            ("My teams' controls failing", len(team_results), "bad" if team_results else "ok"),
            ("Proposals for the Board", len(proposals), "warn" if proposals else "ok"),
            ("Staffing and list findings", len(findings), "bad" if findings else "ok"),
            # SM 5.6: the incidents are not secret; an open intrusion is everyone's alarm.
            ("Open incidents", len(open_incidents),
             "bad" if any(i.severity in INTRUSION_OR_WORSE for i in open_incidents)
             else "warn" if open_incidents else "ok"),
            ("Events today", Event.objects.filter(
                recorded_at__gte=start_of(today_date),
                recorded_at__lt=start_of(today_date + dt.timedelta(days=1))).count(), "info"),
        ],
        "chart": events_per_day(),
    }
    body = render_to_string("dashboard/today.html", context, request)
    cache.set(key, body, REUSE_SECONDS)
    return render(request, "dashboard/today_page.html", {"body": body})
