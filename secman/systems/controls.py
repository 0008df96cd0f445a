"""Chapter 3 controls (SP/SM 3.1, 3.2, 4.1.3): plain functions returning findings, each
naming its section, declared in CONTROLS for the compliance app to collect."""

from __future__ import annotations

from secman.core.controls import Control

CONTROLS: list[Control] = []
