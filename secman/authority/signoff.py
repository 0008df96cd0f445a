"""What an action declares when it needs more than one person (SP 1.2).

A module says, for example, `dual_control(Role.SYSTEMS_ADMINISTRATOR)` ("two Systems
Administrators") or `four_eyes(executor=..., observer=...)`; the sign-off services do
the rest. A handler registered for the action runs, in the same transaction, when the
last slot is filled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secman.core.roles import Role

if TYPE_CHECKING:
    from secman.authority.models import SignOffRequest


@dataclass(frozen=True)
class Slot:
    name: str
    roles: frozenset[Role]

    def describe(self) -> str:
        roles = " or ".join(sorted(Role(role).label for role in self.roles))
        return f"{self.name} ({roles})"


@dataclass(frozen=True)
class Requirement:
    """Named slots, each filled by a different person holding one of its roles."""

    slots: tuple[Slot, ...]
    principle: str  # "dual control" or "four eyes": shown to people, kept in the log

    def __post_init__(self) -> None:
        if len(self.slots) < 2:
            raise ValueError("a sign-off requirement needs at least two people")
        names = [slot.name for slot in self.slots]
        if len(set(names)) != len(names):
            raise ValueError("slot names must differ")

    def describe(self) -> str:
        return f"{self.principle}: " + ", ".join(slot.describe() for slot in self.slots)

    def to_json(self) -> dict[str, Any]:
        return {
            "principle": self.principle,
            "slots": [
                {"name": slot.name, "roles": sorted(str(r) for r in slot.roles)}
                for slot in self.slots
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Requirement:
        return cls(
            slots=tuple(
                Slot(item["name"], frozenset(Role(role) for role in item["roles"]))
                for item in data["slots"]
            ),
            principle=data["principle"],
        )


def dual_control(roles: Role | Iterable[Role], count: int = 2) -> Requirement:
    """`count` distinct people holding the role(s) must each sign."""
    role_set = frozenset([roles] if isinstance(roles, Role) else roles)
    return Requirement(
        tuple(Slot(f"person {n}", role_set) for n in range(1, count + 1)), "dual control"
    )


def four_eyes(executor: Role | Iterable[Role], observer: Role | Iterable[Role]) -> Requirement:
    """One person executes, another observes; the observer is never the executor."""

    def as_set(roles: Role | Iterable[Role]) -> frozenset[Role]:
        return frozenset([roles] if isinstance(roles, Role) else roles)

    return Requirement(
        (Slot("executor", as_set(executor)), Slot("observer", as_set(observer))), "four eyes"
    )


Handler = Callable[["SignOffRequest"], None]
_HANDLERS: dict[str, tuple[str, Handler | None]] = {}


def register(action: str, label: str, on_complete: Handler | None = None) -> None:
    """Declare an action that may wait for sign-offs; `on_complete` carries it out."""
    _HANDLERS[action] = (label, on_complete)


def handler_for(action: str) -> Handler | None:
    if action not in _HANDLERS:
        raise LookupError(f"no sign-off action {action!r} is registered")
    return _HANDLERS[action][1]


def label_for(action: str) -> str:
    return _HANDLERS.get(action, (action, None))[0]


# A task that a team carries out by hand (replacing a disk, opening a rack) and records
# with its sign-offs: completing it is the record, so there is nothing more to run.
TASK = "authority.task"
register(TASK, "Task carried out under dual control or four eyes")
