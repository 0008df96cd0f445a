"""Support's page: the actions on Members' accounts with their authority, the
Arbitrator's instructions, the channels, Triage and the filing decisions, each with the
form of the people who record it. Changes go through support.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from secman.core.views import perform, person_at_form
from secman.support import controls, services
from secman.support.forms import (
    ActionForm,
    ChannelForm,
    FilingForm,
    InstructionForm,
    QueryDecisionForm,
    QueryForm,
    QueryRunForm,
    TriageForm,
)
from secman.support.models import (
    AdHocQuery,
    Channel,
    Filing,
    Instruction,
    SupportAction,
    TriageMember,
)

READERS = ("support's records are for the Support Engineers, the Systems Administrators, "
           "the Arbitrators and Case Managers, the Board and auditors")


def _opt(value: Any) -> Any:
    return value or None


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    posted = request.POST.get("form") if request.method == "POST" else None
    specs: dict[str, tuple[type[forms.Form], Any, Any]] = {
        "action": (ActionForm, services.may_act, lambda d: services.perform_action(
            actor=me, member=d["member"], kind=d["kind"], role=d["role"],
            member_is_assurer=d["member_is_assurer"], authority_kind=d["authority_kind"],
            channel=d["channel"], message_reference=d["message_reference"],
            token=d["token"], interface=d["interface"], note=d["note"])),
        "instruction": (InstructionForm, services.may_instruct,
                        lambda d: services.issue_instruction(
                            actor=me, case=d["case"], member=d["member"],
                            instruction=d["instruction"])),
        "channel": (ChannelForm, services.may_lead, lambda d: services.record_channel(
            actor=me, name=d["name"], kind=d["kind"], address=d["address"],
            logged=d["logged"], logging=d["logging"], in_use=d["in_use"])),
        "triage": (TriageForm, services.may_lead, lambda d: services.appoint_triage(
            actor=me, name=d["name"], email=d["email"], assurer=d["assurer"],
            agreed_at=d["agreed_at"])),
        "filing": (FilingForm, services.may_act, lambda d: services.record_filing(
            actor=me, request_reference=d["request_reference"], decision=d["decision"],
            reason=d["reason"], case=_opt(d["case"]))),
        "query": (QueryForm, services.may_request_query, lambda d: services.request_query(
            actor=me, purpose=d["purpose"], query=d["query"], case=d["case"])),
        "decide": (QueryDecisionForm, services.may_instruct, lambda d: services.decide_query(
            actor=me, query=d["query"], approve=d["approve"])),
        "run": (QueryRunForm, services.may_run_query, lambda d: services.record_query_run(
            actor=me, query=d["query"], rows=d["rows"],
            result_handling=d["result_handling"])),
    }
    bound = {name: form_class(request.POST if posted == name else None, prefix=name)
             for name, (form_class, _may, _call) in specs.items()}
    if posted in specs:
        _form_class, may, call = specs[posted]
        person_at_form(request, may, "this is recorded by another role (SP/SM 8)")
        form = bound[posted]
        if form.is_valid():
            data = form.cleaned_data
            if perform(request, form, lambda: call(data), "Recorded.") is not None:
                return redirect("support:overview")
    findings = controls.channels_logged() + controls.triage_without_access()
    return render(request, "support/overview.html", {
        "forms": bound, "findings": findings,
        "may": {name: may(me) for name, (_f, may, _c) in specs.items()},
        "actions": SupportAction.objects.select_related(
            "performed_by", "channel", "instruction__case")[:50],
        "instructions": Instruction.objects.select_related("case", "issued_by")[:20],
        "channels": Channel.objects.all(),
        "triage": TriageMember.objects.filter(ended_at__isnull=True),
        "filings": Filing.objects.select_related("decided_by", "case")[:30],
        "roles": services.member_roles().values(),
        "queries": AdHocQuery.objects.select_related("case", "requested_by", "approved_by",
                                                     "run_by")[:30]})
