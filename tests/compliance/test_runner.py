"""`secman duties run` (issue 6, item 5): reminders before a duty is due and a notice when
it is overdue reach the owning team through a real SMTP server (aiosmtpd on loopback);
a second round sends nothing; concurrent rounds in separate processes send each mail
once, on SQLite and on PostgreSQL; the `--every` loop stops on SIGTERM; the loop that
`secman serve` starts in a process of its own survives a failing round, stops with the
server, and holds the only database connection outside the workers."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.compliance import runner, services
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from tests.conftest import free_port, secman_command

ROOT = Path(__file__).resolve().parents[2]
SYSADMINS = ["sam@example.org", "sid@example.org", "sue@example.org"]
DAILY = "logs.automated_review"      # SM 4.2.3, daily, lead 6 h
WEEKLY = "logs.anomaly_examination"  # SM 5.2, weekly, designated primary log monitor


def _first(control_id: str) -> Occurrence:
    return Occurrence.objects.filter(duty__control_id=control_id).order_by("due_at").first()


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _about(inbox, section: str, kind: str) -> list[tuple[list[str], object]]:
    """Mails of one kind ("Due" or "Overdue") about the duty of one section."""
    return [(sorted(to), msg) for to, msg in inbox.messages
            if subject(msg).startswith(f"[secman] {kind} ") and f" {section} " in subject(msg)]


# A Tuesday morning: the daily duty is next due at midnight (15 h ahead, outside its 6 h
# lead), the weekly one next Monday, the quarterly one on 1 April: nothing to mail yet.
T0 = dt.datetime(2030, 1, 8, 9, 0, tzinfo=dt.UTC)


def test_it_reminds_the_owning_team_before_the_due_time_once(org, smtp):
    start = runner.run(now=T0)
    assert start.duties_added >= 3 and start.occurrences_generated > 0
    assert start.mails_sent == 0 and smtp.messages == []
    occurrence = _first(DAILY)
    assert occurrence.due_at == dt.datetime(2030, 1, 9, tzinfo=dt.UTC)

    early = runner.run(now=occurrence.due_at - dt.timedelta(hours=7))  # before the lead
    first = runner.run(now=occurrence.due_at - dt.timedelta(hours=5))  # inside it
    second = runner.run(now=occurrence.due_at - dt.timedelta(hours=4))

    assert early.mails_sent == 0
    assert first.reminders_sent == 1 and second.mails_sent == 0
    due = _about(smtp, "SM 4.2.3", "Due")
    assert len(due) == 1, [subject(m) for _, m in smtp.messages]
    to, message = due[0]
    assert to == SYSADMINS
    assert subject(message).startswith("[secman] Due 2030-01-09 00:00 UTC: SM 4.2.3 ")
    body = message.get_payload()
    assert f"/compliance/occurrences/{occurrence.pk}/" in body
    assert "The automated log review runs daily" in body
    occurrence.refresh_from_db()
    assert occurrence.reminded_at is not None


def test_it_tells_the_team_when_a_duty_becomes_overdue_once(org, smtp):
    runner.run(now=T0)
    occurrence = _first(DAILY)
    after = occurrence.due_at + dt.timedelta(minutes=1)

    summary = runner.run(now=after)
    again = runner.run(now=after + dt.timedelta(hours=1))

    overdue = _about(smtp, "SM 4.2.3", "Overdue")
    assert len(overdue) == 1
    to, message = overdue[0]
    assert to == SYSADMINS
    assert f"/compliance/occurrences/{occurrence.pk}/" in message.get_payload()
    assert summary.overdue_sent >= 1 and again.mails_sent == 0
    assert summary.statuses["overdue"] >= 1  # and the evaluation says so


def test_a_done_duty_is_not_overdue(org, smtp):
    runner.run(now=T0)
    occurrence = _first(DAILY)
    Occurrence.objects.filter(pk=occurrence.pk).update(status=OccurrenceStatus.DONE)
    runner.run(now=occurrence.due_at + dt.timedelta(minutes=1))
    assert _about(smtp, "SM 4.2.3", "Overdue") == []


def test_a_designated_duty_reminds_its_person_and_tells_the_team_when_missed(org, smtp):
    runner.run(now=T0)
    duty = Duty.objects.get(control_id=WEEKLY)
    services.designate(actor=org.sam, duty=duty, person=org.sue, authority="SM 5.2")
    occurrence = _first(WEEKLY)

    runner.run(now=occurrence.due_at - dt.timedelta(hours=1))
    runner.run(now=occurrence.due_at + dt.timedelta(minutes=1))

    (to, _), = _about(smtp, "SM 5.2", "Due")
    assert to == ["sue@example.org"]
    (to, message), = _about(smtp, "SM 5.2", "Overdue")
    assert to == SYSADMINS
    assert "Designated primary log monitor: Sue" in message.get_payload()


def test_a_designated_person_who_left_the_team_is_not_the_one_reminded(org, smtp):
    from secman.people.models import Membership

    runner.run(now=T0)
    duty = Duty.objects.get(control_id=WEEKLY)
    services.designate(actor=org.sam, duty=duty, person=org.sue, authority="SM 5.2")
    Membership.objects.filter(person=org.sue).update(end=timezone.localdate())
    occurrence = _first(WEEKLY)

    runner.run(now=occurrence.due_at - dt.timedelta(hours=1))

    (to, _), = _about(smtp, "SM 5.2", "Due")
    assert to == ["sam@example.org", "sid@example.org"]


def test_a_mail_server_that_is_down_releases_the_claim_for_the_next_round(org, smtp,
                                                                          settings, caplog):
    runner.run(now=T0)
    occurrence = _first(DAILY)
    before = occurrence.due_at - dt.timedelta(hours=1)
    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there

    failed = runner.run(now=before)

    assert failed.mails_failed >= 1
    assert "could not send the reminder of logs.automated_review" in caplog.text
    occurrence.refresh_from_db()
    assert occurrence.reminded_at is None
    assert smtp.messages == []

    settings.EMAIL_PORT = working
    retried = runner.run(now=before + dt.timedelta(minutes=5))
    assert retried.mails_failed == 0
    assert len(_about(smtp, "SM 4.2.3", "Due")) == 1


def test_the_claim_is_a_conditional_update(org):
    runner.run(now=T0)
    occurrence = _first(DAILY)
    now = occurrence.due_at - dt.timedelta(hours=1)
    assert runner._claim(occurrence, runner.REMINDER, now) is True
    assert runner._claim(occurrence, runner.REMINDER, now) is False


def test_the_command_prints_a_summary(org, smtp):
    result = CliRunner().invoke(_main(), ["duties", "run"])  # now: real time
    assert result.exit_code == 0, result.output
    assert "controls evaluated" in result.output
    assert Duty.objects.filter(control_id=DAILY).exists()


def _main():
    from secman.cli import main

    return main


# --- the loop `secman serve` hosts ---------------------------------------------------------


def test_the_loop_survives_a_failing_round_and_stops_cleanly(monkeypatch, caplog):
    calls: list[int] = []
    stop = threading.Event()

    def flaky(now=None, progress=None):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        if len(calls) >= 3:
            stop.set()
        return runner.RunSummary(started_at=dt.datetime.now(dt.UTC))

    monkeypatch.setattr(runner, "run", flaky)
    thread = threading.Thread(target=runner.run_forever, args=(0.01, stop), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert len(calls) == 3
    assert "compliance duties round failed" in caplog.text


# --- separate processes against a real database (SQLite file, PostgreSQL) -----------------


# Builds the test organisation in the process's database, and occurrences of the daily
# duty that are, right now, one inside its reminder lead and one overdue.
SETUP = """
import datetime as dt, django
django.setup()
from django.utils import timezone
from tests.conftest import build_org
from secman.compliance import runner
from secman.compliance.models import Duty, Occurrence
build_org()
runner.run()
duty = Duty.objects.get(control_id="logs.automated_review")
now = timezone.now()
for due in (now + dt.timedelta(hours=1), now - dt.timedelta(hours=1)):
    Occurrence.objects.create(duty=duty, period_start=due - dt.timedelta(days=1), due_at=due)
