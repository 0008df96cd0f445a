"""The lifecycle of a proposed change to an access list (SP 3.4.2), enforced by
people.services and drawn in docs/lifecycles.md."""

from __future__ import annotations

from secman.core.lifecycle import Lifecycle, Transition, register
from secman.people.choices import ProposalStatus as P

PROPOSAL = register(Lifecycle(
    name="Access list change proposals", noun="proposal", states=P, initial=(P.PENDING,),
    transitions=(
        Transition("approve", (P.PENDING,), P.APPROVED,
                   "approve under a carried Board decision (the change takes effect)",
                   "SP 3.4.2"),
        Transition("reject", (P.PENDING,), P.REJECTED,
                   "reject under a Board decision", "SP 3.4.2"),
        Transition("withdraw", (P.PENDING,), P.WITHDRAWN, "withdraw", "SP 3.4.2"),
    ),
    note="Changes of personnel to the lists are subject to Board approval (SP 3.4.2): "
         "nothing changes on the list until a Board member records a carried, confirmed "
         "Board decision.",
))
