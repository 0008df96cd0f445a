"""The Event Log's recurring work, each part when it is due. Run by every duties round
(`secman serve` in its own process, `secman duties run`) and by `secman eventlog
scheduler`:

- a checkpoint when entries have waited SECMAN_EVENTLOG_CHECKPOINT_SECONDS (appends
  sign one too, but a log that stops growing would otherwise keep its last entries
  unsigned);
- once a day a full verification, columns included (SM 4.2.3: automated logs are
  reviewed daily), recorded as a verification run by "daily duty (scheduler)";
- with it, the retention purge (SM 4.2.1).

Always on the real clock: the log's times are real times, whatever time a duties round
is asked to evaluate its controls at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from secman.eventlog import checkpoints, retention, verification
from secman.eventlog.models import Checkpoint, VerificationRun

DAILY_LABEL = "daily duty (scheduler)"


@dataclass
class Upkeep:
    checkpoint: Checkpoint | None = None
    # The daily verification and purge, when they were due in this round.
    verification: VerificationRun | None = None
    purged: int = 0


def daily_due(now: dt.datetime) -> bool:
    last = (VerificationRun.objects.filter(by_label=DAILY_LABEL)
            .order_by("-started_at").first())
    return last is None or now - last.started_at >= dt.timedelta(days=1)


def run_due() -> Upkeep:
    done = Upkeep(checkpoint=checkpoints.checkpoint_if_due())
    if daily_due(timezone.now()):
        done.verification = verification.run(by=None, by_label=DAILY_LABEL, columns=True)
        done.purged = sum(retention.purge().purged.values())
    return done


def checkpoint_poll_seconds() -> int:
    """How often the checkpoint loop beside the server looks (`secman eventlog scheduler
    --checkpoints-only`, which asks checkpoints.checkpoint_if_due to sign early by as
    much): often enough that no entry waits longer than SECMAN_EVENTLOG_CHECKPOINT_SECONDS
    for a signed checkpoint."""
    return max(1, min(5, settings.EVENTLOG_CHECKPOINT_SECONDS // 4))
