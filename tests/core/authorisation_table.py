"""The authorisation table (issue 13): for every URL the resolver knows and every method
it answers, what each kind of person meets, declared once from docs/security.md and the
Security Policy. tests/core/test_authorisation.py asks every row as every kind of person
(GET as it is; POST, PUT and PATCH with an empty body: enough to tell "refused" from "let
through to the form or the service", which then says what is missing) and fails on a
route the table does not declare.

Outcomes:
- allowed: the request got past authorisation (200, 201, 400 for an empty body, a form
  shown again with its errors, or a redirect after a form was handled);
- refused: 403, or a service's NotAllowed shown as a message or, after a POST, as the
  form's error;
- login: not signed in (302 to the login page, or 401 from the API);
- not-found: 404 (also "not yours" where existence itself is private, like report jobs);
- redirect: a GET of an action URL that leads back to its page (core.views.post_only);
- method: 405.

Read a row as: the URL (filled from the demo organisation in the test's world), then per
method who gets what. `rule(default, **overrides)` gives everyone signed in `default`
and the signed-out `login`; `only(...)` allows the named kinds of person and refuses the
rest. Kinds of person are the SP's roles (core.roles.Role) as held by one demo person
each, plus the signed-out visitor, a member with no role and the secman administrator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ALLOWED, REFUSED, LOGIN, NOT_FOUND = "allowed", "refused", "login", "not-found"
REDIRECT, METHOD = "redirect", "method"

# kind of person -> the demo login that is it (None: not signed in). Team members are not
# their team's leader, except team_leader (Samir leads Critical System Administration).
SUBJECTS: dict[str, str | None] = {
    "signed_out": None,
    "no_role": "nobody",  # a person with a login and no team (made by the test's world)
    "administrator": "admin",  # secman createadmin: records, approves nothing
    "auditor": "ursula",
    "board_member": "beatrix",
    "arbitrator": "aurelio",
    "case_manager": "mina",
    "access_engineer": "jonas",
    "systems_administrator": "lena",
    "software_assessor": "oskar",
    "support_engineer": "diego",
    "team_leader": "samir",
}
SIGNED_IN = tuple(s for s in SUBJECTS if s != "signed_out")

Rule = dict[str, str]


def rule(default: str, *, signed_out: str = LOGIN, **overrides: str) -> Rule:
    unknown = set(overrides) - set(SUBJECTS)
    if unknown:
        raise ValueError(f"no such kind of person: {', '.join(sorted(unknown))}")
    return {"signed_out": signed_out, **{s: overrides.get(s, default) for s in SIGNED_IN}}


def everyone(**overrides: str) -> Rule:
    """Everyone signed in."""
    return rule(ALLOWED, **overrides)


def only(*subjects: str, otherwise: str = REFUSED, signed_out: str = LOGIN) -> Rule:
    unknown = set(subjects) - set(SUBJECTS)
    if unknown:
        raise ValueError(f"no such kind of person: {', '.join(sorted(unknown))}")
    return rule(otherwise, signed_out=signed_out, **{s: ALLOWED for s in subjects})


@dataclass(frozen=True)
class E:
    """One route: a URL to ask (with {world} values) and the rule per method."""

    url: str
    methods: dict[str, Rule] = field(default_factory=dict)
    # What a POST/PATCH sends instead of an empty body ({world} values filled in), where
    # the form or serializer comes before the service's check: a complete body reaches it.
    body: dict[str, str] = field(default_factory=dict)

    def __init__(self, url: str, *, body: dict[str, str] | None = None,
                 **methods: Rule) -> None:
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "body", body or {})


def route_key(route: str) -> str:
    """A resolver route as the table names it: REST framework's regular expressions
    (`^people/(?P<pk>[^/.]+)/$`) read like Django's paths (`people/<pk>/`)."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    return route.replace("^", "").replace("$", "")


# --- who is who, by what the SP and docs/security.md say ------------------------------------

SIGNED_OUT_TOO = {"signed_out": ALLOWED}
# A GET of an action URL leads back to its page (core.views.post_only); the API's actions
# answer GET with 405.
BACK = rule(REDIRECT)
NO_GET = rule(METHOD)
# Every other POST below that lets everyone signed in through with an empty body reaches
# a form or a serializer first: the service behind it refuses the wrong person once the
# body is complete (tests/core/test_service_entries.py has a refused call for each).
TO_THE_FORM = everyone()

# SM 4.2.2: the log's administration (verify now, sign, export every payload).
SYSADMINS = only("systems_administrator", "team_leader")  # Samir leads the sysadmins
# SP 2.2.1: the inventory is read by its keepers, the Board, auditors and the
# administrator; Arbitrators, Case Managers, software and support are not among them.
INVENTORY = only("administrator", "auditor", "board_member", "access_engineer",
                 "systems_administrator", "team_leader")
# SP 9.1.5: Board decisions are minuted by Board members (or the administrator for them).
MINUTE_TAKERS = only("administrator", "board_member")
# Arbitration cases are recorded by Arbitrators and Case Managers (and the administrator).
CASE_HANDLERS = only("administrator", "arbitrator", "case_manager")
# Sign-off requests are opened by whoever holds a role in a team.
IN_A_TEAM = rule(ALLOWED, administrator=REFUSED, auditor=REFUSED, no_role=REFUSED)
# In the demo organisation, the Access Engineer, the Systems Administrator and their
# leader are on the physical lists (and may record an emergency access).
ON_THE_PHYSICAL_LISTS = only("access_engineer", "systems_administrator", "team_leader")
# SP 2.2.1: recording hardware (forms and imports): Access Engineers and Systems
# Administrators.
HARDWARE = only("access_engineer", "systems_administrator", "team_leader")
# docs/systems.md: the systems register is read by Systems Administrators, team leaders,
# the Board, auditors and the administrator; changed by Systems Administrators; its flow
# requests decided by the Systems Administration team leader (Samir) only (SP 3.1.1.2).
REGISTER = only("administrator", "auditor", "board_member", "systems_administrator",
                "team_leader")
REGISTER_CHANGERS = only("systems_administrator", "team_leader")
FLOW_DECIDER = only("team_leader")
# SP 6.4 / docs/security.md: the Key Persons List.
KEY_PERSONS = only("board_member", "arbitrator")
# SP 1.4: versions of documents are imported by team leaders, the Board (and the
# administrator, who records).
DOCUMENT_IMPORTERS = only("administrator", "board_member", "team_leader")
# The audit report: the Board, auditors, team leaders (and the administrator).
REPORT = only("administrator", "auditor", "board_member", "team_leader")

# SP 3.1.1: the network diagram shows every address and flow; the systems register's
# readers see it (Systems Administrators, team leaders, the Board, auditors, administrator).
NETWORK_READERS = only("administrator", "auditor", "board_member", "systems_administrator",
                       "team_leader")
