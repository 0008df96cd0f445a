"""Private iCalendar feeds of duties, so they appear in the calendar people already use
(issue 6, item 6), and the page where a person makes and revokes them.

The feed URL carries its own credential (a random token; only its SHA-256 is stored),
because calendar clients cannot log in: that one view is exempt from the login
requirement, answers 404 to any token it does not know (wrong, revoked, or its person no
longer allowed) and never records or logs the token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from icalendar import Alarm, Calendar, Event

from secman.compliance import schedules, services
from secman.compliance.models import Attestation, CalendarFeed, Occurrence, OccurrenceStatus
from secman.core.controls import Control, Kind, control, declared_controls
from secman.core.roles import TeamKind
from secman.core.views import actor_of, post_only, refuse_to_messages
from secman.people.models import Person
from secman.people.selectors import roles_of, teams_of

# Done and skipped occurrences stay in the feed this long, so a calendar shows that they
# were done instead of dropping them; open ones stay however old (they are overdue).
KEEP_CLOSED = dt.timedelta(days=30)
MAX_EVENTS = 2000
# How long before the due time the calendar event starts: the event ends at the due time.
EVENT_LENGTH = dt.timedelta(minutes=30)


def _allowed(feed: CalendarFeed) -> bool:
    """A feed works only while the person who made it could make it now."""
    person = feed.person
    if person.user is not None and not person.user.is_active:
        return False
    return services.may_subscribe(person, feed.team)


# --- the feed ------------------------------------------------------------------------------


def occurrences_for(feed: CalendarFeed, now: dt.datetime) -> list[Occurrence]:
    pending = [OccurrenceStatus.OPEN, OccurrenceStatus.AWAITING_SIGNOFF]
    wanted = Occurrence.objects.filter(
        Q(status__in=pending) | Q(due_at__gte=now - KEEP_CLOSED))
    if feed.team:
        wanted = wanted.filter(duty__owner=feed.team)
    else:
        # Duties of the teams I am active in; one that names a designated person only
        # to that person (to the whole team while nobody is designated).
        wanted = wanted.filter(duty__owner__in=teams_of(feed.person)).filter(
            Q(duty__assignee__isnull=True) | Q(duty__assignee=feed.person))
    declared = {c.id for c in declared_controls() if c.kind == Kind.DUTY}
    return list(wanted.filter(duty__control_id__in=declared)
                .select_related("duty", "duty__assignee").order_by("due_at")[:MAX_EVENTS])


def attestations_for(person: Person) -> list[tuple[Control, Attestation]]:
    """The latest attestation of every attestation control whose role I hold: its expiry
    is when I (or someone with my role) must attest again."""
    mine = roles_of(person)
    found = []
    for declared in declared_controls():
        if declared.kind == Kind.ATTESTATION and declared.role in mine:
            latest = Attestation.objects.filter(control_id=declared.id).order_by(
                "-attested_at", "-id").first()
            if latest is not None:
                found.append((declared, latest))
    return found


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "secman"


def _occurrence_event(occurrence: Occurrence, now: dt.datetime) -> Event:
    declared = control(occurrence.duty.control_id)
    assert declared is not None
    sections = ", ".join(declared.sections)
    link = settings.SITE_URL + occurrence.get_absolute_url()
    state = {
        OccurrenceStatus.OPEN: "OVERDUE: " if occurrence.due_at <= now else "",
        OccurrenceStatus.AWAITING_SIGNOFF: "Awaiting sign-off: ",
        OccurrenceStatus.DONE: "Done: ",
        OccurrenceStatus.SKIPPED: "Skipped: ",
    }[OccurrenceStatus(occurrence.status)]
    event = Event()
    event.add("uid", f"secman-occurrence-{occurrence.pk}@{_host()}")
    event.add("dtstamp", now)
    event.add("dtstart", occurrence.due_at - EVENT_LENGTH)
    event.add("dtend", occurrence.due_at)
    event.add("summary", f"{state}{sections} {declared.statement}")
    lines = [declared.statement, "",
             f"Team: {TeamKind(occurrence.duty.owner).label}",
             f"Schedule: {schedules.describe(occurrence.duty.schedule)}",
             f"Due: {occurrence.due_at:%Y-%m-%d %H:%M} UTC",
             f"Status: {occurrence.get_status_display()}"]
    if declared.designated:
        lines.append(f"Designated {declared.designated}: "
                     f"{occurrence.duty.assignee or 'nobody yet'}")
    if declared.four_eyes:
        lines.append("Four eyes: a second team member signs off.")
    if declared.evidence:
        lines.append(f"Evidence: {declared.evidence}")
    lines += ["", link]
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("categories", ["secman", TeamKind(occurrence.duty.owner).label])
    event.add("status", "CANCELLED" if occurrence.status == OccurrenceStatus.SKIPPED
              else "CONFIRMED")
    if occurrence.status == OccurrenceStatus.OPEN and occurrence.due_at > now:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Due: {sections} {declared.statement}")
        alarm.add("trigger", -(schedules.lead(occurrence.duty.schedule, occurrence.due_at)
                               - EVENT_LENGTH), parameters={"RELATED": "START"})
        event.add_component(alarm)
    return event


def _attestation_event(declared: Control, attestation: Attestation,
                       now: dt.datetime) -> Event:
    sections = ", ".join(declared.sections)
    link = settings.SITE_URL + reverse("compliance:control",
                                       args=[declared.id])
    expired = attestation.expires_at <= now
    event = Event()
    event.add("uid", f"secman-attestation-{attestation.pk}@{_host()}")
    event.add("dtstamp", now)
    event.add("dtstart", attestation.expires_at - EVENT_LENGTH)
    event.add("dtend", attestation.expires_at)
    event.add("summary", f"{'EXPIRED: ' if expired else ''}Attestation expires: {sections} "
              f"{declared.statement}")
    event.add("description", "\n".join([
        declared.statement,
        "", f"Attested by {attestation.person} on {attestation.attested_at:%Y-%m-%d}; "
        f"expires {attestation.expires_at:%Y-%m-%d %H:%M} UTC.", "", link]))
    event.add("url", link)
    event.add("categories", ["secman", "attestation"])
    event.add("status", "CONFIRMED")
    return event


def build_calendar(feed: CalendarFeed, now: dt.datetime | None = None) -> Calendar:
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//secman//compliance duties//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    name = (f"secman: {TeamKind(feed.team).label} duties" if feed.team
            else f"secman: duties of {feed.person.name}")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    events: Iterable[Event] = [_occurrence_event(o, now) for o in occurrences_for(feed, now)]
    if not feed.team:
        events = [*events, *(_attestation_event(d, a, now)
                             for d, a in attestations_for(feed.person))]
    for event in events:
        calendar.add_component(event)
    return calendar


@login_not_required
@require_GET
@never_cache
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The .ics of a feed. No session: the token is the credential."""
    found = services.feed_for_token(token)
    if found is None or not _allowed(found):
        # The same answer whatever was wrong, so a guess learns nothing.
        raise Http404("no such calendar")
    response = HttpResponse(build_calendar(found).to_ical(),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="secman.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- the page -------------------------------------------------------------------------------


class FeedForm(forms.Form):
    team = forms.ChoiceField(required=False, label="Calendar of",
                             help_text="Your own duties (and attestations you can give), or "
                             "all the duties of one of your teams.")

    def __init__(self, *args: Any, teams: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", "My duties")] + [
            (kind, f"{TeamKind(kind).label} team") for kind in teams]


def _page(request: HttpRequest, form: FeedForm, made: tuple[CalendarFeed, str] | None = None,
          status: int = 200) -> HttpResponse:
    me = actor_of(request)
    context = {
        "form": form,
        "feeds": CalendarFeed.objects.filter(person=me).order_by("-created_at"),
        "made": made[0] if made else None,
        "made_url": (settings.SITE_URL + reverse("compliance:calendar_feed",
                                                 args=[made[1]])) if made else "",
    }
    response = render(request, "compliance/calendar.html", context, status=status)
    if made:
        response["Cache-Control"] = "no-store"
    return response


def calendar_page(request: HttpRequest) -> HttpResponse:
    """GET: my feeds. POST: make one; its URL is shown in this response only."""
    me = actor_of(request)
    teams = [team for team in sorted(TeamKind.values) if services.may_subscribe(me, team)]
    form = FeedForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        made = refuse_to_messages(
            request, lambda: services.create_calendar_feed(actor=me,
                                                           team=form.cleaned_data["team"]),
            "Calendar feed made. Copy its address now: it is not shown again.")
        if made is not None:
            return _page(request, FeedForm(teams=teams), made)
    return _page(request, form)


@post_only(lambda pk: reverse("compliance:calendar"))
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    me = actor_of(request)
    found = get_object_or_404(CalendarFeed, pk=pk)
    if not services.may_revoke_feed(me, found):
        raise Http404("no such calendar feed")  # someone else's feed is not shown at all
    refuse_to_messages(request, lambda: services.revoke_calendar_feed(actor=me, feed=found),
                       "Calendar feed revoked: its address answers nothing from now on.")
    return redirect("compliance:calendar")
