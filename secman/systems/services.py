"""The systems register: the only place that changes it. Every change cites an authority
and is one Event Log entry in the same transaction."""

from __future__ import annotations