NETWORK_NOT_DRAWN = rule(REFUSED, administrator=NOT_FOUND, auditor=NOT_FOUND,
                         board_member=NOT_FOUND, systems_administrator=NOT_FOUND,
                         team_leader=NOT_FOUND)
# SP 1.2, 9.1.5: deviations are accepted by those who decide (docs/compliance.md).
ACCEPTORS = only("board_member", "arbitrator")
ACCEPTANCE = {"kind": "exception", "reason": "probe", "expires_on": "{in_a_year}",
              "authority": "{confirmed_decision}"}

# SP 3.2.2: what the host agents report is read by Systems Administrators, the Board,
# auditors and the administrator; tokens are issued and revoked by Systems Administrators.
AGENT_READERS = only("administrator", "auditor", "board_member", "systems_administrator",
                     "team_leader")
AGENT_MANAGERS = only("systems_administrator", "team_leader")

TABLE: dict[str, E] = {
    # --- signing in, the Today page ---------------------------------------------------------
    "": E("/", GET=everyone()),
    "login/": E("/login/", GET=rule(REDIRECT, signed_out=ALLOWED),
                POST=rule(ALLOWED, signed_out=ALLOWED)),
    # Signing out leads to the login page; signing out by GET is not offered.
    "logout/": E("/logout/", GET=rule(METHOD), POST=rule(LOGIN)),
    "password/": E("/password/", GET=everyone(), POST=TO_THE_FORM),
    "favicon.ico": E("/favicon.ico", GET=rule(REDIRECT, signed_out=REDIRECT)),
    # --- people (SP 9.1, 3.4.2) -------------------------------------------------------------
    "people/": E("/people/", GET=everyone()),
    # The Board, team leaders and the administrator record people
    # (people.services.may_record_person); the form is not shown to anyone else.
    "people/new/": E("/people/new/", body={"name": "New Person", "email": "new@example.org",
                                           "authority": "SP 9.1.3"},
                     GET=only("administrator", "board_member", "team_leader"),
                     POST=only("administrator", "board_member", "team_leader")),
    "people/key-persons/": E("/people/key-persons/", GET=KEY_PERSONS),
    "people/<int:pk>/": E("/people/{person}/", GET=everyone()),
    # The person, the Board and the administrator edit a person (Piet is none of them).
    "people/<int:pk>/edit/": E("/people/{person}/edit/",
                               GET=only("administrator", "board_member"),
                               POST=only("administrator", "board_member")),
    "people/<int:pk>/openpgp-key/": E("/people/{person}/openpgp-key/",
                                      GET=only("administrator", "board_member"),
                                      POST=only("administrator", "board_member")),
    "people/teams/": E("/people/teams/", GET=everyone()),
    "people/teams/<slug:kind>/": E("/people/teams/{team}/", GET=everyone(), POST=TO_THE_FORM),
    "people/lists/": E("/people/lists/", GET=everyone()),
    "people/lists/<slug:kind>/": E("/people/lists/{list}/", GET=everyone(), POST=TO_THE_FORM),
    "people/proposals/": E("/people/proposals/", GET=everyone()),
    "people/proposals/<int:pk>/": E("/people/proposals/{proposal}/", GET=everyone()),
    # SP 3.4.2: a Board member records the Board's approval (never the administrator).
    "people/proposals/<int:pk>/approve/": E("/people/proposals/{proposal}/approve/",
                                            body={"approve-decision": "{confirmed_decision}"},
                                            GET=BACK, POST=only("board_member")),
    "people/proposals/<int:pk>/reject/": E("/people/proposals/{proposal}/reject/",
                                           GET=BACK, POST=TO_THE_FORM),
    "people/proposals/<int:pk>/withdraw/": E("/people/proposals/{proposal}/withdraw/",
                                             GET=BACK, POST=TO_THE_FORM),
    # --- authority: Board minutes, Arbitration, sign-offs (SP 1.2, 9.1.5) ---------------------
    "authority/decisions/": E("/authority/decisions/", GET=everyone()),
    # Forms are shown only to those who may submit them (core.views.person_at_form).
    "authority/decisions/new/": E("/authority/decisions/new/", GET=MINUTE_TAKERS,
                                  POST=MINUTE_TAKERS),
    "authority/decisions/<str:minute_id>/": E("/authority/decisions/{decision}/",
                                              GET=everyone()),
    # A second Board member confirms minutes; never the administrator.
    "authority/decisions/<str:minute_id>/confirm/": E(
        "/authority/decisions/{decision}/confirm/", GET=BACK, POST=only("board_member")),
    "authority/cases/": E("/authority/cases/", GET=everyone()),
    "authority/cases/new/": E("/authority/cases/new/", GET=CASE_HANDLERS, POST=CASE_HANDLERS),
    "authority/cases/<str:number>/": E("/authority/cases/{case}/", GET=everyone(),
                                       POST=TO_THE_FORM),
    "authority/signoffs/": E("/authority/signoffs/", GET=everyone()),
    "authority/signoffs/new/": E("/authority/signoffs/new/", GET=IN_A_TEAM, POST=IN_A_TEAM),
    "authority/signoffs/<int:pk>/": E("/authority/signoffs/{signoff}/", GET=everyone(),
                                      POST=TO_THE_FORM),
    # Only whoever asked withdraws a sign-off request (Samir asked for this one).
    "authority/signoffs/<int:pk>/withdraw/": E("/authority/signoffs/{signoff}/withdraw/",
                                               GET=BACK, POST=only("team_leader")),
    # --- the Event Log (SM 4.2.2: metadata for all, restricted payloads and upkeep for
    # Systems Administrators) ------------------------------------------------------------------
    "events/": E("/events/", GET=everyone()),
    "events/<int:seq>/": E("/events/{event}/", GET=everyone()),
    "events/<int:seq>/proof.json": E("/events/{event}/proof.json", GET=everyone()),
    "events/checkpoints/": E("/events/checkpoints/", GET=everyone()),
    "events/checkpoints/<int:pk>.txt": E("/events/checkpoints/{checkpoint}.txt",
                                         GET=everyone()),
    "events/keys.txt": E("/events/keys.txt", GET=everyone()),
    "events/verify/": E("/events/verify/", GET=BACK, POST=SYSADMINS),
    "events/export.tar.gz": E("/events/export.tar.gz", GET=SYSADMINS),
    # --- documents (SP 1.4): read by all, drafted by owners, published under four eyes ---------
    "documents/": E("/documents/", GET=everyone(), POST=TO_THE_FORM),
    # Importing a version: team leaders, Board members and the administrator (the page
    # refuses the others before it reads an upload).
    "documents/import/": E("/documents/import/", GET=DOCUMENT_IMPORTERS,
                           POST=DOCUMENT_IMPORTERS),
    "documents/compare/": E("/documents/compare/", GET=everyone()),
    "documents/search/": E("/documents/search/", GET=everyone()),
    "documents/drafts/<int:pk>/": E("/documents/drafts/{draft}/", GET=everyone(),
                                    POST=TO_THE_FORM),
    # The leader who delegated (Samir) or the delegate (Lena) ends a delegation.
    "documents/delegations/<int:pk>/revoke/": E("/documents/delegations/{delegation}/revoke/",
                                                GET=BACK, POST=SYSADMINS),
    "documents/<slug:slug>/": E("/documents/{document}/", GET=everyone()),
    "documents/<slug:slug>/diff/": E("/documents/{document}/diff/", GET=everyone()),
    "documents/<slug:slug>/v/<str:label>/": E("/documents/{document}/v/{version}/",
                                              GET=everyone()),
    "documents/<slug:slug>/v/<str:label>/export.<str:fmt>": E(
        "/documents/{document}/v/{version}/export.md", GET=everyone()),
    "documents/<slug:slug>/s/<str:number>/": E("/documents/{document}/s/{section}/",
                                               GET=everyone()),
    "documents/<slug:slug>/s/<str:number>/edit/": E("/documents/{document}/s/{section}/edit/",
                                                    GET=everyone(), POST=TO_THE_FORM),
    # --- systems and network (SP/SM 3.1, 3.2): the register's readers --------------------------
    "systems/": E("/systems/", GET=REGISTER),
    "systems/new/": E("/systems/new/", GET=REGISTER_CHANGERS, POST=REGISTER_CHANGERS),
    "systems/hosts/<str:name>/": E("/systems/hosts/{system}/", GET=REGISTER),
    **{f"systems/hosts/<str:name>/{step}/": E(f"/systems/hosts/{{system}}/{step}/",
                                              GET=REGISTER_CHANGERS, POST=REGISTER_CHANGERS)
       for step in ("edit", "administrators", "addresses", "install", "inspect", "retire",
                    "flows/new")},
    "systems/flows/": E("/systems/flows/", GET=REGISTER),
    "systems/flows/<int:pk>/decide/": E("/systems/flows/{flow}/decide/", GET=FLOW_DECIDER,
                                        POST=FLOW_DECIDER),
    "systems/flows/<int:pk>/end/": E("/systems/flows/{flow}/end/", GET=REGISTER_CHANGERS,
                                     POST=REGISTER_CHANGERS),
    # --- physical security (SP/SM 2.1, 2.2): the inventory's readers ---------------------------
    # The forms that record hardware are shown only to those who may submit them.
    "physical/computers/": E("/physical/computers/", GET=INVENTORY),
    "physical/computers/new/": E("/physical/computers/new/", GET=HARDWARE, POST=HARDWARE),
    "physical/computers/export.csv": E("/physical/computers/export.csv", GET=INVENTORY),
    "physical/computers/import/": E("/physical/computers/import/", GET=HARDWARE,
                                    POST=HARDWARE),
    "physical/media/import/": E("/physical/media/import/", GET=HARDWARE, POST=HARDWARE),
    "physical/computers/<int:pk>/": E("/physical/computers/{computer}/", GET=INVENTORY,
                                      POST=INVENTORY),
    "physical/computers/<int:pk>/label/": E("/physical/computers/{computer}/label/",
                                            GET=INVENTORY),
    "physical/media/": E("/physical/media/", GET=INVENTORY),
    "physical/media/new/": E("/physical/media/new/", GET=HARDWARE, POST=HARDWARE),
    "physical/media/export.csv": E("/physical/media/export.csv", GET=INVENTORY),
    "physical/media/<int:pk>/": E("/physical/media/{medium}/", GET=INVENTORY, POST=INVENTORY),
    "physical/facilities/": E("/physical/facilities/", GET=INVENTORY, POST=INVENTORY),
    "physical/facilities/<int:pk>/": E("/physical/facilities/{facility}/", GET=INVENTORY),
    # --- visits, codes and devices (SP/SM 2.3) ------------------------------------------------
    "visits/": E("/visits/", GET=everyone()),
    # SM 2.3.1: visits are requested from the physical lists; SP 2.3.4: an emergency access
    # is recorded by a Systems Administrator, an Access Engineer or someone on those lists.
    "visits/new/": E("/visits/new/", GET=ON_THE_PHYSICAL_LISTS, POST=ON_THE_PHYSICAL_LISTS),
    "visits/emergency/": E("/visits/emergency/", GET=ON_THE_PHYSICAL_LISTS,
                           POST=ON_THE_PHYSICAL_LISTS),
    "visits/<int:pk>/": E("/visits/{visit}/", GET=everyone()),
    "visits/<int:pk>/<str:step>/": E("/visits/{visit}/authorise/", GET=BACK, POST=TO_THE_FORM),
    "visits/devices/": E("/visits/devices/", GET=everyone(), POST=TO_THE_FORM),
    "visits/devices/<int:pk>/": E("/visits/devices/{device}/", GET=everyone()),
    "visits/devices/<int:pk>/issue/": E("/visits/devices/{device}/issue/", GET=BACK,
                                        POST=TO_THE_FORM),
    # The Physical Control List (Access Engineers), the Board, and the holder (Samir).
    "visits/holdings/<int:pk>/return/": E("/visits/holdings/{holding}/return/", GET=BACK,
                                          POST=only("board_member", "access_engineer",
                                                    "team_leader")),
    # --- systems: the network diagram (SP 3.1.1) -------------------------------------------------
    # Read by the register's readers (systems.diagram.may_see_network); drawn from the page
    # by Systems Administrators, their team leader, the Board and the administrator (an
    # empty reason is the form shown again); auditors only read.
    "systems/network/": E("/systems/network/", GET=NETWORK_READERS,
                          POST=only("administrator", "board_member", "systems_administrator",
                                    "team_leader")),
    # The demo draws no revision yet: its readers meet "not found", the others the refusal
    # (once the demo draws r1, these become NETWORK_READERS).
    "systems/network/r<int:number>.svg": E("/systems/network/r1.svg", GET=NETWORK_NOT_DRAWN),
    "systems/network/r<int:number>.dot": E("/systems/network/r1.dot", GET=NETWORK_NOT_DRAWN),
    # --- compliance ---------------------------------------------------------------------------
    "compliance/": E("/compliance/", GET=everyone()),
    "compliance/controls/<str:control_id>/": E("/compliance/controls/{control}/",
                                               GET=everyone()),
    # Issue 13 finding 1: a Board member or an Arbitrator accepts an exception, never the
    # administrator; the page shows the refusal as a message.
    "compliance/controls/<str:control_id>/<str:action>/": E(
        "/compliance/controls/{control}/accept/", body=ACCEPTANCE, GET=BACK, POST=ACCEPTORS),
    "compliance/acceptances/<int:pk>/withdraw/": E(
        "/compliance/acceptances/{acceptance}/withdraw/",
        body={"authority": "{confirmed_decision}"}, GET=BACK, POST=ACCEPTORS),
    # Completed by the owning team (Systems Administration), skipped by its leader, the
    # Board or the administrator; the others are refused before an evidence file is read.
    "compliance/occurrences/<int:pk>/": E(
        "/compliance/occurrences/{occurrence}/", GET=everyone(),
        POST=only("administrator", "board_member", "systems_administrator", "team_leader")),
    # Evidence: the owning team (Systems Administration), the Board, auditors and the
    # administrator; there is no file for this occurrence, so they meet "not found".
    "compliance/occurrences/<int:pk>/evidence/": E(
        "/compliance/occurrences/{occurrence}/evidence/",
        GET=rule(REFUSED, administrator=NOT_FOUND, auditor=NOT_FOUND, board_member=NOT_FOUND,
                 systems_administrator=NOT_FOUND, team_leader=NOT_FOUND)),
    "compliance/report/": E("/compliance/report/", GET=REPORT),
    "compliance/report/oscal/": E("/compliance/report/oscal/", GET=REPORT),
    "compliance/report/jobs/": E("/compliance/report/jobs/", GET=BACK, POST=REPORT),
    # A report job is its requester's (Ursula's); to anyone else it does not exist.
    "compliance/report/jobs/<int:pk>/": E("/compliance/report/jobs/{job}/",
                                          GET=rule(NOT_FOUND, auditor=ALLOWED)),
    "compliance/report/jobs/<int:pk>/file/": E("/compliance/report/jobs/{job}/file/",
                                               GET=rule(NOT_FOUND)),  # not made yet
    "compliance/calendar/": E("/compliance/calendar/", GET=everyone(), POST=TO_THE_FORM),
    # A feed is revoked by whoever made it (Samir) or the administrator.
    "compliance/calendar/<int:pk>/revoke/": E(
        "/compliance/calendar/{feed}/revoke/", GET=BACK,
        POST=rule(NOT_FOUND, administrator=ALLOWED, team_leader=ALLOWED)),
    # The token is the credential: calendar programs do not sign in.
    "compliance/calendar/<str:token>.ics": E("/compliance/calendar/{token}.ics",
                                             GET=rule(ALLOWED, **SIGNED_OUT_TOO)),
    # --- the API: the same rules as the pages (401 for the signed-out) -------------------------
    "api/": E("/api/", GET=everyone()),
    "api/me/": E("/api/me/", GET=everyone()),
    "api/me/token/": E("/api/me/token/", GET=NO_GET, POST=everyone()),
    "api/schema/": E("/api/schema/", GET=everyone()),
    "api/docs/": E("/api/docs/", GET=everyone()),
    "api/eventlog/proofs/inclusion/": E("/api/eventlog/proofs/inclusion/", GET=everyone()),
    "api/eventlog/proofs/consistency/": E("/api/eventlog/proofs/consistency/",
                                          GET=everyone()),
    "api/eventlog/keys/": E("/api/eventlog/keys/", GET=everyone()),
    "api/eventlog/verify/": E("/api/eventlog/verify/", GET=everyone(), POST=SYSADMINS),
    # Witnessed checkpoints: the witnesses (none configured here) and Systems Administrators.
    "api/eventlog/witness/": E("/api/eventlog/witness/", GET=NO_GET, POST=SYSADMINS),
    "api/compliance/controls/": E("/api/compliance/controls/", GET=everyone()),
    "api/compliance/controls/<str:control_id>/": E("/api/compliance/controls/{control}/",
                                                   GET=everyone()),
    # staffing.background_checks is attested by an Arbitrator (SP 9.1.4).
    "api/compliance/controls/<str:control_id>/attest/": E(
        "/api/compliance/controls/staffing.background_checks/attest/",
        body={"statement": "files reviewed", "authority": "SP 9.1.4"},
        GET=NO_GET, POST=only("arbitrator")),
    "api/compliance/controls/<str:control_id>/accept/": E(
        "/api/compliance/controls/{control}/accept/", body=ACCEPTANCE, GET=NO_GET,
        POST=ACCEPTORS),
    # The Board, team leaders and the administrator record people
    # (people.services.may_record_person).
    "api/people/": E("/api/people/", body={"name": "New Person", "email": "new@example.org",
                                           "authority": "SP 9.1.3"},
                     GET=everyone(), POST=only("administrator", "board_member", "team_leader")),
    "api/people/<pk>/": E("/api/people/{person}/", GET=everyone(), PATCH=TO_THE_FORM,
                          PUT=rule(METHOD)),
    "api/teams/": E("/api/teams/", GET=everyone()),
    "api/teams/<kind>/": E("/api/teams/{team}/", GET=everyone()),
    "api/teams/<kind>/add-member/": E("/api/teams/{team}/add-member/", GET=NO_GET,
                                      POST=TO_THE_FORM),
    "api/teams/<kind>/appoint-leader/": E("/api/teams/{team}/appoint-leader/", GET=NO_GET,
                                          POST=TO_THE_FORM),
    "api/teams/<kind>/end-membership/": E("/api/teams/{team}/end-membership/", GET=NO_GET,
                                          POST=TO_THE_FORM),
    "api/lists/": E("/api/lists/", GET=everyone()),
    "api/lists/<kind>/": E("/api/lists/{list}/", GET=everyone()),
    "api/proposals/": E("/api/proposals/", GET=everyone(), POST=TO_THE_FORM),
    "api/proposals/<pk>/": E("/api/proposals/{proposal}/", GET=everyone()),
    # SP 3.4.2: a Board member records the Board's decision on a list change; never the
    # administrator.
    "api/proposals/<pk>/approve/": E("/api/proposals/{proposal}/approve/",
                                     body={"decision": "{confirmed_decision}"},
                                     GET=NO_GET, POST=only("board_member")),
    "api/proposals/<pk>/reject/": E("/api/proposals/{proposal}/reject/",
                                    body={"decision": "{confirmed_decision}"},
                                    GET=NO_GET, POST=only("board_member")),
    "api/proposals/<pk>/withdraw/": E("/api/proposals/{proposal}/withdraw/", GET=NO_GET,
                                      POST=TO_THE_FORM),
    "api/decisions/": E("/api/decisions/", GET=everyone(), POST=TO_THE_FORM),
    "api/decisions/<minute_id>/": E("/api/decisions/{decision}/", GET=everyone()),
    "api/decisions/<minute_id>/confirm/": E("/api/decisions/{decision}/confirm/", GET=NO_GET,
                                            POST=only("board_member")),
    "api/cases/": E("/api/cases/", GET=everyone(), POST=TO_THE_FORM),
    # The case's Arbitrator and Case Manager, and the administrator, who records it.
    "api/cases/<number>/": E("/api/cases/{case}/", GET=everyone(), PUT=rule(METHOD),
                             PATCH=only("administrator", "arbitrator", "case_manager")),
    "api/signoffs/": E("/api/signoffs/", GET=everyone(), POST=TO_THE_FORM),
    "api/signoffs/<pk>/": E("/api/signoffs/{signoff}/", GET=everyone()),
    # The slots of this request are for Systems Administrators.
    "api/signoffs/<pk>/sign/": E("/api/signoffs/{signoff}/sign/", GET=NO_GET, POST=SYSADMINS),
    # Its requester or a team leader (Samir is both here).
    "api/signoffs/<pk>/withdraw/": E("/api/signoffs/{signoff}/withdraw/",
                                     body={"reason": "done otherwise"}, GET=NO_GET,
                                     POST=only("team_leader")),
    "api/events/": E("/api/events/", GET=everyone()),
    "api/events/<seq>/": E("/api/events/{event}/", GET=everyone()),
    "api/checkpoints/": E("/api/checkpoints/", GET=everyone()),
    "api/checkpoints/latest/": E("/api/checkpoints/latest/", GET=everyone()),
    "api/checkpoints/sign/": E("/api/checkpoints/sign/", GET=NO_GET, POST=SYSADMINS),
    "api/checkpoints/<pk>/": E("/api/checkpoints/{checkpoint}/", GET=everyone()),
    # finding (listed): POST /api/computers/ validates before it asks who is asking,
    # unlike /api/media/.
    "api/computers/": E("/api/computers/", GET=INVENTORY, POST=TO_THE_FORM),
    "api/computers/<pk>/": E("/api/computers/{computer}/", GET=INVENTORY),
    "api/computers/<pk>/step/": E("/api/computers/{computer}/step/", GET=NO_GET,
                                  POST=INVENTORY),
    "api/media/": E("/api/media/", GET=INVENTORY, POST=INVENTORY),
    "api/media/<pk>/": E("/api/media/{medium}/", GET=INVENTORY),
    "api/media/<pk>/step/": E("/api/media/{medium}/step/", GET=NO_GET, POST=INVENTORY),
    "api/facilities/": E("/api/facilities/", GET=INVENTORY),
    "api/facilities/<pk>/": E("/api/facilities/{facility}/", GET=INVENTORY),
    # The register's API: actions ask who may before they read the body.
    "api/systems/": E("/api/systems/", GET=REGISTER, POST=REGISTER_CHANGERS),
    "api/systems/<name>/": E("/api/systems/{system}/", GET=REGISTER),
    **{f"api/systems/<name>/{step}/": E(f"/api/systems/{{system}}/{step}/", GET=NO_GET,
                                        POST=REGISTER_CHANGERS)
       for step in ("change", "administrators", "addresses", "dns", "install", "inspect",
                    "retire", "request-flow")},
    "api/flows/": E("/api/flows/", GET=REGISTER),
    "api/flows/<pk>/": E("/api/flows/{flow}/", GET=REGISTER),
    "api/flows/<pk>/decide/": E("/api/flows/{flow}/decide/", GET=NO_GET, POST=FLOW_DECIDER),
    "api/flows/<pk>/end/": E("/api/flows/{flow}/end/", GET=NO_GET, POST=REGISTER_CHANGERS),
    "api/visits/": E("/api/visits/", GET=everyone(), POST=TO_THE_FORM),
    "api/visits/emergency/": E("/api/visits/emergency/", GET=NO_GET, POST=TO_THE_FORM),
    "api/visits/<pk>/": E("/api/visits/{visit}/", GET=everyone()),
    "api/visits/<pk>/authorise/": E("/api/visits/{visit}/authorise/", GET=NO_GET,
                                    POST=TO_THE_FORM),
    "api/visits/<pk>/check-in/": E("/api/visits/{visit}/check-in/", GET=NO_GET,
                                   POST=TO_THE_FORM),
    "api/visits/<pk>/check-out/": E("/api/visits/{visit}/check-out/", GET=NO_GET,
                                    POST=TO_THE_FORM),
    "api/visits/<pk>/close/": E("/api/visits/{visit}/close/", GET=NO_GET, POST=TO_THE_FORM),
    "api/visits/<pk>/link-ruling/": E("/api/visits/{visit}/link-ruling/", GET=NO_GET,
                                      POST=TO_THE_FORM),
    "api/visits/<pk>/report/": E("/api/visits/{visit}/report/", GET=NO_GET, POST=TO_THE_FORM),
    "api/devices/": E("/api/devices/", GET=everyone(), POST=TO_THE_FORM),
    "api/devices/<pk>/": E("/api/devices/{device}/", GET=everyone()),
    "api/devices/<pk>/issue/": E("/api/devices/{device}/issue/", GET=NO_GET, POST=TO_THE_FORM),
    "api/devices/<pk>/return/": E("/api/devices/{device}/return/", GET=NO_GET,
                                  POST=TO_THE_FORM),
    "api/occurrences/": E("/api/occurrences/", GET=everyone()),
    "api/occurrences/<pk>/": E("/api/occurrences/{occurrence}/", GET=everyone()),
    "api/occurrences/<pk>/complete/": E("/api/occurrences/{occurrence}/complete/", GET=NO_GET,
                                        POST=TO_THE_FORM),
    "api/occurrences/<pk>/skip/": E("/api/occurrences/{occurrence}/skip/", GET=NO_GET,
                                    POST=TO_THE_FORM),
    # --- the host agent (SP 3.2.2, SP 3.1.2.1; docs/agent.md) --------------------------------
    "systems/hosts/<str:name>/agent/": E("/systems/hosts/{system}/agent/", GET=AGENT_READERS),
    # An empty POST reaches the form (which wants an authority): nothing is issued.
    "systems/hosts/<str:name>/agent/token/": E("/systems/hosts/{system}/agent/token/",
                                               GET=BACK, POST=AGENT_MANAGERS),
    "systems/hosts/<str:name>/agent/revoke/": E("/systems/hosts/{system}/agent/revoke/",
                                                GET=BACK, POST=AGENT_MANAGERS),
    # The agent script holds no secret: everyone signed in may read it.
    "systems/agent/secman-agent": E("/systems/agent/secman-agent", GET=everyone()),
    # Authenticated by a system's agent token only, never by a login: every person's
    # request without one is answered 401.
    "api/agent/reports/": E("/api/agent/reports/", GET=rule(METHOD, signed_out=METHOD),
                            POST=rule(LOGIN)),
}

