"""Pages every module shares: the Today page and the helpers views use to call services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from secman.core.errors import Refused
from secman.people import services as people_services
from secman.people.models import Person
from secman.people.selectors import person_for_user

T = TypeVar("T")


def _address(request: HttpRequest) -> str | None:
    from secman.core.addresses import client_address

    return client_address(request)


class LoginView(auth_views.LoginView):
    """Django's login page; every sign-in and every refused attempt is an Event Log
    entry (SM 4.2.1, login and root access)."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        people_services.record_login(form.get_user(), address=_address(self.request))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        typed = str(form.data.get("username", ""))
        if typed or form.data.get("password"):  # an empty form is not an attempt
            people_services.record_failed_login(
                typed, address=_address(self.request),
                locked_out=bool(getattr(self.request, "axes_locked_out", False)))
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user is not None:
            people_services.record_logout(user, address=_address(request))
        return response


def password_change(request: HttpRequest) -> HttpResponse:
    """Change my own password (the current one first); the session stays signed in."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_lockout_response
    from django.contrib.auth import update_session_auth_hash
    from django.contrib.auth.signals import user_login_failed
    from django.shortcuts import redirect

    from secman.core.forms import PasswordChangeForm

    form = PasswordChangeForm(request.POST or None)
    # Guessing the current password here counts like guessing it at the login page
    # (django-axes, per login name and address), and the lockout stops both with the
    # same page.
    credentials = {"username": request.user.get_username()}
    if request.method == "POST" and AxesProxyHandler.is_locked(request, credentials):
        return get_lockout_response(request, credentials=credentials)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = perform(request, form, lambda: people_services.change_own_password(
            user=request.user, current=data["old_password"], new=data["new_password1"]),
            "Your password was changed.")
        if user is not None:
            update_session_auth_hash(request, user)
            return redirect("today")
        if form.has_error("old_password"):
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return render(request, "registration/password_change.html", {"form": form})


def actor_of(request: HttpRequest) -> Person:
    person = person_for_user(request.user)
    if person is None:
        raise PermissionDenied("This login is not linked to a person in secman.")
    return person


def perform(
    request: HttpRequest, form: forms.Form, action: Callable[[], T], done: str
) -> T | None:
    """Run a service call for a form. A refusal becomes an error on the form (on the
    field it concerns, if the form has it); success becomes a message."""
    try:
        result = action()
    except Refused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return None
    messages.success(request, done)
    return result


def post_only(back: Callable[..., str]) -> Callable[[Callable[..., HttpResponse]],
                                                    Callable[..., HttpResponse]]:
    """For a URL that only acts on POST (a button, a step's form). A refused form is shown
    again at that URL, so a person may reload it or come back to it: a GET then leads to
    the page the form belongs to (`back(**url kwargs)`) instead of "405 Method Not
    Allowed". Other methods are refused as before."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(back(**kwargs))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, **kwargs)

        return wrapped

    return decorate


def refuse_to_messages(request: HttpRequest, action: Callable[[], T], done: str) -> T | None:
    """The same for buttons without a form: the refusal is shown as an error message."""
    try:
        result = action()
    except Refused as exc:
        messages.error(request, str(exc))
        return None
    messages.success(request, done)
    return result


def start_of(day: dt.date) -> dt.datetime:
    """Midnight of a local day: pages filter on a time range, which the index on
    recorded_at answers, where `recorded_at__date` converts every row's time first."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def events_per_day(days: int = 14) -> list[dict[str, Any]]:
    """Counts for the small bar chart on the Today page, oldest day first."""
    from secman.eventlog.models import Event

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
    from secman.authority.choices import SignOffStatus
    from secman.authority.models import SignOffRequest
    from secman.authority.services import decisions_to_confirm, slots_for
    from secman.compliance import selectors as compliance
    from secman.compliance.evaluation import REUSE_SECONDS, evaluate_current, per_evaluation
    from secman.compliance.registry import Status
    from secman.eventlog.models import Event
    from secman.eventlog.selectors import PayloadAccess
    from secman.people.choices import ProposalStatus
    from secman.people.controls import STAFFING_CONTROLS, staffing_findings
    from secman.people.models import ListChangeProposal
    from secman.people.selectors import is_board_member, roles_of, teams_of

    results = evaluate_current()
    # The body is the reader's own and changes when something is recorded (every service
    # records an entry, which makes evaluate_current() evaluate again) or as time passes
    # (a duty falling due, a sign-off expiring), which it shows at most REUSE_SECONDS
    # late, as it does the evaluation. So it is rendered once per reader and evaluation.
    key = (f"core.today:{request.user.pk}:{id(results)}:"
           f"{results[0].evaluated_at.timestamp() if results else ''}")
    body = cache.get(key) if results else None
    if body is not None:
        return render(request, "core/today_page.html", {"body": body})
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
    findings = per_evaluation(results, "core.today.staffing", lambda _: staffing_findings())
    today_date = timezone.localdate()
    my_duties = compliance.my_occurrences(me)
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
        "is_board": is_board_member(me),
        "findings": findings,
        "my_duties": my_duties,
        "team_results": team_results,
        "now": timezone.now(),
        "recent": recent,
        "tiles": [
            ("Sign-offs waiting for me", len(waiting_for_me), "warn" if waiting_for_me else "ok"),
            ("My duties due or overdue", len(my_duties),
             "bad" if any(o.due_at <= timezone.now() for o in my_duties)
             else "warn" if my_duties else "ok"),
            ("My teams' controls failing", len(team_results), "bad" if team_results else "ok"),
            ("Proposals for the Board", len(proposals), "warn" if proposals else "ok"),
            ("Staffing and list findings", len(findings), "bad" if findings else "ok"),
            ("Events today", Event.objects.filter(
                recorded_at__gte=start_of(today_date),
                recorded_at__lt=start_of(today_date + dt.timedelta(days=1))).count(), "info"),
        ],
        "chart": events_per_day(),
    }
    body = render_to_string("core/today.html", context, request)
    cache.set(key, body, REUSE_SECONDS)
    return render(request, "core/today_page.html", {"body": body})
