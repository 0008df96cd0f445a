"""The lifecycles of Arbitration cases and sign-off requests, enforced by
authority.services and drawn in docs/lifecycles.md."""

from __future__ import annotations

from secman.authority.choices import CaseStatus as C
from secman.authority.choices import SignOffStatus as S
from secman.core.lifecycle import Lifecycle, Transition, register

# Cases only move forward and a ruling stands: a ruled case can only be closed, and a
# closed or withdrawn case does not change.
CASE = register(Lifecycle(
    name="Arbitration cases", noun="case", states=C, initial=(C.FILED, C.RUNNING),
    transitions=(
        Transition("assign", (C.FILED, C.RUNNING), None, "assign the Arbitrator and Case "
                   "Manager", "SP 9.1.4"),
        Transition("run", (C.FILED,), C.RUNNING, "start the case", "SP 9.1.4"),
        Transition("rule", (C.FILED, C.RUNNING), C.RULED, "record the ruling", "SP 9.1.4"),
        Transition("withdraw", (C.FILED, C.RUNNING), C.WITHDRAWN, "withdraw", "SP 9.1.4"),
        Transition("close", (C.RULED,), C.CLOSED, "close", "SP 9.1.4"),
    ),
    note="A case filed with its Arbitrator starts running; a dispute (SM 2.3.4) starts "
         "filed and waits for the Case Managers. Only the case's own Arbitrator records "
         "the ruling, and the Case Manager is another person (SP 9.1.4).",
))

SIGNOFF = register(Lifecycle(
    name="Sign-off requests", noun="request", states=S, initial=(S.PENDING,),
    transitions=(
        Transition("sign", (S.PENDING,), None, "sign", "SP 1.2"),
        # The last signature completes the request and runs the action it waited for.
        Transition("sign", (S.PENDING,), S.COMPLETE, "sign", "SP 1.2"),
        Transition("withdraw", (S.PENDING,), S.WITHDRAWN, "withdraw", "SP 1.2"),
    ),
    note="Each slot is signed by a different person holding a role it names (dual control, "
         "four eyes: SP 1.2). A pending request past its expiry takes no more sign-offs; "
         "it stays pending in the table and shows as expired.",
))