# --- patches, configuration changes, OS lifecycle, Board summary (SP 3.2.3, 3.2.3.1, SM 3.2,
# 4.1.3): read by the Systems Administrators, the Board, auditors and the administrator
# (systems.patches.may_see_patches); recorded by Systems Administrators; approved by the
# Systems Administration team leader (Samir) only. The world's {patch} is the demo's
# emergency patch (applied, approved, referred), {change} a configuration change
# (systems.demo.load_patches).
PATCH_READERS = only("administrator", "auditor", "board_member", "systems_administrator",
                     "team_leader")
PATCH_HANDS = only("systems_administrator", "team_leader")
TABLE.update({
    "systems/patches/": E("/systems/patches/", GET=PATCH_READERS),
    "systems/patches/new/": E("/systems/patches/new/", GET=PATCH_HANDS, POST=PATCH_HANDS),
    # A POST names its action; without one it leads back to the page (nothing done).
    "systems/patches/<int:pk>/": E("/systems/patches/{patch}/", GET=PATCH_READERS,
                                   POST=PATCH_READERS),
    "systems/changes/": E("/systems/changes/", GET=PATCH_READERS),
    "systems/changes/new/": E("/systems/changes/new/", GET=PATCH_HANDS, POST=PATCH_HANDS),
    "systems/os/": E("/systems/os/", GET=PATCH_READERS),
    "systems/summary/": E("/systems/summary/", GET=PATCH_READERS),
    # The serializers come after the reader's check and before the service's: a reader's
    # empty body is a 400 (tests/core/test_service_entries.py refuses the wrong person).
    "api/patches/": E("/api/patches/", GET=PATCH_READERS,
                              POST=PATCH_READERS),
    "api/patches/<pk>/": E("/api/patches/{patch}/", GET=PATCH_READERS),
    "api/patches/<pk>/approve/": E("/api/patches/{patch}/approve/",
                                           GET=NO_GET, POST=only("team_leader")),
    "api/patches/<pk>/remedial/": E("/api/patches/{patch}/remedial/",
                                            GET=NO_GET, POST=PATCH_READERS),
    "api/patches/<pk>/apply/": E("/api/patches/{patch}/apply/",
                                         GET=NO_GET, POST=PATCH_HANDS),
    "api/patches/<pk>/report/": E("/api/patches/{patch}/report/",
                                          GET=NO_GET, POST=PATCH_HANDS),
    "api/patches/<pk>/backup/": E("/api/patches/{patch}/backup/",
                                          GET=NO_GET, POST=PATCH_READERS),
    "api/patches/<pk>/withdraw/": E("/api/patches/{patch}/withdraw/",
                                            GET=NO_GET, POST=PATCH_READERS),
    "api/changes/": E("/api/changes/", GET=PATCH_READERS, POST=PATCH_READERS),
    "api/changes/<pk>/": E("/api/changes/{change}/", GET=PATCH_READERS),
    "api/os-lifecycle/": E("/api/os-lifecycle/", GET=PATCH_READERS),
    "api/patch-summary/": E("/api/patch-summary/", GET=PATCH_READERS),
})

