"""One way to declare a lifecycle: the states of a record, the moves between them, and the
section of the Security Policy or Manual that allows each move.

Each app declares its tables in its own `lifecycles.py` (next to its models and services)
and registers them here. The services ask `check` before they write, so a refused move
raises before anything (row or Event Log entry) is written; the pages ask `moves_from` to
offer only the moves that `check` would allow; and `python -m secman.core.lifecycle`
draws every registered table into docs/lifecycles.md, so the diagrams cannot drift from
the rules the services enforce.

This module imports no secman app (core is the bottom layer) and nothing of Django at
module level: the tables are plain data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secman.core.errors import RuleViolation

if TYPE_CHECKING:
    from django.db.models import TextChoices


@dataclass(frozen=True)
class Transition:
    """One move: from any of `sources` to `target`, or, with `target` None, a step that
    leaves the record in the state it is in (a report filed while on site)."""

    name: str  # the step as services and pages call it, e.g. "check_in"
    sources: tuple[str, ...]
    target: str | None
    verb: str  # what a page's button or a diagram's arrow says, e.g. "check in"
    section: str  # the SP/SM section that allows the move

    def target_from(self, source: str) -> str:
        return source if self.target is None else self.target


@dataclass(frozen=True)
class Lifecycle:
    name: str  # the heading in docs/lifecycles.md, e.g. "Computers"
    noun: str  # how a refusal calls one record, e.g. "computer"
    states: type[TextChoices]
    initial: tuple[str, ...]  # the states a record is created in
    transitions: tuple[Transition, ...]
    note: str = ""  # what the table does not say, for the docs

    def __post_init__(self) -> None:
        # A typo in a table is a programming error: fail at import, not at the first move.
        known = set(self.states.values)
        for state in (*self.initial, *(s for t in self.transitions for s in t.sources),
                      *(t.target for t in self.transitions if t.target is not None)):
            if state not in known:
                raise ValueError(f"{self.name}: {state!r} is not a {self.states.__name__}")

    def label(self, state: str) -> str:
        """The state's label inside a sentence ("Waiting for the Board" → "waiting for the
        Board")."""
        label = str(self.states(state).label)
        return label[:1].lower() + label[1:]

    def moves_from(self, state: str) -> list[Transition]:
        """The moves a record in `state` can make, in the order the table declares them."""
        return [t for t in self.transitions if state in t.sources]

    def final_states(self) -> list[str]:
        """The states nothing leaves: records in them do not change any more."""
        return [s for s in self.states.values if not self.moves_from(s)]

    def allowed(self, source: str, target: str, *, step: str = "") -> bool:
        return self._matching(source, target, step) is not None

    def check(self, source: str, target: str, *, step: str = "", field: str = ""
              ) -> Transition:
        """The move from `source` to `target` (by the step named `step`, where several
        steps join the same states), or RuleViolation naming the current state, the
        wanted one and the section that governs the wanted move (on the form field
        `field`, where a form asked for the move)."""
        found = self._matching(source, target, step)
        if found is not None:
            return found
        # The moves that would have been the wanted one from some other state.
        wanted = [(s, t) for t in self.transitions for s in t.sources
                  if (t.name == step if step else t.target_from(s) == target)]
        section = wanted[0][1].section if wanted else ""
        raise RuleViolation(self._refusal(source, target, step, wanted), section=section,
                            field=field)

    def _matching(self, source: str, target: str, step: str) -> Transition | None:
        return next((t for t in self.moves_from(source)
                     if t.target_from(source) == target and (not step or t.name == step)),
                    None)

    def _refusal(self, source: str, target: str, step: str,
                 wanted: list[tuple[str, Transition]]) -> str:
        now = f"this {self.noun} is {self.label(source)}"
        one = f"{'an' if self.noun[:1] in 'aeiou' else 'a'} {self.noun}"
        # Where the wanted move starts; a step that stays put does not "become" its state.
        starts = {s for s, t in wanted if step or t.target is not None}
        sources = _either(self.label(s) for s in self.states.values if s in starts)
        if step and wanted:
            refusal = f"{now}; “{wanted[0][1].verb}” is only for {one} that is {sources}"
        else:
            refusal = f"{now}; it cannot become {self.label(target)}"
            if starts:
                refusal += f": only {one} that is {sources} can"
        possible = self.moves_from(source)
        if not possible:
            return refusal + "; it does not change any more"
        return refusal + "; possible now: " + _either(t.verb for t in possible)


def _either(words: Iterable[str]) -> str:
    items = list(dict.fromkeys(words))
    return " or ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " or " + items[-1]


# --- the registry and the diagrams --------------------------------------------------------

_REGISTRY: dict[str, Lifecycle] = {}


def register(lifecycle: Lifecycle) -> Lifecycle:
    """Make a table part of docs/lifecycles.md; returns it, for `X = register(...)`."""
    if _REGISTRY.setdefault(lifecycle.name, lifecycle) is not lifecycle:
        raise ValueError(f"a lifecycle named {lifecycle.name!r} is registered already")
    return lifecycle


def registered() -> list[Lifecycle]:
    """Every app's tables, by name: imports each installed app's `lifecycles` module first.
    (By name, not by registration: that follows whichever module imported a table first,
    which an app's `ready` can change.)"""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("lifecycles")
    return sorted(_REGISTRY.values(), key=lambda lifecycle: lifecycle.name)


def _node(state: str) -> str:
    return state.replace("-", "_")


def mermaid(lifecycle: Lifecycle) -> str:
    lines = ["stateDiagram-v2"]
    lines += [f"    {_node(s)}: {lifecycle.states(s).label}" for s in lifecycle.states.values]
    lines += [f"    [*] --> {_node(s)}" for s in lifecycle.initial]
    for t in lifecycle.transitions:
        for source in t.sources:
            lines.append(f"    {_node(source)} --> {_node(t.target_from(source))}: {t.verb}")
    lines += [f"    {_node(s)} --> [*]" for s in lifecycle.final_states()]
    return "\n".join(lines)


def markdown(lifecycles: Iterable[Lifecycle]) -> str:
    out = ["# Lifecycles", "",
           "<!-- Generated by `python -m secman.core.lifecycle` from the tables the "
           "services enforce; do not edit by hand. -->", "",
           "Each record below moves only along these arrows: the services refuse any other "
           "move (and write nothing), and the pages offer only the moves shown. A step "
           "that leaves the state as it is is drawn as an arrow back to the same state.", ""]
    for lifecycle in lifecycles:
        out += [f"## {lifecycle.name}", ""]
        if lifecycle.note:
            out += [lifecycle.note, ""]
        out += ["```mermaid", mermaid(lifecycle), "```", "",
                "| from | to | step | section |", "|---|---|---|---|"]
        for t in lifecycle.transitions:
            to = "(stays)" if t.target is None else lifecycle.states(t.target).label
            sources = ", ".join(str(lifecycle.states(s).label) for s in t.sources)
            out.append(f"| {sources} | {to} | {t.verb} | {t.section or '—'} |")
        out.append("")
    return "\n".join(out)


DOCS = Path("docs") / "lifecycles.md"


def main(argv: list[str]) -> int:
    """Write docs/lifecycles.md (relative to the current directory, the project root)."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secman.settings")
    django.setup()
    # Run as `python -m`, this file is __main__; the apps register with the module itself.
    from secman.core import lifecycle

    target = Path(argv[0]) if argv else DOCS
    target.write_text(lifecycle.markdown(lifecycle.registered()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
