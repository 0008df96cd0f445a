"""The read-only Event Log pages (SM 4.2: logs are write-only; payloads of restricted
classes for Systems Administrators only), checkpoints, proofs and downloads."""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from secman.core.forms import DateInput
from secman.core.views import actor_of, post_only
from secman.eventlog import bundle, keys, proofs, services, verification
from secman.eventlog.models import (
    Checkpoint,
    Event,
    LegalHold,
    RetentionClass,
    RetentionPolicy,
    VerificationRun,
    WitnessCheckpoint,
)
from secman.eventlog.selectors import PayloadAccess, may_administer_log


class EventFilter(forms.Form):
    action = forms.ChoiceField(required=False)
    retention_class = forms.ChoiceField(
        required=False, label="Class", choices=[("", "all"), *RetentionClass.choices])
    # The actor is a person (people app, above the Event Log): reached through the
    # relation rather than an import.
    actor = forms.ModelChoiceField(
        queryset=Event._meta.get_field("actor").related_model._default_manager.all(),
        required=False)
    since = forms.DateField(required=False, widget=DateInput)
    until = forms.DateField(required=False, widget=DateInput)
    authority = forms.CharField(required=False, max_length=40)
    subject = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = Event.objects.order_by("action").values_list("action", flat=True).distinct()
        action = cast(forms.ChoiceField, self.fields["action"])
        action.choices = [("", "all"), *((a, a) for a in actions)]


def events(request: HttpRequest) -> HttpResponse:
    access = PayloadAccess(actor_of(request))
    form = EventFilter(request.GET or None)
    rows: QuerySet[Event] = Event.objects.select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if data["retention_class"]:
            rows = rows.filter(retention_class=data["retention_class"])
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
        if data["actor"] or data["authority"] or data["subject"]:
            rows = access.searchable(rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = access.marked(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "eventlog/events.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "checkpoint": Checkpoint.objects.select_related("key").first(),
        "verification": VerificationRun.objects.first(),
        "may_verify": may_administer_log(access.reader),
        "size": proofs.tree_size(),
        # Metadata (action and time), so shown to every reader: a burst is worth a look.
        "failed_logins": Event.objects.filter(
            action="login.failed",
            recorded_at__gte=timezone.now() - dt.timedelta(hours=24)).count(),
    })


def event(request: HttpRequest, seq: int) -> HttpResponse:
    entry = get_object_or_404(Event.objects.select_related("actor"), seq=seq)
    access = PayloadAccess(actor_of(request))
    previous = Event.objects.filter(seq=seq - 1).values_list("leaf_hash", flat=True).first()
    expected_prev = previous or (services.GENESIS_HASH if seq == 1 else None)
    return render(request, "eventlog/event.html", {
        "event": entry,
        "visible": access.visible(entry),
        "hash_ok": entry.purged_at is not None
        or services.leaf_hex(entry.canonical.encode()) == entry.leaf_hash,
        "chain_ok": expected_prev is not None and entry.prev_hash == expected_prev,
    })


def event_proof(request: HttpRequest, seq: int) -> JsonResponse:
    get_object_or_404(Event, seq=seq)
    proof = proofs.inclusion_proof(seq)
    return JsonResponse(proof, json_dumps_params={"indent": 2})


def checkpoints(request: HttpRequest) -> HttpResponse:
    return render(request, "eventlog/checkpoints.html", {
        "checkpoints": Checkpoint.objects.select_related("key")[:100],
        "keys": keys.verifier_keys(),
        "witnesses": WitnessCheckpoint.objects.all()[:20],
        "policies": RetentionPolicy.objects.all(),
        "holds": LegalHold.objects.filter(released_at__isnull=True).select_related("case"),
        "runs": VerificationRun.objects.all()[:10],
    })


def checkpoint(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Checkpoint, pk=pk)
    response = HttpResponse(row.note, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{row.tree_size}.txt"'
    return response


def public_keys(request: HttpRequest) -> HttpResponse:
    return HttpResponse("\n".join(keys.verifier_keys()) + "\n",
                        content_type="text/plain; charset=utf-8")


@post_only(lambda: reverse("eventlog:events"))
def verify_now(request: HttpRequest) -> HttpResponse:
    me = actor_of(request)
    if not may_administer_log(me):
        raise PermissionDenied("Verification on demand is for Systems Administrators.")
    run = verification.run(by=me)
    if run.ok:
        messages.success(request, f"Verified {run.entries} entries and {run.checkpoints} "
                                  "checkpoints: the log is intact.")
    else:
        messages.error(request, "Verification FAILED: " + run.problems.splitlines()[0])
    return redirect("eventlog:events")


def export(request: HttpRequest) -> FileResponse:
    """A bundle an auditor verifies offline (python -m secman.eventlog.verify DIR)."""
    me = actor_of(request)
    if not may_administer_log(me):
        # The bundle holds every payload, restricted classes included.
        raise PermissionDenied("Export bundles are for Systems Administrators.")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "eventlog-bundle"
        bundle.export(target, actor=me)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            archive.add(target, arcname="eventlog-bundle")
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="eventlog-bundle.tar.gz",
                        content_type="application/gzip")