# --- privileged access: keys, accounts, admin origins and their checks (SM 3.4.3, 4.1.1):
# read by Systems Administrators, team leaders, the Board, the Arbitrator, auditors and the
# administrator (privileged.selectors.may_read_access); kept by Systems Administrators
# (may_keep_register). {ssh_key}, {account} and {origin} are the demo's
# (privileged.demo_keys).
PRIVILEGED_READERS = only("administrator", "auditor", "board_member", "arbitrator",
                          "systems_administrator", "team_leader")
PRIVILEGED_KEEPERS = only("systems_administrator", "team_leader")
TABLE.update({
    "privileged/": E("/privileged/", GET=PRIVILEGED_READERS),
    "privileged/keys/": E("/privileged/keys/", GET=PRIVILEGED_READERS, POST=PRIVILEGED_KEEPERS),
    "privileged/keys/<int:pk>/block/": E("/privileged/keys/{ssh_key}/block/",
                                         GET=PRIVILEGED_KEEPERS, POST=PRIVILEGED_KEEPERS),
    "privileged/accounts/": E("/privileged/accounts/", GET=PRIVILEGED_READERS),
    "privileged/accounts/<int:pk>/remove/": E("/privileged/accounts/{account}/remove/",
                                              GET=PRIVILEGED_KEEPERS,
                                              POST=PRIVILEGED_KEEPERS),
    "privileged/systems/<str:name>/": E("/privileged/systems/signer/",
                                        GET=PRIVILEGED_READERS),
    "privileged/systems/<str:name>/accounts/new/": E(
        "/privileged/systems/signer/accounts/new/", GET=PRIVILEGED_KEEPERS,
        POST=PRIVILEGED_KEEPERS),
    "privileged/origins/": E("/privileged/origins/", GET=PRIVILEGED_READERS,
                             POST=PRIVILEGED_KEEPERS),
    "privileged/origins/<int:pk>/end/": E("/privileged/origins/{origin}/end/",
                                          GET=PRIVILEGED_KEEPERS, POST=PRIVILEGED_KEEPERS),
    "privileged/checks/": E("/privileged/checks/", GET=PRIVILEGED_READERS),
    # The API's writes ask who may keep the register before they read the body.
    "api/ssh-keys/": E("/api/ssh-keys/", GET=PRIVILEGED_READERS, POST=PRIVILEGED_KEEPERS),
    "api/ssh-keys/<pk>/": E("/api/ssh-keys/{ssh_key}/", GET=PRIVILEGED_READERS),
    "api/ssh-keys/<pk>/block/": E("/api/ssh-keys/{ssh_key}/block/", GET=NO_GET,
                                  POST=PRIVILEGED_KEEPERS),
    "api/accounts/": E("/api/accounts/", GET=PRIVILEGED_READERS, POST=PRIVILEGED_KEEPERS),
    "api/accounts/<pk>/": E("/api/accounts/{account}/", GET=PRIVILEGED_READERS),
    "api/accounts/<pk>/remove/": E("/api/accounts/{account}/remove/", GET=NO_GET,
                                   POST=PRIVILEGED_KEEPERS),
})

