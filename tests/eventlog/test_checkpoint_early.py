"""The checkpoint loop beside the server (`secman eventlog scheduler --checkpoints-only`)
signs `early` seconds before entries have waited SECMAN_EVENTLOG_CHECKPOINT_SECONDS, so
that, looking every `early` seconds, it never lets one wait longer."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.cli import main
from secman.eventlog import checkpoints, upkeep
from secman.eventlog.models import Checkpoint
from tests.eventlog.test_tampering import add_entries


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EVENTLOG_CHECKPOINT_SECONDS = 60
    settings.EVENTLOG_CHECKPOINT_EVERY = 1000
    return settings.DATA_DIR


def age(checkpoint: Checkpoint, seconds: float) -> None:
    Checkpoint.objects.filter(pk=checkpoint.pk).update(
        time=timezone.now() - dt.timedelta(seconds=seconds))


def test_it_signs_early_by_the_loops_interval_and_never_in_the_future(org):
    last = checkpoints.write_checkpoint()
    add_entries(2)
    age(last, 50)
    assert checkpoints.checkpoint_if_due(early=5) is None  # due in 10 s: not yet
    age(last, 56)
    before = timezone.now()
    signed = checkpoints.checkpoint_if_due(early=5)
    assert signed is not None and signed.tree_size == last.tree_size + 2
    assert before - dt.timedelta(seconds=1) <= signed.time <= timezone.now()
    assert checkpoints.checkpoint_if_due(early=5) is None  # nothing new since


def test_it_looks_often_enough_for_the_setting(settings):
    settings.EVENTLOG_CHECKPOINT_SECONDS = 60
    assert upkeep.checkpoint_poll_seconds() == 5
    settings.EVENTLOG_CHECKPOINT_SECONDS = 8
    assert upkeep.checkpoint_poll_seconds() == 2
    settings.EVENTLOG_CHECKPOINT_SECONDS = 1
    assert upkeep.checkpoint_poll_seconds() == 1


def test_the_checkpoints_only_scheduler_runs_one_round(org):
    last = checkpoints.write_checkpoint()
    add_entries(1)
    age(last, 59)
    result = CliRunner().invoke(main, ["eventlog", "scheduler", "--checkpoints-only",
                                       "--once"])
    assert result.exit_code == 0, result.output
    newest = Checkpoint.objects.order_by("-tree_size").first()
    assert newest is not None and newest.tree_size == last.tree_size + 1
