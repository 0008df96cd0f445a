"""The host agent's pages: a system's agent panel (its last report against the register,
its drift findings), issuing and revoking its token, and the agent script's download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from secman.core.errors import Refused
from secman.core.views import actor_of, post_only
from secman.systems import agents, drift
from secman.systems.models import System
from secman.systems.selectors import flows_in_effect

AGENT_SCRIPT = Path(__file__).with_name("agent") / "secman_agent.py"
READERS_ONLY = ("the host agents' reports are read by Systems Administrators, the Board, "
                "auditors and the administrator (SP 3.2.2)")
MANAGERS_ONLY = "agent tokens are issued and revoked by Systems Administrators (SP 3.2.2)"


class TokenForm(forms.Form):
    authority = forms.CharField(initial="SP 3.2.2", max_length=60, help_text=(
        "What authorises it: a section (SP 3.2.2), a Board decision (m20251101.1) or an "
        "Arbitration case (a20090525.1)."))


def _reader(request: HttpRequest) -> Any:
    me = actor_of(request)
    if not agents.may_see_agents(me):
        raise PermissionDenied(READERS_ONLY)
    return me


def _manager(request: HttpRequest) -> Any:
    me = actor_of(request)
    if not agents.may_manage_tokens(me):
        raise PermissionDenied(MANAGERS_ONLY)
    return me


def port_rows(found: drift.Drift) -> list[dict[str, Any]]:
    """What the last report showed listening beyond loopback, beside the register: each
    socket with the flow that documents it (or none), then each documented port that
    does not listen."""
    if found.newest is None:
        return []
    flows = list(flows_in_effect(found.system).filter(direction="ingress"))
    exposed = found.newest.derived.get("exposed", [])
    rows = []
    for protocol, port, address, process in exposed:
        flow = next((f for f in flows if drift.port_matches(f, protocol, port)), None)
        rows.append({"port": f"{port}/{protocol}", "address": address, "process": process,
                     "flow": flow, "state": "documented" if flow else "undocumented"})
    for flow in flows:
        if flow.port is not None and flow.protocol in ("tcp", "udp") and not any(
                drift.port_matches(flow, p, n) for p, n, *_ in exposed):
            rows.append({"port": flow.port_label, "address": "", "process": "", "flow": flow,
                         "state": "not listening"})
    return rows


def panel_context(system: System, me: Any) -> dict[str, Any]:
    """What templates/systems/_agent.html needs (the system page includes it too)."""
    found = drift.system_drift(system)
    tokens = list(system.agent_tokens.all()[:5])
    newest = system.reports.first()
    return {
        "system": system, "drift": found, "findings": found.findings, "newest": newest,
        "live_token": next((t for t in tokens if t.revoked_at is None), None),
        "tokens": tokens, "ports": port_rows(found),
        "report_count": system.reports.count(),
        "silent": any(f.subject.startswith(f"agent.{drift.SILENT}:") for f in found.findings),
        "may_manage": agents.may_manage_tokens(me), "form": TokenForm(),
    }


def agent(request: HttpRequest, name: str) -> HttpResponse:
    me = _reader(request)
    system = get_object_or_404(System, name=name)
    return render(request, "systems/agent.html", panel_context(system, me))


def _back(name: str) -> str:
    return reverse("systems:agent", args=[name])


@post_only(_back)
def token_issue(request: HttpRequest, name: str) -> HttpResponse:
    me = _manager(request)
    system = get_object_or_404(System, name=name)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token = agents.issue_token(actor=me, system=system,
                                       authority=form.cleaned_data["authority"])
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            response = render(request, "systems/agent_token.html", {
                "system": system, "token": token,
                "server": request.build_absolute_uri("/").rstrip("/"),
                "script_url": request.build_absolute_uri(reverse("systems:agent_script"))})
            # Shown once: no browser or proxy keeps a copy of this page.
            response["Cache-Control"] = "no-store"
            return response
    context = panel_context(system, me)
    context["form"] = form
    return render(request, "systems/agent.html", context, status=400)


@post_only(_back)
def token_revoke(request: HttpRequest, name: str) -> HttpResponse:
    me = _manager(request)
    system = get_object_or_404(System, name=name)
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the authority for revoking the token.")
        return redirect(_back(name))
    try:
        revoked = agents.revoke_token(actor=me, system=system,
                                      authority=form.cleaned_data["authority"])
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Token {revoked.prefix}… revoked: {system}'s agent "
                                  "reports are refused from now on.")
    return redirect(_back(name))


def agent_script(request: HttpRequest) -> FileResponse:
    """The agent itself, to read and install: everyone signed in may fetch it (it holds
    no secret; the token is issued separately)."""
    actor_of(request)
    return FileResponse(AGENT_SCRIPT.open("rb"), as_attachment=True,
                        filename="secman-agent", content_type="text/x-python")
