"""Duties the Security Manual's text demands, with the section that demands each. More
come with the later chapters' apps, declared in their own controls.py."""

from __future__ import annotations

from secman.core.controls import Control, Kind
from secman.core.roles import Role, TeamKind

CONTROLS = [
    Control("logs.automated_review", ("SM 4.2.3",),
            "The automated log review runs daily and its results are looked at.",
            TeamKind.SYSTEMS_ADMINISTRATION, Kind.DUTY, schedule="daily",
            procedure="SM 4.2.3",
            evidence="What the automated review reported, and what was done about it."),
    Control("logs.anomaly_examination", ("SM 5.2",),
            "Logs are examined for anomalies at least weekly by the designated primary log "
            "monitor.", TeamKind.SYSTEMS_ADMINISTRATION, Kind.DUTY, schedule="weekly",
            procedure="SM 5.2", designated="primary log monitor",
            evidence="Which logs were examined, which anomalies were found, which detectors "
                     "were updated."),
    Control("keys.escrow_check", ("SM 4.3.7",),
            "Escrowed passwords and keys are checked periodically: the sealed envelopes are "
            "where the register says, unopened, and hold the current secrets.",
            TeamKind.SYSTEMS_ADMINISTRATION, Kind.DUTY, schedule="quarterly",
            procedure="SM 4.3.7", four_eyes=True,
            evidence="Who checked the envelopes with whom, their seals and dates."),
    Control("staffing.background_checks", ("SP 9.1.4.2",),
            "Every individual in a critical role has an Arbitrated Background Check on file: "
            "an Arbitrator attests it yearly.",
            TeamKind.ARBITRATION, Kind.ATTESTATION, role=Role.ARBITRATOR, valid_days=366),
]
