"""The systems' logs pages. Everyone signed in sees the counts, the volume chart, the
anomalies and the rules; the messages themselves (the search, a message, an anomaly's
evidence) only Systems Administrators, and each reading is an Event Log entry (SM 4.2.2,
enforced in logs.services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from secman.core.errors import Refused
from secman.core.views import actor_of, perform, person_at_form, post_only
from secman.logs import rules as rule_services
from secman.logs import selectors, services, tree
from secman.logs.forms import ExamineForm, RuleForm, SearchForm
from secman.logs.models import Anomaly, AnomalyMessage, AnomalyStatus, DetectionRule, Message

READERS_ONLY = ("the systems' logs are read by Systems Administrators only (SM 4.2.2); "
                "everyone sees their counts")


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    me = actor_of(request)
    now = timezone.now()
    days = 2 if request.GET.get("span") != "30" else 30
    since = now - dt.timedelta(days=days)
    chart = selectors.volume(since, now, hourly=days <= 2)
    return render(request, "logs/overview.html", {
        "state": selectors.state(), "counts": selectors.counts(since, now), "chart": chart,
        "bars": _bars(chart), "days": days, "may_read": services.may_read(me)})


def _bars(chart: dict[str, Any]) -> list[dict[str, Any]]:
    """Each host's bars as SVG rectangles (no script: the CSP allows none inline)."""
    width, height = 600, 60
    slots = chart["slots"] or [None]
    step = width / len(slots)
    peak = chart["peak"] or 1
    drawn = []
    for host, values in chart["hosts"]:
        rects = []
        for index, value in enumerate(values):
            if value:
                h = max(1.0, height * value / peak)
                rects.append({"x": round(index * step, 2), "y": round(height - h, 2),
                              "w": round(max(step - 1, 1), 2), "h": round(h, 2),
                              "n": value, "at": chart["slots"][index]})
        drawn.append({"host": host, "rects": rects, "total": sum(values)})
    return drawn


@login_required
def search(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS_ONLY)
    form = SearchForm(request.GET or None)
    rows: list[Message] = []
    more = False
    searched = False
    page = 1
    if request.GET and form.is_valid():
        data = form.cleaned_data
        page = data.get("page") or 1
        query = services.Search(host=data["host"].strip(), log_class=data["log_class"],
                                since=_utc(data["since"]), until=_utc(data["until"]),
                                text=data["text"])
        try:
            rows, more = services.search(actor=me, search=query, page=page)
            searched = True
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "logs/search.html", {
        "form": form, "rows": rows, "more": more, "searched": searched, "page": page,
        "query": params.urlencode()})


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@login_required
def message(request: HttpRequest, seq: int) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS_ONLY)
    try:
        row = services.read_message(actor=me, seq=seq)
    except Refused as exc:
        raise PermissionDenied(str(exc)) from None
    checkpoint = selectors.state()["checkpoint"]
    proof = None
    if checkpoint is not None and seq < checkpoint.tree_size:
        proof = [h.hex() for h in tree.inclusion(seq, checkpoint.tree_size)]
    links = (AnomalyMessage.objects.filter(message_id=seq).select_related("anomaly__rule")
             .order_by("anomaly_id"))
    return render(request, "logs/message.html", {"m": row, "checkpoint": checkpoint,
                                                 "proof": proof, "links": links})


@login_required
def anomalies(request: HttpRequest) -> HttpResponse:
    actor_of(request)
    status = request.GET.get("status", "open")
    rows = Anomaly.objects.select_related("rule", "examined_by").order_by("-last_seen")
    if status in AnomalyStatus.values:
        rows = rows.filter(status=status)
    statuses = [(value, label, Anomaly.objects.filter(status=value).count())
                for value, label in AnomalyStatus.choices]
    return render(request, "logs/anomalies.html", {
        "rows": rows[:500], "status": status, "statuses": statuses,
        "may_read": services.may_read(actor_of(request))})


@login_required
def anomaly(request: HttpRequest, pk: int) -> HttpResponse:
    me = actor_of(request)
    row = get_object_or_404(Anomaly.objects.select_related("rule", "examined_by"), pk=pk)
    may_read = services.may_read(me)
    form = ExamineForm(request.POST or None)
    if request.method == "POST":
        person_at_form(request, services.may_examine, READERS_ONLY)
        if form.is_valid() and perform(request, form, lambda: services.examine(
                actor=me, anomaly=row, outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"]), "Recorded.") is not None:
            return redirect(row.get_absolute_url())
    evidence = services.read_evidence(actor=me, anomaly=row) if may_read else []
    return render(request, "logs/anomaly.html", {
        "a": row, "evidence": evidence, "may_read": may_read, "form": form,
        "may_examine": services.may_examine(me) and row.status == AnomalyStatus.OPEN})


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    me = actor_of(request)
    from secman.logs.models import ClassRule

    return render(request, "logs/rules.html", {
        "rows": DetectionRule.objects.order_by("name"),
        "class_rules": ClassRule.objects.order_by("position", "id"),
        "may_change": rule_services.may_change(me), "may_read": services.may_read(me)})


@login_required
def rule(request: HttpRequest, name: str) -> HttpResponse:
    me = actor_of(request)
    row = get_object_or_404(DetectionRule, name=name)
    may_change = rule_services.may_change(me)
    form = RuleForm(request.POST or None, initial={"yaml": row.yaml})
    if request.method == "POST":
        person_at_form(request, rule_services.may_change, READERS_ONLY)
        if form.is_valid() and perform(request, form, lambda: rule_services.change_detection_rule(
                actor=me, rule=row, authority=form.cleaned_data["authority"],
                yaml_text=form.cleaned_data["yaml"].replace("\r\n", "\n")),
                "A new version of the rule examines the messages from now on.") is not None:
            return redirect(row.get_absolute_url())
    from secman.eventlog.models import Event

    history = Event.objects.filter(subject_type="logs.detectionrule",
                                   subject_id=str(row.pk)).order_by("-seq")[:50]
    return render(request, "logs/rule.html", {"r": row, "form": form, "may_change": may_change,
                                              "history": history,
                                              "may_read": services.may_read(me)})


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, rule_services.may_change, READERS_ONLY)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: rule_services.add_detection_rule(
            actor=me, yaml_text=form.cleaned_data["yaml"].replace("\r\n", "\n"),
            authority=form.cleaned_data["authority"]), "The rule examines the messages "
            "from now on.")
        if created is not None:
            return redirect(created.get_absolute_url())
    return render(request, "people/form.html", {"form": form, "title": "New detection rule",
                                                "back": reverse("logs:rules")})


@login_required
@post_only(lambda name: reverse("logs:rule", args=[name]))
def rule_enabled(request: HttpRequest, name: str) -> HttpResponse:
    me = person_at_form(request, rule_services.may_change, READERS_ONLY)
    row = get_object_or_404(DetectionRule, name=name)
    try:
        rule_services.change_detection_rule(
            actor=me, rule=row, authority=request.POST.get("authority") or "SM 5.2",
            enabled=request.POST.get("enabled") == "on")
        messages.success(request, "Changed.")
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect(row.get_absolute_url())
