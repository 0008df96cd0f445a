"""The read-only Event Log pages (SM 4.2: logs are write-only; everyone reads)."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from secman.core.forms import DateInput
from secman.eventlog.models import Event
from secman.eventlog.services import GENESIS_HASH, entry_hash
from secman.people.models import Person


class EventFilter(forms.Form):
    action = forms.ChoiceField(required=False)
    actor = forms.ModelChoiceField(queryset=Person.objects.all(), required=False)
    since = forms.DateField(required=False, widget=DateInput)
    until = forms.DateField(required=False, widget=DateInput)
    authority = forms.CharField(required=False, max_length=40)
    subject = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        actions = Event.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "all"), *((a, a) for a in actions)]


def events(request: HttpRequest) -> HttpResponse:
    form = EventFilter(request.GET or None)
    rows = Event.objects.select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if data["actor"]:
            rows = rows.filter(actor=data["actor"])
        if data["since"]:
            rows = rows.filter(recorded_at__date__gte=data["since"])
        if data["until"]:
            rows = rows.filter(recorded_at__date__lte=data["until"])
        if data["authority"]:
            rows = rows.filter(authority__iexact=data["authority"].strip())
        if data["subject"] and ":" in data["subject"]:
            subject_type, subject_id = data["subject"].split(":", 1)
            rows = rows.filter(subject_type=subject_type, subject_id=subject_id)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "eventlog/events.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


def event(request: HttpRequest, seq: int) -> HttpResponse:
    entry = get_object_or_404(Event.objects.select_related("actor"), seq=seq)
    previous = Event.objects.filter(seq=seq - 1).values_list("entry_hash", flat=True).first()
    expected_prev = previous or (GENESIS_HASH if seq == 1 else None)
    return render(request, "eventlog/event.html", {
        "event": entry,
        "hash_ok": entry_hash(entry.canonical.encode()) == entry.entry_hash,
        "chain_ok": expected_prev is not None and entry.prev_hash == expected_prev,
    })