# --- privileged access: schemes, grants and secrets (SP 3.4.3, 4.1.1.1, SM 4.1.1) ----------
# privileged.selectors: read by Systems Administrators, team leaders, the Board, the
# Arbitrator, auditors and the administrator; schemes and secrets kept by Systems
# Administrators (Samir leads them); grants given by the SA team leader or the Arbitrator.
GRANTERS = only("arbitrator", "team_leader")
TABLE.update({
    "privileged/schemes/": E("/privileged/schemes/", GET=PRIVILEGED_READERS),
    "privileged/schemes/new/": E("/privileged/schemes/new/", GET=PRIVILEGED_KEEPERS,
                                 POST=PRIVILEGED_KEEPERS),
    "privileged/systems/<str:name>/schemes/": E("/privileged/systems/{system}/schemes/",
                                                GET=PRIVILEGED_READERS),
    "privileged/systems/<str:name>/schemes/compromised/": E(
        "/privileged/systems/{system}/schemes/compromised/", GET=PRIVILEGED_KEEPERS,
        POST=PRIVILEGED_KEEPERS),
    "privileged/grants/": E("/privileged/grants/", GET=PRIVILEGED_READERS),
    "privileged/grants/new/": E("/privileged/grants/new/", GET=GRANTERS, POST=GRANTERS),
    "privileged/grants/<int:pk>/revoke/": E("/privileged/grants/{grant}/revoke/", GET=BACK,
                                            POST=GRANTERS),
    "privileged/secrets/": E("/privileged/secrets/", GET=PRIVILEGED_READERS),
    "privileged/secrets/new/": E("/privileged/secrets/new/", GET=PRIVILEGED_KEEPERS,
                                 POST=PRIVILEGED_KEEPERS),
    "privileged/secrets/<int:pk>/": E("/privileged/secrets/{secret}/", GET=PRIVILEGED_READERS),
    "privileged/secrets/<int:pk>/rotate/": E("/privileged/secrets/{secret}/rotate/",
                                             GET=PRIVILEGED_KEEPERS, POST=PRIVILEGED_KEEPERS),
    "privileged/secrets/<int:pk>/retire/": E("/privileged/secrets/{secret}/retire/",
                                             GET=PRIVILEGED_KEEPERS, POST=PRIVILEGED_KEEPERS),
    "privileged/secrets/<int:pk>/holders/add/": E("/privileged/secrets/{secret}/holders/add/",
                                                  GET=PRIVILEGED_KEEPERS, POST=PRIVILEGED_KEEPERS),
    "privileged/secrets/<int:pk>/holders/<int:holder>/end/": E(
        "/privileged/secrets/{secret}/holders/{secret_holder}/end/", GET=BACK,
        POST=PRIVILEGED_KEEPERS),
    "api/authentication-schemes/": E("/api/authentication-schemes/", GET=PRIVILEGED_READERS,
                                     POST=PRIVILEGED_KEEPERS),
    "api/authentication-schemes/<pk>/": E("/api/authentication-schemes/{scheme}/",
                                          GET=PRIVILEGED_READERS),
    "api/authentication-schemes/<pk>/end/": E("/api/authentication-schemes/{scheme}/end/",
                                              GET=NO_GET, POST=PRIVILEGED_KEEPERS),
    "api/grants/": E("/api/grants/", GET=PRIVILEGED_READERS, POST=GRANTERS),
    "api/grants/<pk>/": E("/api/grants/{grant}/", GET=PRIVILEGED_READERS),
    "api/grants/<pk>/revoke/": E("/api/grants/{grant}/revoke/", GET=NO_GET, POST=GRANTERS),
    "api/secrets/": E("/api/secrets/", GET=PRIVILEGED_READERS, POST=PRIVILEGED_KEEPERS),
    "api/secrets/<pk>/": E("/api/secrets/{secret}/", GET=PRIVILEGED_READERS),
    "api/secrets/<pk>/rotate/": E("/api/secrets/{secret}/rotate/", GET=NO_GET,
                                  POST=PRIVILEGED_KEEPERS),
    "api/secrets/<pk>/retire/": E("/api/secrets/{secret}/retire/", GET=NO_GET,
                                  POST=PRIVILEGED_KEEPERS),
    "api/secrets/compromised/": E("/api/secrets/compromised/", GET=NO_GET,
                                  POST=PRIVILEGED_KEEPERS),
    "api/secrets/<pk>/holder-add/": E("/api/secrets/{secret}/holder-add/", GET=NO_GET,
                                      POST=PRIVILEGED_KEEPERS),
    "api/secrets/<pk>/holder-end/": E("/api/secrets/{secret}/holder-end/", GET=NO_GET,
                                      POST=PRIVILEGED_KEEPERS),
})

