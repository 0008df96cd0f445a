"""Navigation that follows the manual's chapters, so a reader always knows which part of
the Security Policy a page serves. Each link is shown only to the people its page lets
in: the same predicate the page asks (a link that answers "Not allowed" is noise)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string

from secman import __version__
from secman.core.accounts import person_for_user

# (chapter, title, [(url name, label, predicate)]). Only chapters with something built are
# listed. A predicate is the dotted path of the services' may_* function the page itself
# asks; None: every signed-in person may open the page. (Dotted paths, because this module
# sits below the chapters and must not import them when it loads.)
INVENTORY = "secman.physical.services.may_see_inventory"
SYSTEMS_REGISTER = "secman.systems.services.may_read_register"
CHAPTERS: list[tuple[str, str, list[tuple[str, str, str | None]]]] = [
    ("1", "Introduction", [("compliance:dashboard", "Compliance", None),
                           ("documents:index", "Documents", None),
                           ("authority:decisions", "Board decisions", None),
                           ("authority:cases", "Arbitration", None),
                           ("authority:signoffs", "Sign-offs", None)]),
    ("2", "Physical security", [("physical:computers", "Computers", INVENTORY),
                                ("physical:media", "Storage media", INVENTORY),
                                ("physical:facilities", "Facility", INVENTORY),
                                ("visits:visits", "Visits", None),
                                ("visits:devices", "Codes & devices", None)]),
    ("3", "Logical security", [("systems:systems", "Systems", SYSTEMS_REGISTER),
                               ("systems:flows", "Flows", SYSTEMS_REGISTER),
                               ("systems:network", "Network diagram",
                                "secman.systems.diagram.may_see_network"),
                               ("systems:patches", "Patches & changes",
                                "secman.systems.patches.may_see_patches"),
                               ("systems:os", "OS lifecycle",
                                "secman.systems.patches.may_see_patches"),
                               ("people:lists", "Access lists", None),
                               ("people:proposals", "List proposals", None),
                               ("privileged:overview", "Privileged access",
                                "secman.privileged.selectors.may_read_access")]),
    ("4", "Logging", [("eventlog:events", "Event Log", None),
                      ("logs:overview", "Systems' logs", None),
                      ("logs:anomalies", "Anomalies", None),
                      ("logs:rules", "Detection rules", None),
                      ("backups:overview", "Backups",
                       "secman.backups.services.may_read_register"),
                      ("backups:retention", "Data retention",
                       "secman.backups.services.may_see_retention")]),
    ("5", "Incidents", [("incidents:incidents", "Incidents",
                         "secman.incidents.services.may_see_incidents")]),
    ("6", "Disaster recovery", [("recovery:overview", "Processes & exercises",
                                 "secman.recovery.services.may_read"),
                                ("recovery:key_persons", "Key Persons List",
                                 "secman.people.selectors.may_see_key_persons")]),
    ("7", "Software", [("software:overview", "Changes & releases",
                        "secman.software.services.may_read")]),
    ("8", "Support", [("support:overview", "Support", "secman.support.services.may_read")]),
    ("9", "Administrative", [("people:teams", "Teams", None),
                             ("people:people", "People", None)]),
]


def chapters_for(person: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The chapters and links this person may open; a chapter left empty is dropped."""
    shown = []
    for number, title, items in CHAPTERS:
        links = [(url_name, label) for url_name, label, predicate in items
                 if predicate is None or import_string(predicate)(person)]
        if links:
            shown.append((number, title, links))
    return shown


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    me = person_for_user(user)
    match = getattr(request, "resolver_match", None)
    return {"chapters": chapters_for(me) if user is not None and user.is_authenticated else [],
            "me": me, "current_view": match.view_name if match else "",
            "SECMAN_VERSION": __version__}
