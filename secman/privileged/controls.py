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
