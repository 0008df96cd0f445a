"""Pages for patches, configuration changes, the OS lifecycle and the team leader's
summary to the Board (SP 3.2.3, 3.2.3.1, SM 3.2, 4.1.3). The services decide; a page
shows each person the actions they may take and nothing else."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from secman.authority.models import SignOffRequest
from secman.compliance.models import Acceptance
from secman.core.controls import TONE, Status
from secman.core.errors import Refused
from secman.core.forms import AuthorityField, DateInput
from secman.core.views import actor_of, perform, person_at_form, refuse_to_messages
from secman.eventlog.selectors import history_for
from secman.systems import controls, oslifecycle, patches
from secman.systems.choices import PatchStatus, SystemStatus
from secman.systems.models import ConfigurationChange, Patch, System

# --- forms ---------------------------------------------------------------------------------


class PatchForm(forms.Form):
    advisory = forms.CharField(max_length=60, help_text="DSA-5678-1, DLA-3456-1 or "
                               "CVE-2026-1234")
    title = forms.CharField(max_length=300, help_text="What the patch fixes.")
    packages = forms.CharField(max_length=4000, help_text="The Debian packages it updates, "
                               "separated by spaces or commas.")
    systems = forms.ModelMultipleChoiceField(queryset=System.objects.none())
    emergency = forms.BooleanField(required=False, help_text="A remote exploit is known "
                                   "(SP 3.2.3.1): it may be applied before approval.")
    exploit = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="For an emergency: the known exploit.")
    authority = AuthorityField(initial="SP 3.2.3")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["systems"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = System.objects.exclude(status=SystemStatus.RETIRED)

    def clean_packages(self) -> list[str]:
        return self.cleaned_data["packages"].replace(",", " ").split()


class ChangeForm(forms.Form):
    system = forms.ModelChoiceField(queryset=System.objects.none())
    summary = forms.CharField(max_length=300)
    rcs_reference = forms.CharField(max_length=200, label="RCS reference",
                                    help_text="Repository and commit: cacert-puppet@1a2b3c4")
    covers = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in patches.COVERS],
        widget=forms.CheckboxSelectMultiple,
        help_text="What of the host agent's facts the change alters.")
    made_at = forms.DateTimeField(required=False, help_text="When it was made (UTC, "
                                  "YYYY-MM-DD HH:MM); empty: now.")
    authority = AuthorityField(initial="SM 4.1.3")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["system"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = System.objects.exclude(status=SystemStatus.RETIRED)


class PatchActionForm(forms.Form):
    """One form per action on a patch's page; `action` says which."""

    action = forms.ChoiceField(widget=forms.HiddenInput, choices=[
        (a, a) for a in ("approve", "remedial", "apply", "report", "backup", "withdraw")])
    text = forms.CharField(required=False, max_length=4000, label="",
                           widget=forms.Textarea(attrs={"rows": 2}))


