"""Every change the backups chapter makes, each with its Event Log entry in the same
transaction; a refusal writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from secman.authority.services import resolve_authority
from secman.backups import own
from secman.eventlog.models import RetentionClass
from secman.eventlog.selectors import require_sysadmin
from secman.eventlog.services import record

OWN_BACKUP_SECTION = "SP 4.3"


def create_own_backup(output: Path, *, actor: Any = None,
                      progress: own.Progress = lambda step: None) -> own.Created:
    """secman's own backup (own.create), recorded with the archive's SHA-256 and
    recipients; a failure is recorded too (the operator's schedule must notice it)."""
    require_sysadmin(actor, "secman's backup (it holds every record and the signing keys)")
    try:
        created = own.create(output, progress=progress)
    except own.BackupError as exc:
        with transaction.atomic():
            record("backup.own_failed", actor=actor,
                   authority=resolve_authority(OWN_BACKUP_SECTION),
                   retention_class=RetentionClass.SYSTEM,
                   details={"file": output.name, "reason": str(exc)[:500]})
        raise
    with transaction.atomic():
        record("backup.own_created", actor=actor,
               authority=resolve_authority(OWN_BACKUP_SECTION),
               retention_class=RetentionClass.SYSTEM,
               details={"file": created.path.name, "sha256": created.sha256,
                        "bytes": created.size, "database": created.manifest["database"],
                        "eventlog_entries": created.manifest["eventlog"]["entries"],
                        "files": len(created.manifest["files"]),
                        "recipients": created.manifest["recipients"]})
    return created
