"""Navigation that follows the manual's chapters, so a reader always knows which part of
the Security Policy a page serves."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# (chapter, title, [(url name, label)]). Only chapters with something built are listed.
CHAPTERS = [
    ("1", "Introduction", [("compliance:dashboard", "Compliance"),
                           ("documents:index", "Documents"),
                           ("authority:decisions", "Board decisions"),
                           ("authority:cases", "Arbitration"),
                           ("authority:signoffs", "Sign-offs")]),
    ("2", "Physical security", [("physical:computers", "Computers"),
                                ("physical:media", "Storage media"),
                                ("physical:facilities", "Facility"),
                                ("visits:visits", "Visits"),
                                ("visits:devices", "Codes & devices")]),
    ("3", "Logical security", [("people:lists", "Access lists"),
                               ("people:proposals", "List proposals")]),
    ("4", "Logging", [("eventlog:events", "Event Log")]),
    ("9", "Administrative", [("people:teams", "Teams"),
                             ("people:people", "People")]),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    from secman import __version__
    from secman.people.selectors import person_for_user

    return {"chapters": CHAPTERS, "me": person_for_user(getattr(request, "user", None)),
            "SECMAN_VERSION": __version__}