class PeriodForm(forms.Form):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (both days included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are named here, not as attributes.
        self.fields["from"] = forms.DateField(label="From", widget=DateInput)
        self.fields["to"] = forms.DateField(label="To", widget=DateInput)


# --- who may read -----------------------------------------------------------------------------


def _reader(request: HttpRequest) -> Any:
    me = actor_of(request)
    refusal = patches.why_not_see_patches(me)
    if refusal is not None:
        raise PermissionDenied(str(refusal))
    return me


SYSADMINS_ONLY = "patches and configuration changes are recorded by Systems Administrators " \
                 "(SP 3.2.3, SM 4.1.3)"


def _sysadmin_at_form(request: HttpRequest) -> Any:
    _reader(request)
    return person_at_form(request, patches.may_propose, SYSADMINS_ONLY)


# --- patches -------------------------------------------------------------------------------

STATUS_TONE = {PatchStatus.PROPOSED: "warn", PatchStatus.APPROVED: "warn",
               PatchStatus.APPLIED: "bad", PatchStatus.REPORTED: "ok",
               PatchStatus.WITHDRAWN: ""}


def patch_list(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    status = request.GET.get("status", "")
    rows = Patch.objects.select_related("case").prefetch_related("systems")
    if status in PatchStatus.values:
        rows = rows.filter(status=status)
    elif status == "emergency":
        rows = rows.filter(emergency=True)
    counts = {value: Patch.objects.filter(status=value).count()
              for value in PatchStatus.values}
    tiles = [(label, counts[value], value, STATUS_TONE[PatchStatus(value)] if counts[value]
              else "zero") for value, label in PatchStatus.choices]
    emergencies = Patch.objects.filter(emergency=True).count()
    tiles.append(("Emergency patches", emergencies, "emergency", "bad" if emergencies
                  else "zero"))
    findings = (controls.emergency_patches_decided() + controls.patches_reported()
                + controls.backups_after_patches())
    return render(request, "systems/patches.html", {
        "rows": rows[:500], "status": status, "tiles": tiles, "findings": findings,
        "may_propose": patches.may_propose(me)})


def patch_new(request: HttpRequest) -> HttpResponse:
    me = _sysadmin_at_form(request)
    form = PatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = perform(request, form, lambda: patches.propose_patch(
            actor=me, advisory=data["advisory"], title=data["title"],
            packages=data["packages"], systems=list(data["systems"]),
            emergency=data["emergency"], exploit=data["exploit"],
            authority=data["authority"]), "Patch proposed.")
        if created:
            return redirect(created)
    return render(request, "systems/patch_form.html", {"form": form,
                                                        "title": "Propose a patch"})


def _offered(me: Any, patch: Patch) -> list[tuple[str, str, str]]:
    """The actions this person may take on the patch now: (action, button, what the
    text box asks for, or "" for none)."""
    offered = []
    leader, sysadmin = patches.may_approve(me), patches.may_propose(me)
    undecided = patch.approved_at is None and patch.remedial_at is None
    waiting = patches.application_waiting(patch)
    if leader and undecided and (patch.status == PatchStatus.PROPOSED or (
            patch.emergency and patch.status in (PatchStatus.APPLIED, PatchStatus.REPORTED))):
        offered.append(("approve", "Approve", ""))
    if leader and undecided and patch.emergency and patch.applied_at is not None:
        offered.append(("remedial", "Instruct remedial action", "What is to be done"))
    if sysadmin and not waiting and (patch.status == PatchStatus.APPROVED or (
            patch.status == PatchStatus.PROPOSED and patch.emergency)):
        offered.append(("apply", "Apply under four eyes (I execute)", ""))
    if sysadmin and patch.status == PatchStatus.APPLIED:
        offered.append(("report", "Send the report to the SA list again", ""))
    if sysadmin and patch.applied_at is not None and patch.backup_recorded_at is None:
        offered.append(("backup", "Record the backup", "The backup's name or entry"))
    if (me.pk == patch.proposed_by_id or leader) and not waiting and patch.status in (
            PatchStatus.PROPOSED, PatchStatus.APPROVED):
        offered.append(("withdraw", "Withdraw", "Why"))
    return offered


def patch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me = _reader(request)
    subject = get_object_or_404(Patch.objects.select_related(
        "signoff", "case", "proposed_by", "approved_by", "remedial_by"), pk=pk)
    if request.method == "POST":
        form = PatchActionForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            actions: dict[str, Callable[[], Any]] = {
                "approve": lambda: patches.approve_patch(actor=me, patch=subject),
                "remedial": lambda: patches.instruct_remedial_action(
                    actor=me, patch=subject, instruction=text),
                "apply": lambda: patches.start_application(actor=me, patch=subject),
                "report": lambda: patches.report_patch(actor=me, patch=subject),
                "backup": lambda: patches.record_backup_after_patch(
                    actor=me, patch=subject, reference=text),
                "withdraw": lambda: patches.withdraw_patch(actor=me, patch=subject,
                                                           reason=text),
            }
            done = refuse_to_messages(request, actions[form.cleaned_data["action"]],
                                      "Recorded.")
            if isinstance(done, SignOffRequest):
                return redirect(done)
        return redirect(subject)
    signoffs = patches.signoff_summary(subject.signoff) if subject.signoff else []
    findings = [f for f in (controls.emergency_patches_decided() + controls.patches_reported()
                            + controls.backups_after_patches())
                if f.subject == f"patch:{subject.pk}"]
    return render(request, "systems/patch.html", {
        "patch": subject, "systems": subject.systems.all(), "signoffs": signoffs,
        "offered": _offered(me, subject), "findings": findings,
        "history": history_for(subject, me)})


# --- configuration changes -------------------------------------------------------------------


def change_list(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    rows = ConfigurationChange.objects.select_related("system", "recorded_by", "authority")
    system = request.GET.get("system", "")
    if system:
        # A NUL cannot be compared by PostgreSQL, and names no system.
        rows = rows.filter(system__name=system) if "\x00" not in system else rows.none()
    since = timezone.now() - dt.timedelta(days=90)
    return render(request, "systems/changes.html", {
        "rows": rows[:500], "system": system,
        "recent": ConfigurationChange.objects.filter(made_at__gte=since).count(),
        "total": ConfigurationChange.objects.count(),
        "may_record": patches.may_propose(me)})


def change_new(request: HttpRequest) -> HttpResponse:
    me = _sysadmin_at_form(request)
    form = ChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = perform(request, form, lambda: patches.record_change(
            actor=me, system=data["system"], summary=data["summary"],
            rcs_reference=data["rcs_reference"], covers=data["covers"],
            made_at=data["made_at"], authority=data["authority"]),
            "Configuration change recorded.")
        if created:
            return redirect("systems:changes")
    return render(request, "systems/change_form.html", {
        "form": form, "title": "Record a configuration change"})


# --- OS lifecycle ------------------------------------------------------------------------------


def os_rows(day: dt.date) -> tuple[list[dict[str, Any]], str]:
    """Each system with its release, support, end date, days left and tone; and the
    calendar's error, if it cannot be read."""
    try:
        releases = oslifecycle.read_releases()
    except oslifecycle.DistroInfoError as exc:
        return [], str(exc)
    findings = {f.subject: f for f in controls.os_lifecycle_findings(day)}
    accepted = {a.subject: a for a in Acceptance.objects.filter(
        control_id="systems.os_lifecycle", withdrawn_at__isnull=True).select_related(
        "authority") if a.is_active(timezone.now())}
    rows = []
    for system in System.objects.exclude(status=SystemStatus.RETIRED):
        subject = controls.system_subject(system)
        state = oslifecycle.lifecycle(system.os_release, day, releases)
        finding = findings.get(subject)
        status = finding.status if finding else Status.OK
        acceptance = accepted.get(subject)
        rows.append({"system": system, "state": state, "finding": finding,
                     "status": status, "acceptance": acceptance,
                     "tone": "accepted" if acceptance and status != Status.OK
                     else TONE[status]})
    return rows, ""


def os_page(request: HttpRequest) -> HttpResponse:
    _reader(request)
    day = timezone.localdate()
    rows, error = os_rows(day)
    counts = {tone: sum(1 for r in rows if r["tone"] == tone)
              for tone in ("ok", "warn", "bad", "accepted")}
    return render(request, "systems/os.html", {
        "rows": rows, "error": error, "day": day, "counts": counts})


# --- the Board summary (SP 3.2.3.1) ----------------------------------------------------------


def summary_page(request: HttpRequest) -> HttpResponse:
    _reader(request)
    start, end = patches.last_quarter(timezone.localdate())
    form = PeriodForm(request.GET if "from" in request.GET or "to" in request.GET
                      else {"from": start, "to": end})
    result, error = None, ""
    if form.is_valid():
        try:
            result = patches.summary(form.cleaned_data["from"], form.cleaned_data["to"])
        except Refused as exc:
            error = str(exc)
    if result is not None and request.GET.get("format") == "csv":
        return _summary_csv(result)
    return render(request, "systems/summary.html", {
        "form": form, "summary": result, "error": error})


def _summary_csv(result: patches.Summary) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "when", "what", "systems", "status", "case", "reference"])
    for patch in result.patches:
        writer.writerow(["emergency patch" if patch.emergency else "patch",
                         f"{patch.applied_at or patch.proposed_at:%Y-%m-%d %H:%M}",
                         _cell(f"{patch.advisory} {patch.title}"),
                         " ".join(s.name for s in patch.systems.all()), patch.status,
                         patch.case.number if patch.case else "",
                         patch.remedial_action and _cell(patch.remedial_action)])
    for change in result.changes:
        writer.writerow(["configuration change", f"{change.made_at:%Y-%m-%d %H:%M}",
                         _cell(change.summary), change.system.name, "", "",
                         _cell(change.rcs_reference)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="systems-summary-'
                                       f'{result.start}-{result.end}.csv"')
    return response


def _cell(text: str) -> str:
    """A spreadsheet does not run what a cell holds (CSV formula injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
