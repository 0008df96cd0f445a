"""The lifecycle of a recurring duty's occurrence, enforced by compliance.services and
drawn in docs/lifecycles.md."""

from __future__ import annotations

from secman.compliance.models import OccurrenceStatus as O
from secman.core.lifecycle import Lifecycle, Transition, register

OCCURRENCE = register(Lifecycle(
    name="Duty occurrences", noun="occurrence", states=O, initial=(O.OPEN,),
    transitions=(
        # No section of its own: completing cites the section of the duty itself.
        Transition("complete", (O.OPEN,), O.DONE, "complete with evidence", ""),
        Transition("complete", (O.OPEN,), O.AWAITING_SIGNOFF,
                   "complete with evidence (four eyes)", "SP 1.2"),
        Transition("second_signoff", (O.AWAITING_SIGNOFF,), O.DONE,
                   "a second team member signs off", "SP 1.2"),
        Transition("reopen", (O.AWAITING_SIGNOFF,), O.OPEN,
                   "reopen (the sign-off request expired or was withdrawn)", "SP 1.2"),
        Transition("skip", (O.OPEN,), O.SKIPPED,
                   "skip under a Board decision or Arbitration ruling", "SP 1.2"),
    ),
    note="A duty is completed with evidence, never by ticking it: a note of what was done "
         "and found, optionally a file and an Event Log entry, under the section of the "
         "duty itself. A four-eyes duty is done when a second member of the owning team "
         "signs off (SP 1.2). Overdue is not a state: an open occurrence past its due time "
         "is shown overdue.",
))
