"""The lifecycles of computers and storage media (SP/SM 2.2), enforced by
physical.services and drawn in docs/lifecycles.md."""

from __future__ import annotations

from secman.core.lifecycle import Lifecycle, Transition, register
from secman.physical.choices import ComputerStatus as C
from secman.physical.choices import MediaStatus as M

COMPUTER = register(Lifecycle(
    name="Computers", noun="computer", states=C, initial=(C.ACQUIRED,),
    transitions=(
        Transition("inventory", (C.ACQUIRED,), C.INVENTORIED,
                   "inventory (every SM 2.2.1 field present)", "SM 2.2.1"),
        Transition("in_service", (C.INVENTORIED, C.MAINTENANCE), C.IN_SERVICE,
                   "put into service", "SP 2.2.1"),
        Transition("maintenance", (C.IN_SERVICE,), C.MAINTENANCE,
                   "maintenance under four eyes", "SP 4.1"),
        Transition("service_risk", (C.INVENTORIED, C.IN_SERVICE, C.MAINTENANCE),
                   C.MUST_RETIRE, "record a service that poses a security risk", "SP 2.2.2"),
        Transition("retire", (C.ACQUIRED, C.INVENTORIED, C.IN_SERVICE, C.MAINTENANCE,
                              C.MUST_RETIRE), C.RETIRED, "retire", "SP 2.2.2"),
    ),
    note="A computer is inventoried before it enters service (SP 2.2.1); one that needs a "
         "service posing a security risk must be retired (SP 2.2.2). A computer is retired "
         "only once it holds no storage medium: they are stored or retired first "
         "(SP 2.2.3.3).",
))

MEDIA = register(Lifecycle(
    name="Storage media", noun="medium", states=M, initial=(M.PROVISIONED,),
    transitions=(
        Transition("in_use", (M.PROVISIONED,), M.IN_USE, "put into a critical system",
                   "SP 2.2.3.2"),
        Transition("stored", (M.PROVISIONED, M.IN_USE, M.REUSED), M.STORED,
                   "erase securely and store", "SP 2.2.3.2"),
        Transition("reused", (M.STORED,), M.REUSED, "reuse in a critical system",
                   "SP 2.2.3.2"),
        Transition("retired", (M.PROVISIONED, M.IN_USE, M.STORED, M.REUSED), M.RETIRED,
                   "retire (destroy, licensed disposal, or seal)", "SP 2.2.3.3"),
    ),
    note="Every step is reported with the people present and the steps taken (SM 2.2.3); "
         "a medium holding critical data moves only when two Systems Administrators sign "
         "off (SP 2.2.3.3). A medium retired sealed stays retired: its later destruction, "
         "once the data has expired, is recorded on it (SM 2.2.3) and does not change its "
         "status.",
))
