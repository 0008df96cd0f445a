"""The lifecycle of a visit (SP/SM 2.3, 4.2.4), enforced by visits.services and drawn in
docs/lifecycles.md."""

from __future__ import annotations

from secman.core.lifecycle import Lifecycle, Transition, register
from secman.visits.choices import VisitStatus as V

VISIT = register(Lifecycle(
    name="Visits", noun="visit", states=V, initial=(V.REQUESTED, V.AWAITING_RULING),
    transitions=(
        Transition("authorise", (V.REQUESTED,), V.AUTHORISED, "authorise", "SM 2.3.1"),
        Transition("check_in", (V.AUTHORISED,), V.ON_SITE, "check in", "SM 2.3.1"),
        # More people join those on site, or some leave while the others stay.
        Transition("check_in", (V.ON_SITE,), None, "check in", "SP 2.3"),
        Transition("check_out", (V.ON_SITE,), None, "check out", "SM 2.3.3"),
        # The last people leave: the reports are due.
        Transition("check_out", (V.ON_SITE,), V.LEFT, "check out", "SM 2.3.3"),
        Transition("report", (V.ON_SITE, V.LEFT, V.AWAITING_RULING), None, "file a report",
                   "SP 4.2.4"),
        Transition("ruling", (V.AWAITING_RULING,), V.LEFT, "link the Arbitrator's ruling",
                   "SP 2.3.4"),
        Transition("close", (V.LEFT,), V.CLOSED, "close with both reports", "SM 2.3.3"),
    ),
    note="A visit is requested by someone on the physical lists and authorised before it "
         "takes place (SM 2.3.1). An emergency access is recorded after the fact: it starts "
         "awaiting the Arbitrator's ruling, which authorises it (SP 2.3.4).",
))
