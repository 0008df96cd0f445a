"""The network diagram's pages (SP 3.1.1): the current revision, every revision kept
(who drew it, when, after which change), and each revision's SVG and dot source."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from secman.core.views import actor_of, refuse_to_messages
from secman.systems import diagram
from secman.systems.choices import SystemStatus
from secman.systems.controls import diagram_up_to_date
from secman.systems.firewall import flows_in_effect
from secman.systems.models import DiagramRevision, System


def _reader(request: HttpRequest) -> Any:
    me = actor_of(request)
    refusal = diagram.why_not_see_network(me)
    if refusal is not None:
        raise PermissionDenied(str(refusal))
    return me


class DrawForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Which change this revision follows.")


def network(request: HttpRequest) -> HttpResponse:
    me = _reader(request)
    may_draw = diagram.may_draw_network(me) and me is not None
    form = DrawForm(request.POST or None)
    if request.method == "POST":
        if not may_draw:
            raise PermissionDenied("the network diagram is revised by Systems "
                                   "Administrators, their team leader and the Board")
        if form.is_valid():
            refuse_to_messages(request, lambda: diagram.draw_if_changed(
                actor=me, reason=form.cleaned_data["reason"]),
                "Diagram drawn (a new revision only if the register changed).")
            return redirect("systems:network")
    revisions = DiagramRevision.objects.select_related("created_by").defer("svg", "dot")
    findings = diagram_up_to_date()
    return render(request, "systems/network.html", {
        "current": revisions.first(), "revisions": revisions, "findings": findings,
        "systems": System.objects.exclude(status=SystemStatus.RETIRED).count(),
        "flows": flows_in_effect(None).count(),
        "may_draw": may_draw, "form": form,
    })


def _revision(request: HttpRequest, number: int) -> DiagramRevision:
    _reader(request)
    found = DiagramRevision.objects.filter(number=number).first()
    if found is None:
        raise Http404(f"no revision r{number} of the network diagram")
    return found


# The drawing is register text (names from imported documents) turned into SVG: served as
# an image with a policy that lets nothing in it run or load, even when opened directly.
SVG_POLICY = {"default-src": ["'none'"], "style-src": ["'unsafe-inline'"],
              "frame-ancestors": ["'none'"], "sandbox": [True]}


# csp's decorator is typed for views taking the request alone.
@csp(SVG_POLICY)  # type: ignore[arg-type]
def revision_svg(request: HttpRequest, number: int) -> HttpResponse:
    revision = _revision(request, number)
    response = HttpResponse(revision.svg, content_type="image/svg+xml; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = (f'attachment; filename="network-r{number}.svg"')
    response["X-Content-Type-Options"] = "nosniff"
    return response


def revision_dot(request: HttpRequest, number: int) -> HttpResponse:
    revision = _revision(request, number)
    response = HttpResponse(revision.dot, content_type="text/vnd.graphviz; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="network-r{number}.dot"'
    return response
