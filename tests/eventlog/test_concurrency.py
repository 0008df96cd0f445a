"""Many writers, and writers killed half-way (issue 4, part 9), against a real database
made for the test: a SQLite file in a temporary SECMAN_DATA_DIR, and, when DATABASE_URL
points at PostgreSQL, a temporary database on that server. The writers are separate OS
processes (tests/eventlog/appender.py) with their own Django."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

APPENDER = Path(__file__).with_name("appender.py")
ROOT = Path(__file__).resolve().parents[2]
WORKERS, PER_WORKER = 8, 5000


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, str(APPENDER), *args], env=env, cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _acknowledged(output: str) -> list[int]:
    return [int(seq) for line in output.splitlines() if line.startswith("seqs ")
            for seq in line.split()[1:]]


def _inspect(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(APPENDER), "inspect"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_it_gives_eight_writers_contiguous_numbers_and_one_valid_tree(database_env):
    workers = [_start(database_env, "append", str(w), str(PER_WORKER))
               for w in range(WORKERS)]
    for process in workers:  # all at once
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    acknowledged: dict[int, list[int]] = {}
    for w, process in enumerate(workers):
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        acknowledged[w] = _acknowledged(output)

    found = _inspect(database_env)
    assert found["problems"] == []
    total = WORKERS * PER_WORKER
    assert found["entries"] == total
    assert [seq for seq, _, _ in found["tags"]] == list(range(1, total + 1))
    # Every entry exactly once, at the number its writer was given.
    by_seq = {seq: (w, n) for seq, w, n in found["tags"]}
    assert sorted(by_seq.values()) == [(w, n) for w in range(WORKERS)
                                       for n in range(PER_WORKER)]
    for w, seqs in acknowledged.items():
        assert len(seqs) == PER_WORKER
        assert [by_seq[seq] for seq in seqs] == [(w, n) for n in range(PER_WORKER)]
    # Checkpoints were signed along the way (every 1000 entries) and all verified.
    assert found["checkpoints"] >= total // 1000 - WORKERS


def test_it_loses_nothing_acknowledged_when_a_writer_is_killed(database_env):
    rng = random.Random(9)
    acknowledged: dict[int, tuple[int, int]] = {}
    for round_ in range(3):
        process = _start(database_env, "forever", str(round_))
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        seqs: list[int] = []
        goal = 1000 + rng.randrange(1000)
        while len(seqs) < goal:
            seqs += _acknowledged(process.stdout.readline())
        time.sleep(rng.random() / 20)  # somewhere inside a later batch
        process.send_signal(signal.SIGKILL)
        # Not communicate(): it reads the pipe itself and would drop the lines readline()
        # had already buffered.
        process.stdin.close()
        output = process.stdout.read()
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL
        seqs += _acknowledged(output)

        found = _inspect(database_env)
        assert found["problems"] == [], f"after the kill in round {round_}"
        assert [seq for seq, _, _ in found["tags"]] == list(range(1, found["entries"] + 1))
        by_seq = {seq: (w, n) for seq, w, n in found["tags"]}
        # Everything acknowledged, in this round and before, is there as it was written.
        assert [by_seq[seq] for seq in seqs] == [(round_, n) for n in range(len(seqs))]
        for seq, tag in acknowledged.items():
            assert by_seq[seq] == tag
        acknowledged.update((seq, by_seq[seq]) for seq in seqs)
        # Nothing half-written: the killed writer's entries are whole, numbered from 0.
        written = sorted(n for w, n in by_seq.values() if w == round_)
        assert written == list(range(len(written)))


def test_the_quick_walk_finds_what_the_entry_by_entry_walk_finds(database_env):
    """verify_log() walks a sound log quickly (in worker processes on a large one) and
    hands anything unsound to the entry-by-entry walk: after each kind of tampering, all
    three ways report the same problems, entries and root (appender.py verify-ways)."""
    writer = _start(database_env, "append", "0", "1500")
    output, _ = writer.communicate("go\n", timeout=300)
    assert writer.returncode == 0 and len(_acknowledged(output)) == 1500
    done = subprocess.run([sys.executable, str(APPENDER), "verify-ways"], env=database_env,
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    steps = json.loads(done.stdout)
    for step, ways in steps.items():
        assert ways["quick-here"][:3] == ways["walk"][:3], step
        assert ways["quick-workers"][:3] == ways["walk"][:3], step
        here, workers, chain = ways["columns"]
        assert here == workers == chain, step
    assert steps["column changed"]["columns"][1] == [
        "entry #800: column 'authority' differs from the hashed entry"]
    assert steps["edit undone"]["columns"][1] == []
    for step in ("untouched", "checkpointed", "purged", "edit undone", "column changed"):
        assert steps[step]["walk"][0] == [], step
        assert steps[step]["quick-here"][3] == steps[step]["quick-workers"][3] == [True], step
        # Walked by worker processes (one may take every range while the other starts),
        # not by the parent after a failed start.
        assert steps[step]["quick-here"][4] == 0 and steps[step]["quick-workers"][4] >= 1, step
    for step in ("edited", "purged entries swapped", "swapped", "deleted",
                 "purged leaf changed", "truncated"):
        assert steps[step]["walk"][0] != [], step
        assert steps[step]["quick-here"][3] == steps[step]["quick-workers"][3] == [False], step
    assert steps["edited"]["walk"][0][0] == (
        "entry #700: its stored bytes do not hash to its leaf hash (the entry was changed "
        "after it was written)")
