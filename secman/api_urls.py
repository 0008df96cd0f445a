"""The REST API under /api/: one router for every app's viewsets, the OpenAPI schema
and its docs page, served locally (no CDN) under the site's strict CSP."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView, DefaultRouter

from secman.authority.api import (
    ArbitrationCaseViewSet,
    BoardDecisionViewSet,
    SignOffRequestViewSet,
)
from secman.compliance.api import (
    AcceptView,
    AttestView,
    ControlsView,
    ControlView,
    OccurrenceViewSet,
)
from secman.core.api import SecmanAPIView
from secman.eventlog.api import (
    CheckpointViewSet,
    ConsistencyProofView,
    EventViewSet,
    InclusionProofView,
    KeysView,
    VerifyView,
    WitnessView,
)
from secman.people.api import (
    AccessListViewSet,
    MeView,
    PersonViewSet,
    ProposalViewSet,
    TeamViewSet,
    TokenView,
)
from secman.physical.api import ComputerViewSet, FacilityViewSet, MediaViewSet
from secman.privileged.api_grants import GrantViewSet, SchemeViewSet, SecretViewSet
from secman.privileged.api_keys import AccountViewSet, SshKeyViewSet
from secman.privileged.api_leavers import ChecklistViewSet, RemovalViewSet
from secman.systems.api import FlowViewSet, SystemViewSet
from secman.systems.api_agent import AgentReportView
from secman.systems.api_patches import (
    ConfigurationChangeViewSet,
    OsLifecycleView,
    PatchViewSet,
    SummaryView,
)
from secman.visits.api import DeviceViewSet, VisitViewSet

app_name = "api"


class RootView(SecmanAPIView, APIRootView):
    """The index of the API, under the same authentication and permission as the rest."""


class Router(DefaultRouter):
    # Format suffixes (`.json`) would swallow the dot in m20100222.1 and a20090525.1.
    include_format_suffixes = False
    APIRootView = RootView


router = Router()
router.register("people", PersonViewSet, basename="person")
router.register("teams", TeamViewSet, basename="team")
router.register("lists", AccessListViewSet, basename="list")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("decisions", BoardDecisionViewSet, basename="decision")
router.register("cases", ArbitrationCaseViewSet, basename="case")
router.register("signoffs", SignOffRequestViewSet, basename="signoff")
router.register("events", EventViewSet, basename="event")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("computers", ComputerViewSet, basename="computer")
router.register("media", MediaViewSet, basename="media")
router.register("facilities", FacilityViewSet, basename="facility")
router.register("visits", VisitViewSet, basename="visit")
router.register("devices", DeviceViewSet, basename="device")
router.register("occurrences", OccurrenceViewSet, basename="occurrence")
router.register("systems", SystemViewSet, basename="system")
router.register("flows", FlowViewSet, basename="flow")
router.register("patches", PatchViewSet, basename="patch")
router.register("changes", ConfigurationChangeViewSet, basename="change")
router.register("ssh-keys", SshKeyViewSet, basename="ssh-key")
router.register("accounts", AccountViewSet, basename="account")
router.register("authentication-schemes", SchemeViewSet, basename="authentication-scheme")
router.register("grants", GrantViewSet, basename="grant")
router.register("secrets", SecretViewSet, basename="secret")
router.register("access-removals", RemovalViewSet, basename="access_removal")
router.register("checklists", ChecklistViewSet, basename="checklist")


class SchemaView(SecmanAPIView, SpectacularAPIView):
    """The schema is readable by the same people as the API (drf-spectacular's default
    would publish it to anyone)."""


class DocsView(SecmanAPIView, SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's static files; its setup script is
    served from this same URL (?script), so no inline script is needed."""


# A page for browsers: an anonymous visitor is sent to the login page, as elsewhere on
# the site, rather than answered with JSON.
docs_view = DocsView.as_view(url_name="api:schema")
# An attribute Django's LoginRequiredMiddleware reads on the view function, which the
# stubs do not declare.
docs_view.login_required = True  # type: ignore[attr-defined]

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/token/", TokenView.as_view(), name="token"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", docs_view, name="docs"),
    path("eventlog/proofs/inclusion/", InclusionProofView.as_view(), name="inclusion"),
    path("eventlog/proofs/consistency/", ConsistencyProofView.as_view(), name="consistency"),
    path("eventlog/keys/", KeysView.as_view(), name="keys"),
    path("eventlog/verify/", VerifyView.as_view(), name="verify"),
    path("eventlog/witness/", WitnessView.as_view(), name="witness"),
    path("compliance/controls/", ControlsView.as_view(), name="controls"),
    path("compliance/controls/<str:control_id>/", ControlView.as_view(), name="control"),
    path("compliance/controls/<str:control_id>/attest/", AttestView.as_view(),
         name="attest"),
    path("compliance/controls/<str:control_id>/accept/", AcceptView.as_view(),
         name="accept"),
    path("agent/reports/", AgentReportView.as_view(), name="agent_reports"),
    path("os-lifecycle/", OsLifecycleView.as_view(), name="systems_os"),
    path("patch-summary/", SummaryView.as_view(), name="systems_summary"),
    *router.urls,
]

# LoginRequiredMiddleware would redirect anonymous API clients to the HTML login page.
# DRF marks its views login_not_required since 3.16; doing it here as well keeps the API
# answering 401 JSON with any DRF version pyproject allows.
for pattern in urlpatterns:
    if pattern.callback is not None and pattern.callback is not docs_view:
        login_not_required(pattern.callback)