# --- removals of access and termination checklists (SM 3.4.4, 9.1.7): read by whoever
# reads the privileged-access registers (privileged.selectors.may_read_access: Systems
# Administrators, team leaders, the Board, the Arbitrator, auditors, the administrator);
# access removed by the SA team leader, a person's team leader, the Board or the
# Arbitrator; steps completed by the checklist team's leader or a Systems Administrator;
# closed by the team's leader only. The world's {removal} and {checklist} are the demo
# leaver's (Erik Nilsson, Support: Hana, who leads it, is no subject here, so nobody
# closes it).
REMOVERS = only("board_member", "arbitrator", "team_leader")
STEP_HANDS = only("systems_administrator", "team_leader")
TABLE.update({
    "privileged/removals/": E("/privileged/removals/", GET=PRIVILEGED_READERS),
    # An empty form is shown again with its errors: allowed for those who may remove.
    "privileged/removals/new/": E("/privileged/removals/new/", GET=REMOVERS, POST=REMOVERS),
    "privileged/removals/<int:pk>/": E("/privileged/removals/{removal}/", GET=PRIVILEGED_READERS),
    "privileged/checklists/": E("/privileged/checklists/", GET=PRIVILEGED_READERS),
    "privileged/checklists/<int:pk>/": E("/privileged/checklists/{checklist}/",
                                         GET=PRIVILEGED_READERS),
    # A step without evidence is refused by the service as a message: past authorisation.
    "privileged/checklists/<int:pk>/steps/<int:number>/": E(
        "/privileged/checklists/{checklist}/steps/2/", GET=BACK, POST=STEP_HANDS),
    "privileged/checklists/<int:pk>/close/": E("/privileged/checklists/{checklist}/close/",
                                               GET=BACK, POST=rule(REFUSED)),
    "api/access-removals/": E("/api/access-removals/", GET=PRIVILEGED_READERS,
                              POST=PRIVILEGED_READERS),
    "api/access-removals/<pk>/": E("/api/access-removals/{removal}/", GET=PRIVILEGED_READERS),
    "api/checklists/": E("/api/checklists/", GET=PRIVILEGED_READERS),
    "api/checklists/<pk>/": E("/api/checklists/{checklist}/", GET=PRIVILEGED_READERS),
    "api/checklists/<pk>/step/": E("/api/checklists/{checklist}/step/", GET=NO_GET,
                                   POST=PRIVILEGED_READERS),
    "api/checklists/<pk>/close/": E("/api/checklists/{checklist}/close/", GET=NO_GET,
                                    POST=rule(REFUSED)),
})

