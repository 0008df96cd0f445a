"""The response checklists of SM 5.5, read from checklists.toml, and the checks some of
their steps need: a step that says a record exists (a reference backup, a changed
secret, a legal hold) can be ticked only when the register shows it."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from secman.authority.choices import CaseStatus
from secman.backups.choices import BackupKind, SetStatus
from secman.backups.models import BackupSet
from secman.eventlog.models import LegalHold
from secman.privileged.models import Secret
from secman.systems.models import Patch

if TYPE_CHECKING:
    from secman.incidents.models import Incident

DATA = Path(__file__).with_name("checklists.toml")


@dataclass(frozen=True)
class StepSpec:
    key: str
    text: str
    isolation: bool = False
    check: str = ""


@dataclass(frozen=True)
class Checklist:
    name: str
    title: str
    section: str
    steps: tuple[StepSpec, ...]


@cache
def declared() -> dict[str, Checklist]:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    lists = {}
    for name, table in data.items():
        steps = tuple(StepSpec(**step) for step in table["steps"])
        unknown = [s.check for s in steps if s.check and s.check not in CHECKS]
        if unknown:
            raise ValueError(f"checklists.toml [{name}]: unknown check(s) {unknown}")
        lists[name] = Checklist(name, table["title"], table["section"], steps)
    return lists


def choices() -> list[tuple[str, str]]:
    """The classes a person may choose (recovery is added with a compromise or breach)."""
    return [(c.name, f"{c.title} ({c.section})") for c in declared().values()
            if c.name != "recovery"]


# --- the checks: each returns what is missing ("" when the registers show it done) -------


def _systems(incident: Incident) -> list:
    return list(incident.systems.all())


def logs_held(incident: Incident) -> str:
    held = set(LegalHold.objects.filter(released_at__isnull=True,
                                        subject_type="systems.system",
                                        case=incident.case_id)
               .values_list("subject_id", flat=True)) if incident.case_id else set()
    missing = [s.name for s in _systems(incident) if str(s.pk) not in held]
    if not incident.case_id:
        return "the related logs are archived under the incident's Arbitration case: link one"
    if missing:
        return "no legal hold keeps the logs of " + ", ".join(missing)
    return ""


def reference_backup_known(incident: Incident) -> str:
    missing = [s.name for s in _systems(incident) if not BackupSet.objects.filter(
        job__system=s, job__kind=BackupKind.REFERENCE, status=SetStatus.STORED).exists()]
    return ("the backups register has no stored full reference backup of "
            + ", ".join(missing)) if missing else ""


def secrets_changed(incident: Incident) -> str:
    stale = Secret.objects.filter(systems__in=_systems(incident), retired_at__isnull=True) \
        .exclude(last_rotated_at__gt=incident.opened_at).distinct().order_by("name")
    names = [secret.name for secret in stale]
    return ("not changed since the incident was opened: " + ", ".join(names)) if names else ""


def new_reference_backup(incident: Incident) -> str:
    missing = [s.name for s in _systems(incident) if not BackupSet.objects.filter(
        job__system=s, job__kind=BackupKind.REFERENCE, made_at__gt=incident.opened_at,
        status__in=[SetStatus.VERIFIED, SetStatus.STORED]).exists()]
    return ("no verified full reference backup made since the incident was opened of "
            + ", ".join(missing)) if missing else ""


def emergency_patch(incident: Incident) -> str:
    if Patch.objects.filter(systems__in=_systems(incident),
                            proposed_at__gt=incident.opened_at).exists():
        return ""
    return "no patch of the systems concerned is recorded since the incident was opened"


def case_running(incident: Incident) -> str:
    case = incident.case
    if case is None:
        return "the incident has no Arbitration case"
    if case.status not in (CaseStatus.RUNNING, CaseStatus.RULED, CaseStatus.CLOSED):
        return f"case {case.number} has no Arbitrator assigned yet"
    return ""


CHECKS: dict[str, Callable[[Incident], str]] = {
    "logs_held": logs_held, "reference_backup_known": reference_backup_known,
    "secrets_changed": secrets_changed, "new_reference_backup": new_reference_backup,
    "emergency_patch": emergency_patch, "case_running": case_running,
}
