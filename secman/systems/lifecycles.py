"""The lifecycles of systems and flows (SP/SM 3.1, 3.2), enforced by systems.services and
drawn in docs/lifecycles.md."""

from __future__ import annotations

from secman.core.lifecycle import Lifecycle, Transition, register
from secman.systems.choices import FlowStatus as F
from secman.systems.choices import SystemStatus as S

SYSTEM = register(Lifecycle(
    name="Systems", noun="system", states=S, initial=(S.PLANNED, S.INSTALLED, S.IN_SERVICE),
    transitions=(
        Transition("install", (S.PLANNED,), S.INSTALLED,
                   "record the installation (build document)", "SP 3.2.2"),
        Transition("inspect", (S.INSTALLED,), S.IN_SERVICE,
                   "inspect and put into service", "SP 3.2.2"),
        Transition("inspect_running", (S.IN_SERVICE,), None,
                   "inspect (a system recorded as already in service)", "SP 3.2.2"),
        Transition("retire", (S.PLANNED, S.INSTALLED, S.IN_SERVICE), S.RETIRED, "retire",
                   "SP 1.1"),
    ),
    note="A newly installed system enters service only once it has been inspected "
         "(SP 3.2.2). A system that was already running when it was recorded (from the "
         "infrastructure documentation) is recorded in service and is a finding until it "
         "is inspected. A critical system is added, changed and retired only by a Board "
         "decision (SP 1.1).",
))

FLOW = register(Lifecycle(
    name="Flows", noun="flow", states=F, initial=(F.REQUESTED,),
    transitions=(
        Transition("approve", (F.REQUESTED,), F.APPROVED,
                   "approve (the Systems Administration team leader)", "SP 3.1.1.2"),
        Transition("refuse", (F.REQUESTED,), F.REFUSED,
                   "refuse (the Systems Administration team leader)", "SP 3.1.1.2"),
        Transition("withdraw", (F.REQUESTED,), F.ENDED, "withdraw the request",
                   "SP 3.1.1.2"),
        Transition("end", (F.APPROVED,), F.ENDED, "end", "SM 3.1.2"),
    ),
    note="A new or changed connectivity is requested and takes effect only when the "
         "Systems Administration team leader, who did not request it, approves it "
         "(SP 3.1.1.2). A temporary Internet access (SP 3.1.1.1) is a flow with an end "
         "time: it is mailed to the Systems Administration team and stops being in effect "
         "at its end; one still approved after its end is a finding until it is ended.",
))