# --- the systems' logs (SP/SM 4.2, 5.2): everyone signed in sees the counts, the anomalies
# and the rules; the messages, the examination and the rules' changes are for Systems
# Administrators (the SA team leader is one) (logs.services.may_read, logs.rules.may_change).
LOG_READERS = only("systems_administrator", "team_leader")
TABLE.update({
    "logs/": E("/logs/", GET=rule(ALLOWED)),
    "logs/search/": E("/logs/search/", GET=LOG_READERS),
    "logs/messages/<int:seq>/": E("/logs/messages/0/", GET=LOG_READERS),
    "logs/anomalies/": E("/logs/anomalies/", GET=rule(ALLOWED)),
    # An empty examination is shown again with its errors: allowed for those who examine.
    "logs/anomalies/<int:pk>/": E("/logs/anomalies/{anomaly}/", GET=rule(ALLOWED),
                                  POST=LOG_READERS),
    "logs/rules/": E("/logs/rules/", GET=rule(ALLOWED)),
    "logs/rules/new/": E("/logs/rules/new/", GET=LOG_READERS, POST=LOG_READERS),
    "logs/rules/<slug:name>/": E("/logs/rules/ssh_root_login/", GET=rule(ALLOWED),
                                 POST=LOG_READERS),
    "logs/rules/<slug:name>/enabled/": E("/logs/rules/ssh_root_login/enabled/", GET=BACK,
                                         POST=LOG_READERS),
})

