"""Chapter 3 controls (SP/SM 3.1, 3.2, 4.1.3): plain functions returning findings, each
naming its section, declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

from secman.core.controls import Control

CONTROLS: list[Control] = []


# --- the host agents' drift (systems.drift; docs/agent.md) ----------------------------------

from secman.core.controls import Finding  # noqa: E402
from secman.core.roles import TeamKind  # noqa: E402
from secman.systems import drift  # noqa: E402


def _drift_check(kind: str):  # type: ignore[no-untyped-def]
    def check() -> list[Finding]:
        return drift.findings(kind)

    check.__name__ = f"agent_{kind}"
    return check


CONTROLS += [
    Control("systems.agent_undocumented_ports", ("SM 3.1.2.1",),
            "Every port a system listens on beyond loopback is documented as an ingress "
            "flow in effect.", TeamKind.SYSTEMS_ADMINISTRATION,
            check=_drift_check(drift.PORT_UNDOCUMENTED)),
    Control("systems.agent_documented_ports_listening", ("SM 3.1.2.1",),
            "Every documented ingress port in effect is listening (or its flow is ended).",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.PORT_NOT_LISTENING)),
    Control("systems.agent_ruleset", ("SM 3.1.2.1",),
            "Each system enforces the nftables ruleset generated from the register.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.RULESET)),
    Control("systems.agent_disk_encryption", ("SP 3.2.1",),
            "Every mounted file system of a reporting system is on an encrypted device.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.ENCRYPTION)),
    Control("systems.agent_security_updates", ("SP 3.2.3",),
            "No security update stays pending longer than SECMAN_AGENT_UPDATE_DAYS "
            "(default 7) from the first report that showed it.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.SECURITY_UPDATES)),
    Control("systems.agent_reporting", ("SP 3.2.2",),
            "Every system with a live agent token has reported within two days.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.SILENT)),
    Control("systems.agent_recorded_changes", ("SM 4.1.3",),
            "Every change of sshd, sudoers, accounts, authorized_keys or the ruleset "
            "between two reports is covered by a recorded configuration change.",
            TeamKind.SYSTEMS_ADMINISTRATION, check=_drift_check(drift.UNRECORDED_CHANGE)),
]
