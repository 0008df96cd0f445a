"""The controls of privileged access (SP/SM 3.4, 4.1.1, 9.1.7), each naming its section,
declared in CONTROLS for the compliance app to collect. Each topic's module declares its
own list; this module puts them together."""

from __future__ import annotations

from secman.core.controls import Control, Finding, Status, worst

CONTROLS: list[Control] = []


def chapter_findings() -> list[Finding]:
    """Every finding of this chapter's computed controls, for the overview page."""
    return [finding for control in CONTROLS if control.check is not None
            for finding in control.check()]


def chapter_status() -> Status:
    return worst(f.status for f in chapter_findings())


# --- schemes, grants and secrets (SP 3.4.3, 4.1.1.1, SM 4.1.1)
from secman.core.roles import TeamKind as _TeamKind  # noqa: E402
from secman.privileged import grants as _grants  # noqa: E402
from secman.privileged import schemes as _schemes  # noqa: E402
from secman.privileged import secrets_register as _secrets  # noqa: E402

CONTROLS += [
    Control("privileged.schemes_documented", ("SP 3.4.3",),
             "Every critical system in service has a documented SSH authentication scheme "
             "and a documented console scheme.", _TeamKind.SYSTEMS_ADMINISTRATION,
             check=_schemes.schemes_documented),
    Control("privileged.scheme_hop_in_service", ("SP 3.4.3", "SM 3.4.3"),
             "Every system documented as reached via the hop machine names a hop machine "
             "that is not retired.", _TeamKind.SYSTEMS_ADMINISTRATION,
             check=_schemes.hop_in_service),
    Control("privileged.grant_keys_removed", ("SP 4.1.1.1",),
             "A Software Assessor's key is gone from the system once their temporary grant "
             "expired or was revoked, per the system's newest agent report.",
             _TeamKind.SYSTEMS_ADMINISTRATION, check=_grants.ended_grant_keys_removed),
    Control("privileged.secrets_rotated", ("SM 4.1.1", "SM 9.1.7"),
             "Every privileged secret was changed after each turnover of those who know it "
             "and after each suspected compromise of a system it is used on.",
             _TeamKind.SYSTEMS_ADMINISTRATION, check=_secrets.secrets_rotated),
    Control("privileged.root_password_holders", ("SM 4.1.1",),
             "Only people on the Console Access List know a root password.",
             _TeamKind.SYSTEMS_ADMINISTRATION, check=_secrets.root_password_holders),
]