# --- backups (SP/SM 4.3, 4.4.1): the register is read by the critical teams, the Board, the
# Arbitrators and auditors, and changed by Systems Administrators; envelopes are checked by
# sysadmins and Board members and opened by Board members; data-retention directions are
# seen by those who give or carry them out (and the Board, auditors), given by Arbitrators
# and carried out by sysadmins and support engineers (backups.services.may_*).
REGISTER_READERS = only("systems_administrator", "team_leader", "access_engineer",
                        "board_member", "auditor", "arbitrator")
BACKUP_KEEPERS = only("systems_administrator", "team_leader")
TABLE.update({
    "backups/": E("/backups/", GET=REGISTER_READERS),
    "backups/jobs/new/": E("/backups/jobs/new/", GET=BACKUP_KEEPERS, POST=BACKUP_KEEPERS),
    "backups/jobs/<int:pk>/": E("/backups/jobs/{backup_job}/", GET=REGISTER_READERS,
                                POST=BACKUP_KEEPERS),
    "backups/sets/<int:pk>/": E("/backups/sets/{backup_set}/", GET=REGISTER_READERS,
                                POST=BACKUP_KEEPERS),
    "backups/sets/<int:pk>/verify/": E("/backups/sets/{backup_set}/verify/", GET=BACK,
                                       POST=BACKUP_KEEPERS),
    "backups/sets/<int:pk>/examine/": E("/backups/sets/{backup_set}/examine/", GET=BACK,
                                        POST=BACKUP_KEEPERS),
    "backups/examinations/<int:pk>/cleaned/": E("/backups/examinations/{examination}/cleaned/",
                                                GET=BACK, POST=BACKUP_KEEPERS),
    "backups/envelopes/": E("/backups/envelopes/", GET=REGISTER_READERS, POST=BACKUP_KEEPERS),
    "backups/envelopes/<int:pk>/check/": E("/backups/envelopes/{envelope}/check/", GET=BACK,
                                           POST=only("systems_administrator", "team_leader",
                                                     "board_member")),
    "backups/envelopes/<int:pk>/open/": E("/backups/envelopes/{envelope}/open/", GET=BACK,
                                          POST=only("board_member")),
    "backups/retention/": E("/backups/retention/", GET=only(
        "arbitrator", "case_manager", "systems_administrator", "team_leader",
        "support_engineer", "board_member", "auditor"), POST=only("arbitrator")),
    "backups/retention/<int:pk>/done/": E("/backups/retention/{retention}/done/", GET=BACK,
                                          POST=only("systems_administrator", "team_leader",
                                                    "support_engineer")),
})

# --- incidents (SP/SM 5): listed for everyone who holds a role (SM 5.6: the event is not
# secret); reported by the critical teams; responded to by Systems Administrators; the
# investigation log written also by management and oversight; the sensitive appendix
# downloaded by the restricted readers (incidents.services.may_*). The demo's open
# incident has no sensitive report: its appendix is "not found" to those let through.
ROLE_HOLDERS = rule(ALLOWED, no_role=REFUSED, administrator=REFUSED)
INCIDENT_RESTRICTED = ("systems_administrator", "team_leader", "board_member", "arbitrator",
                       "case_manager", "auditor")
TABLE.update({
    "incidents/": E("/incidents/", GET=ROLE_HOLDERS),
    "incidents/new/": E("/incidents/new/", GET=only(
        "systems_administrator", "team_leader", "access_engineer", "software_assessor",
        "support_engineer"), POST=only("systems_administrator", "team_leader",
                                       "access_engineer", "software_assessor",
                                       "support_engineer")),
    "incidents/<int:pk>/": E("/incidents/{incident}/", GET=ROLE_HOLDERS),
    "incidents/<int:pk>/appendix.asc": E("/incidents/{incident}/appendix.asc", GET=rule(
        REFUSED, **dict.fromkeys(INCIDENT_RESTRICTED, NOT_FOUND))),
    "incidents/<int:pk>/evidence/<int:evidence>/hand-over/": E(
        "/incidents/{incident}/evidence/{evidence}/hand-over/", GET=BACK,
        POST=only(*INCIDENT_RESTRICTED)),
    "incidents/<int:pk>/<slug:action>/": E("/incidents/{incident}/timeline/", GET=BACK,
                                           POST=only("systems_administrator", "team_leader",
                                                     "board_member", "arbitrator",
                                                     "case_manager")),
})

# --- disaster recovery (SP/SM 6): the processes, plan and exercises are shown to everyone
# who holds a role (an empty POST shows the page again); the Key Persons List to the Board
# and the Arbitrator, designations by the Board (recovery.services.may_*). The demo's
# exercise is finished: a step posted to it is refused to everyone.
TABLE.update({
    "recovery/": E("/recovery/", GET=ROLE_HOLDERS, POST=ROLE_HOLDERS),
    "recovery/exercises/<int:pk>/": E("/recovery/exercises/{exercise}/", GET=ROLE_HOLDERS,
                                      POST=rule(REFUSED)),
    "recovery/key-persons/": E("/recovery/key-persons/", GET=only("board_member", "arbitrator"),
                               POST=only("board_member")),
})

# --- software assessment (SP/SM 7): shown to everyone who holds a role; changes and
# releases made by Software Assessors (an empty POST names no form: the page again). The
# demo has no change or release yet: their pages are "not found" to those let in.
TABLE.update({
    "software/": E("/software/", GET=ROLE_HOLDERS, POST=ROLE_HOLDERS),
    "software/changes/<int:pk>/": E("/software/changes/0/", GET=rule(
        NOT_FOUND, no_role=REFUSED, administrator=REFUSED), POST=rule(
        NOT_FOUND, no_role=REFUSED, administrator=REFUSED)),
    "software/releases/<int:pk>/": E("/software/releases/0/", GET=rule(
        NOT_FOUND, no_role=REFUSED, administrator=REFUSED), POST=rule(
        NOT_FOUND, no_role=REFUSED, administrator=REFUSED)),
})

# --- support (SP/SM 8): its records name Members' accounts: the Support Engineers, the
# Systems Administrators (who run approved queries), the Arbitrators and Case Managers,
# the Board and auditors; an empty POST names no form.
SUPPORT_READERS = only("support_engineer", "systems_administrator", "team_leader",
                       "arbitrator", "case_manager", "board_member", "auditor")
TABLE.update({"support/": E("/support/", GET=SUPPORT_READERS, POST=SUPPORT_READERS)})
