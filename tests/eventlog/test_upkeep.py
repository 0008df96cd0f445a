"""The Event Log's recurring work (secman.eventlog.upkeep), as every duties round and
`secman eventlog scheduler` run it: a checkpoint when entries have waited, and once a
day a full verification and the retention purge."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.compliance import runner
from secman.eventlog import upkeep
from secman.eventlog.models import (
    Checkpoint,
    Event,
    RetentionClass,
    RetentionPolicy,
    VerificationRun,
)
from tests.eventlog.test_tampering import add_entries


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def daily_runs() -> list[VerificationRun]:
    return list(VerificationRun.objects.filter(by_label=upkeep.DAILY_LABEL))


def test_it_verifies_once_a_day(org):
    first = upkeep.run_due()
    assert first.verification is not None and first.verification.ok
    assert first.verification.entries == Event.objects.count() > 0
    assert upkeep.run_due().verification is None  # done today
    VerificationRun.objects.filter(pk=first.verification.pk).update(
        started_at=first.verification.started_at - dt.timedelta(hours=25))
    again = upkeep.run_due()
    assert again.verification is not None and again.verification.ok
    assert len(daily_runs()) == 2


def test_it_signs_a_checkpoint_when_entries_have_waited(org, settings):
    settings.EVENTLOG_CHECKPOINT_SECONDS = 60
    upkeep.run_due()
    last = Checkpoint.objects.order_by("-tree_size").first()
    assert upkeep.run_due().checkpoint is None  # nothing waiting
    add_entries(1)
    Checkpoint.objects.filter(pk=last.pk).update(time=last.time - dt.timedelta(minutes=2))
    signed = upkeep.run_due().checkpoint
    assert signed is not None and signed.tree_size == Event.objects.count()


def test_the_daily_round_purges_entries_past_their_maximum(org):
    add_entries(3, RetentionClass.LOGIN)
    # Login entries kept for no day at all: the three are past their maximum now.
    RetentionPolicy.objects.filter(retention_class=RetentionClass.LOGIN).update(
        minimum_days=0, maximum_days=0)
    done = upkeep.run_due()
    assert done.purged == 3
    assert Event.objects.filter(retention_class=RetentionClass.LOGIN,
                                purged_at__isnull=False).count() == 3
    assert Event.objects.filter(action="eventlog.purge").count() == 1


def test_every_duties_round_does_the_upkeep(org, smtp):
    first = runner.run()
    assert first.log_verified is True and first.log_purged == 0
    assert runner.run().log_verified is None  # verified today already
    assert len(daily_runs()) == 1


def test_a_failing_upkeep_is_logged_and_the_round_goes_on(org, smtp, settings, tmp_path,
                                                          caplog):
    """The signing key file is gone when a checkpoint falls due: the upkeep fails, the
    controls are still evaluated."""
    settings.EVENTLOG_CHECKPOINT_SECONDS = 60
    last = Checkpoint.objects.order_by("-tree_size").first()
    add_entries(1)
    Checkpoint.objects.filter(pk=last.pk).update(time=last.time - dt.timedelta(minutes=2))
    settings.EVENTLOG_KEY_FILE = str(tmp_path / "no such key.pem")
    with caplog.at_level(logging.ERROR, logger="secman.compliance.runner"):
        summary = runner.run()
    assert summary.log_upkeep_failed is True and summary.log_verified is None
    assert summary.controls_evaluated > 0
    assert "Event Log upkeep failed in the duties round" in caplog.text


def test_the_scheduler_command_runs_one_round(org):
    result = CliRunner().invoke(main, ["eventlog", "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "daily verification: intact" in result.output
    assert "retention purge: 0 entries" in result.output
    assert len(daily_runs()) == 1
