"""Reads of the backup register for the pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secman.backups import controls
from secman.backups.choices import SetStatus
from secman.backups.models import BackupCheck, BackupJob, BackupSet
from secman.core.controls import TONE, Finding, Status, worst

# The badge of each tone (the stylesheet's badge colours).
BADGE = {"ok": "complete", "warn": "pending", "bad": "rejected", "info": ""}


@dataclass
class JobRow:
    job: BackupJob
    status: Status
    tone: str
    said: str
    newest_check: BackupCheck | None

    @property
    def badge(self) -> str:
        return BADGE[self.tone]


def job_rows() -> list[JobRow]:
    """Each job with the worst of its findings (on schedule, newest check) for the
    register's page."""
    findings: dict[str, list[Finding]] = {}
    for finding in controls.jobs_on_schedule() + controls.checks_pass():
        findings.setdefault(finding.subject, []).append(finding)
    rows = []
    for job in BackupJob.objects.filter(retired_at__isnull=True).select_related("system"):
        mine = findings.get(f"job:{job.pk}", [])
        status = worst(f.status for f in mine)
        rows.append(JobRow(job, status, TONE[status],
                           "; ".join(f.message.split(": ", 1)[-1] for f in mine) or "on schedule",
                           job.checks.order_by("-ran_at", "-id").first()))
    return rows


def waiting_sets() -> list[BackupSet]:
    return list(BackupSet.objects.filter(status__in=(
        SetStatus.AWAITING_SECOND, SetStatus.MADE, SetStatus.VERIFYING, SetStatus.VERIFIED))
        .select_related("job__system", "made_signoff", "verify_signoff"))


def tiles() -> dict[str, Any]:
    rows = job_rows()
    return {"jobs": len(rows),
            "overdue": sum(1 for r in rows if r.status in (Status.OVERDUE, Status.VIOLATED,
                                                          Status.NOT_EVIDENCED)),
            "waiting": BackupSet.objects.filter(status__in=(
                SetStatus.AWAITING_SECOND, SetStatus.MADE, SetStatus.VERIFYING)).count(),
            "failed_checks": len(controls.checks_pass())}
