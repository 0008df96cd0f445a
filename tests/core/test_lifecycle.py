"""The lifecycle pattern: the Lifecycle class itself, every registered table (each state
reachable, ended states without moves), and docs/lifecycles.md generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import models

from secman.core import lifecycle
from secman.core.errors import RuleViolation
from secman.core.lifecycle import Lifecycle, Transition

ROOT = Path(__file__).resolve().parents[2]


class Door(models.TextChoices):
    SHUT = "shut", "Shut"
    OPEN = "open", "Open"
    LOCKED = "locked", "Locked"
    WALLED = "walled", "Walled up"


DOOR = Lifecycle(
    name="Doors", noun="door", states=Door, initial=(Door.SHUT,),
    transitions=(
        Transition("open", (Door.SHUT,), Door.OPEN, "open", "SM 1"),
        Transition("shut", (Door.OPEN,), Door.SHUT, "shut", "SM 2"),
        Transition("lock", (Door.SHUT,), Door.LOCKED, "lock", "SM 3"),
        Transition("unlock", (Door.LOCKED,), Door.SHUT, "unlock", "SM 3"),
        Transition("knock", (Door.SHUT, Door.LOCKED), None, "knock", "SM 4"),
        Transition("wall", (Door.SHUT, Door.LOCKED), Door.WALLED, "wall up", "SM 5"),
    ),
)


def test_it_allows_exactly_the_moves_of_its_table():
    assert DOOR.allowed(Door.SHUT, Door.OPEN)
    assert not DOOR.allowed(Door.OPEN, Door.LOCKED)
    assert DOOR.allowed(Door.LOCKED, Door.LOCKED)  # knocking leaves it locked
    assert not DOOR.allowed(Door.OPEN, Door.OPEN)
    assert not DOOR.allowed(Door.LOCKED, Door.LOCKED, step="unlock")
    assert DOOR.check(Door.LOCKED, Door.SHUT).name == "unlock"
    assert [t.name for t in DOOR.moves_from(Door.SHUT)] == ["open", "lock", "knock", "wall"]
    assert DOOR.moves_from(Door.WALLED) == []
    assert DOOR.final_states() == [Door.WALLED]


def test_a_refusal_names_the_state_the_wanted_state_and_the_section():
    with pytest.raises(RuleViolation) as refused:
        DOOR.check(Door.OPEN, Door.LOCKED, field="status")
    assert refused.value.message == ("this door is open; it cannot become locked: only a "
                                     "door that is shut can; possible now: shut")
    assert (refused.value.section, refused.value.field) == ("SM 3", "status")
    with pytest.raises(RuleViolation) as refused:
        DOOR.check(Door.WALLED, Door.SHUT)
    assert refused.value.message == ("this door is walled up; it cannot become shut: only "
                                     "a door that is open or locked can; it does not change "
                                     "any more")
    with pytest.raises(RuleViolation) as refused:
        DOOR.check(Door.OPEN, Door.OPEN, step="knock")
    assert refused.value.message == ("this door is open; “knock” is only for a door that is "
                                     "shut or locked; possible now: shut")
    assert refused.value.section == "SM 4"


def test_a_table_naming_an_unknown_state_fails_at_import():
    with pytest.raises(ValueError, match="'ajar' is not a Door"):
        Lifecycle(name="Bad", noun="door", states=Door, initial=(Door.SHUT,),
                  transitions=(Transition("x", (Door.SHUT,), "ajar", "x", "SM 1"),))


def test_two_lifecycles_cannot_share_a_name():
    first = lifecycle.registered()[0]
    with pytest.raises(ValueError, match="registered already"):
        lifecycle.register(Lifecycle(name=first.name, noun="x", states=first.states,
                                     initial=first.initial, transitions=()))


# Each lifecycle's ended states, as the policy has them: a new table adds its own here.
ENDED = {
    "Computers": {"retired"},
    "Storage media": {"retired"},
    "Visits": {"closed"},
    "Arbitration cases": {"closed", "withdrawn"},
    "Sign-off requests": {"complete", "withdrawn"},
    "Access list change proposals": {"approved", "rejected", "withdrawn"},
    "Duty occurrences": {"done", "skipped"},
    "Systems": {"retired"},
    "Flows": {"refused", "ended"},
    "Backup sets": {"stored"},
}


def test_every_lifecycle_is_registered_and_has_its_ended_states_listed_here():
    assert {table.name for table in lifecycle.registered()} == set(ENDED)


@pytest.mark.parametrize("table", lifecycle.registered(), ids=lambda table: table.name)
def test_every_state_is_reachable_and_only_ended_states_have_no_way_on(table):
    reached, todo = set(table.initial), list(table.initial)
    while todo:
        for move in table.moves_from(todo.pop()):
            for source in move.sources:
                target = move.target_from(source)
                if source in reached and target not in reached:
                    reached.add(target)
                    todo.append(target)
    assert reached == set(table.states.values), "unreachable: " + ", ".join(
        sorted(set(table.states.values) - reached))
    assert set(table.final_states()) == ENDED[table.name]
    for state in ENDED[table.name]:
        assert table.moves_from(state) == []
    for state in set(table.states.values) - ENDED[table.name]:
        # Not a dead end: some move leaves the state (staying put is not leaving).
        assert any(t.target_from(state) != state for t in table.moves_from(state)), state


def test_docs_lifecycles_md_is_generated_from_the_tables():
    written = (ROOT / lifecycle.DOCS).read_text(encoding="utf-8")
    assert written == lifecycle.markdown(lifecycle.registered()), (
        "docs/lifecycles.md is out of date: run `python -m secman.core.lifecycle` in the "
        "project root and commit the result")
    for table in lifecycle.registered():
        assert f"## {table.name}\n" in written
        assert lifecycle.mermaid(table) in written