# Nothing else is due to be mailed: only these two count.
Occurrence.objects.exclude(duty=duty).update(reminded_at=now, overdue_notified_at=now)
"""

# Waits for the go file, then runs; `whole` runs the round (lock included), else only the
# claims and mails, so that the conditional UPDATE alone is what keeps mails single.
RACER = """
import os, sys, time, django
django.setup()
from secman.compliance import runner
from django.utils import timezone
go = sys.argv[1]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.005)
if sys.argv[2] == "whole":
    summary = runner.run()
else:
    summary = runner.send_notifications(timezone.now())
print("sent", summary.mails_sent, "failed", summary.mails_failed, flush=True)
"""


@pytest.mark.parametrize("what", ["whole", "claims"])
def test_concurrent_rounds_send_each_mail_once(database_env, smtp, tmp_path, what):
    env = dict(database_env, SECMAN_EMAIL_HOST="127.0.0.1",
               SECMAN_EMAIL_PORT=str(smtp_port(smtp)), SECMAN_EMAIL_FROM="secman@example.org")
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, timeout=180)
    smtp.messages.clear()
    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(go), what], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
              for _ in range(6)]
    for process in racers:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    go.touch()
    sent = 0
    for process in racers:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0
        words = output.split()
        sent += int(words[words.index("sent") + 1])
        assert words[words.index("failed") + 1] == "0"

    subjects = sorted(subject(message) for _, message in smtp.messages)
    assert sent == len(subjects) == 2, subjects
    assert subjects[0].startswith("[secman] Due ") and "SM 4.2.3" in subjects[0]
    assert subjects[1].startswith("[secman] Overdue ") and "SM 4.2.3" in subjects[1]
    assert all(sorted(to) == SYSADMINS for to, _ in smtp.messages)


def smtp_port(inbox) -> int:
    from django.conf import settings

    return settings.EMAIL_PORT


def test_the_loop_stops_on_sigterm(database_env):
    process = subprocess.Popen([secman_command(), "duties", "run", "--every", "1"],
                               env=database_env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "controls evaluated" not in seen and time.monotonic() < deadline:
        seen += process.stderr.readline()
    assert "controls evaluated" in seen, seen
    process.send_signal(signal.SIGTERM)
    # It finishes the round it is in (the first one verifies the whole log): on a loaded
    # machine (CI runs both databases at once) that took longer than 15 s.
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Stopped." in rest


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [secman_command(), "serve", "--port", str(free_port()), "--workers", "2", *args],
        env=dict(env, SECMAN_DUTIES_EVERY="1", SECMAN_LOG_LEVEL="INFO"),
        cwd=ROOT, stderr=subprocess.PIPE, text=True)


def _read_until(process: subprocess.Popen[str], needle: str, seconds: float = 120) -> str:
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline and process.poll() is None:
        seen += process.stderr.readline()
    return seen


def test_serve_runs_the_rounds_in_a_process_of_their_own_and_stops_cleanly(database_env):
    process = _serve(database_env)
    seen = _read_until(process, "Booting worker")
    seen += _read_until(process, "compliance duties: ")
    seen += _read_until(process, "compliance duties: ")  # a second round, a second later
    assert seen.count("compliance duties: ") == 2, seen
    duties = _children(process.pid, "duties")
    assert len(duties) == 1, "one duties process beside the server"
    # And one that signs the Event Log's checkpoints (started by exec, like the duties).
    signer = _children(process.pid, "eventlog scheduler --checkpoints-only")
    assert len(signer) == 1, "one checkpoint process beside the server"
    # The master and its workers hold no database file: nothing crossed a fork.
    for pid in [process.pid, *_children(process.pid, "")]:
        if pid not in duties + signer:
            assert not _database_files(pid, database_env), pid
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "Traceback" not in seen + rest
    assert not Path(f"/proc/{duties[0]}").exists(), "the duties process stopped with the server"
    assert not Path(f"/proc/{signer[0]}").exists(), "the checkpoint process stopped too"


def test_the_duties_process_stops_when_its_server_is_killed(database_env):
    process = _serve(database_env)
    _read_until(process, "compliance duties: ")
    duties = _children(process.pid, "duties")
    assert len(duties) == 1
    signer = _children(process.pid, "eventlog scheduler --checkpoints-only")
    assert len(signer) == 1
    workers = [pid for pid in _children(process.pid, "") if pid not in duties + signer]
    process.kill()  # SIGKILL: no hook runs
    process.wait(10)
    deadline = time.monotonic() + 15
    while (Path(f"/proc/{duties[0]}").exists() or Path(f"/proc/{signer[0]}").exists()) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in workers:  # gunicorn's workers notice the lost master themselves
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    assert not Path(f"/proc/{duties[0]}").exists()
    assert not Path(f"/proc/{signer[0]}").exists(), "the checkpoint process stops by itself"


def _children(pid: int, needle: str) -> list[int]:
    """Process ids whose parent is pid and whose command line contains needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and needle in command:
            found.append(int(entry.name))
    return found


def _database_files(pid: int, env: dict[str, str]) -> list[str]:
    opened = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if "secman.sqlite3" in target:
                opened.append(target)
    return opened


def test_serve_without_duties_runs_no_round(database_env):
    process = _serve(database_env, "--no-duties")
    seen = _read_until(process, "Booting worker")
    time.sleep(3)
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Booting worker" in seen
    assert "compliance duties" not in seen + rest
