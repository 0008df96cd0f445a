"""The lifecycle of a backup set (SP/SM 4.3), enforced by backups.services and drawn in
docs/lifecycles.md."""

from __future__ import annotations

from secman.backups.choices import SetStatus as S
from secman.core.lifecycle import Lifecycle, Transition, register

SET = register(Lifecycle(
    name="Backup sets", noun="backup set", states=S, initial=(S.AWAITING_SECOND,),
    transitions=(
        Transition("made", (S.AWAITING_SECOND,), S.MADE,
                   "the second person signs that they made it too", "SM 4.3.7"),
        Transition("verify", (S.MADE,), S.VERIFYING,
                   "a Systems Administrator starts the verification", "SP 4.3.6"),
        Transition("verified", (S.VERIFYING,), S.VERIFIED,
                   "a second Systems Administrator signs the verification", "SP 4.3.6"),
        Transition("store", (S.VERIFIED,), S.STORED,
                   "store (a DR set: two methods, OpenPGP layer checked)", "SM 4.3.3"),
    ),
    note="At least two people make a backup (SM 4.3.7) and two Systems Administrators "
         "verify it before it is sent to storage (SP 4.3.6); a disaster-recovery set is "
         "stored only with two divergent encryption methods, its OpenPGP layer shown to be "
         "encrypted to the configured DR keys (SP 4.3.5).",
))
