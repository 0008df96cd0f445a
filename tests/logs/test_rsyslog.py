"""A real rsyslogd, unprivileged on a high port, receives RFC 5424 and RFC 3164 messages
over TCP (and from `logger`) and writes them to the spool with the configuration
docs/logs.md ships; `secman logs ingest` stores them. A killed ingest loses nothing and
stores nothing twice."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from secman.logs import ingest, tree
from secman.logs.models import Anomaly, Message
from tests.conftest import ROOT, database_environment, free_port, secman_command
from tests.logs.support import line

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
needs_rsyslog = pytest.mark.skipif(
    not Path(RSYSLOGD).exists() and not os.environ.get("SECMAN_CI"),
    reason="rsyslog is not installed (bin/debian-packages installs it)")


def server_config(port: int, spool: Path, work: Path) -> str:
    """docs/logs.md's server configuration, with this test's port and directories."""
    text = (ROOT / "docs" / "rsyslog" / "secman-server.conf").read_text()
    return (text.replace('port="6514"', f'port="{port}"').replace("/var/spool/secman", str(spool))
            .replace('workDirectory="/var/lib/rsyslog"', f'workDirectory="{work}"'))


@pytest.fixture
def rsyslogd(tmp_path):
    spool, work = tmp_path / "spool", tmp_path / "work"
    spool.mkdir()
    work.mkdir()
    port = free_port()
    config = tmp_path / "rsyslog.conf"
    config.write_text(server_config(port, spool, work))
    process = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i", str(tmp_path / "pid")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "rsyslogd did not listen"
            time.sleep(0.1)
    yield port, spool
    process.send_signal(signal.SIGTERM)
    process.wait(20)


def spooled(spool: Path, count: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while sum(p.read_bytes().count(b"\n") for p in spool.glob("*.jsonl")) < count:
        assert time.monotonic() < deadline, "rsyslog did not write the messages"
        time.sleep(0.05)


@needs_rsyslog
@pytest.mark.django_db
def test_rsyslog_hands_over_both_formats_and_a_brute_force_mails_once(org, smtp, settings,
                                                                       rsyslogd):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@ca.example.org"
    port, spool = rsyslogd
    frames = [f"<38>1 2026-12-04T10:00:{n:02d}Z web1.example.org sshd 812 - - Failed password "
              f"for root from 203.0.113.9 port {4000 + n} ssh2" for n in range(12)]
    frames.append("<86>Dec  4 10:01:00 signer sudo:      bob : 3 incorrect password "
                  "attempts ; TTY=pts/0 ; USER=root ; COMMAND=/bin/sh")
    frames.append("<4>Dec  4 10:01:01 fw1 kernel: secman-drop-in IN=eth0 SRC=198.51.100.4 "
                  "DST=10.0.0.1 PROTO=TCP DPT=23")
    with socket.create_connection(("127.0.0.1", port)) as sender:
        sender.sendall("".join(f + "\n" for f in frames).encode())
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), "-T", "-t", "cron",
                    "logger over TCP"], check=True)
    spooled(spool, 15)
    assert ingest.read_spool(spool) == 15
    by_program = {m.program: m for m in Message.objects.all()}
    assert by_program["sshd"].host == "web1.example.org"
    assert by_program["sshd"].log_class == "login"
    assert by_program["sudo"].host == "signer" and by_program["sudo"].facility == 10
    assert by_program["sudo"].text.lstrip().startswith("bob : 3 incorrect")
    assert by_program["kernel"].log_class == "anomalous_traffic"
    assert by_program["cron"].text == "logger over TCP"
    checkpoint = tree.checkpoint_now()
    assert checkpoint.tree_size == 15 and tree.verify().ok
    rules = sorted(Anomaly.objects.values_list("rule__name", flat=True))
    assert rules == ["firewall_unexpected_traffic", "ssh_brute_force", "sudo_failure"]
    assert len(smtp.messages) == 1  # the batch's new anomalies in one mail
    assert "3 new anomalies" in smtp.messages[0][1]["Subject"]
    assert ingest.read_spool(spool) == 0  # read to the end: nothing twice


@needs_rsyslog
def test_a_killed_ingest_loses_nothing_and_stores_nothing_twice(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    total = 40_000
    (spool / "20261204-10.jsonl").write_bytes(b"".join(
        line(f"message {n}", program="app", facility=16) for n in range(total)))
    (tmp_path / "data").mkdir()
    with database_environment("sqlite", tmp_path / "data") as env:
        command = [secman_command(), "logs", "ingest", str(spool), "--batch", "500",
                   "--quiet"]
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        count = [secman_command(), "shell", "--no-imports", "-c",
                 "from secman.logs.models import Message; print(Message.objects.count())"]
        deadline = time.monotonic() + 120
        while int(subprocess.run(count, env=env, cwd=ROOT, capture_output=True, text=True)
                  .stdout.strip() or 0) < 2000:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        stored = int(subprocess.run(count, env=env, cwd=ROOT, capture_output=True,
                                    text=True).stdout)
        assert 0 < stored < total, "the kill came after the end: make the spool longer"
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        check = ("from secman.logs.models import Message; from django.db.models import Max; "
                 "print(Message.objects.count(), Message.objects.aggregate(m=Max('seq'))['m'],"
                 " Message.objects.values('text').distinct().count())")
        result = subprocess.run([secman_command(), "shell", "--no-imports", "-c", check],
                                env=env, cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split()
        assert result == [str(total), str(total - 1), str(total)]
        verified = subprocess.run([secman_command(), "logs", "verify", "--checkpoint"],
                                  env=env, cwd=ROOT, capture_output=True, text=True)
        assert verified.returncode == 0, verified.stderr


@needs_rsyslog
def test_secman_serve_stores_what_rsyslog_writes(tmp_path):
    """As a person runs it: `secman serve` with SECMAN_LOGS_SPOOL, a real rsyslogd writing
    the spool, and the messages stored and searchable within seconds."""
    from tests.conftest import serving

    spool, work = tmp_path / "spool", tmp_path / "work"
    spool.mkdir()
    work.mkdir()
    (tmp_path / "data").mkdir()
    port = free_port()
    config = tmp_path / "rsyslog.conf"
    config.write_text(server_config(port, spool, work))
    rsyslog = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i",
                                str(tmp_path / "pid")])
    try:
        with database_environment("sqlite", tmp_path / "data") as env:
            env["SECMAN_LOGS_SPOOL"] = str(spool)
            with serving(env, "--no-duties", log=tmp_path / "serve.log"):
                deadline = time.monotonic() + 20
                while True:
                    try:
                        with socket.create_connection(("127.0.0.1", port)) as sender:
                            sender.sendall(b"".join(
                                f"<38>1 2026-12-04T10:00:0{n}Z hop sshd 1 - - Failed password "
                                f"for root from 192.0.2.{n} port 22 ssh2\n".encode()
                                for n in range(3)))
                        break
                    except OSError:
                        assert time.monotonic() < deadline, "rsyslogd did not listen"
                        time.sleep(0.1)
                search = [secman_command(), "logs", "search", "--host", "hop", "--json"]
                while True:
                    found = subprocess.run(search, env=env, cwd=ROOT, capture_output=True,
                                           text=True)
                    if found.returncode == 0 and found.stdout.count('"program": "sshd"') == 3:
                        break
                    assert time.monotonic() < deadline + 40, found.stdout + found.stderr
                    time.sleep(0.5)
    finally:
        rsyslog.send_signal(signal.SIGTERM)
        rsyslog.wait(20)
