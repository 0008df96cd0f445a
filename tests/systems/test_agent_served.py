"""The host agent for real: secman served (SQLite and PostgreSQL), a token issued with
the command line, the agent script run as a process on this machine, its report stored
and the drift findings this machine should show, computed from what `ss` and `lsblk`
show here now. Then hostile reports over HTTP: refused with the status that says why,
nothing stored, and the tokens nowhere in the server's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from secman.systems import drift
from secman.systems.agent.secman_agent import block_devices, listening_sockets
from tests.conftest import ROOT, free_port, secman_command, serving

AGENT = ROOT / "secman" / "systems" / "agent" / "secman_agent.py"


def shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run([secman_command(), "shell", "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # The last line: what the code printed (a warning may come before it).
    return (done.stdout.strip().splitlines() or [""])[-1]


def exposed_ports() -> set[tuple[str, int]]:
    return {(protocol, port) for protocol, port, *_ in drift.exposed(listening_sockets())}


SETUP = """
from secman.systems.models import System
for name in ("web", "db"):
    System.objects.create(name=name, kind="vm")
web = System.objects.get(name="web")
web.flows.create(direction="ingress", protocol="tcp", port={unused}, status="approved",
                 service="documented-but-silent")
{documented}
from secman.systems import agents
print(agents.issue_token(actor=None, system=System.objects.get(name="db"),
                         authority="SP 3.2.2"))
"""

FINDINGS = """
import json
from secman.systems import drift
from secman.systems.models import AgentReport
from secman.eventlog.models import Event
print(json.dumps({"reports": AgentReport.objects.count(),
                  "findings": [f.subject for d in drift.evaluate() for f in d.findings],
                  "events": list(Event.objects.values_list("details", flat=True))}))
"""


def run_agent(base: str, token_file: Path, system: str = "web") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(AGENT), "--server", base, "--system", system,
                           "--token-file", str(token_file)],
                          capture_output=True, text=True, timeout=300)


def test_the_agent_reports_this_machine_and_hostile_reports_are_refused(database_env,
                                                                      tmp_path):
    env = database_env
    before = exposed_ports()
    # One port listening here is documented (when there is one), one documented port
    # is not listening (a free port, just checked).
    documented = sorted(before)[0] if before else None
    unused = free_port()
    other = shell(env, SETUP.format(unused=unused, documented=(
        f"web.flows.create(direction='ingress', protocol='{documented[0]}', "
        f"port={documented[1]}, status='approved')" if documented else "")))
    # As an administrator installs a system: the token printed once by the command line.
    token = subprocess.run([secman_command(), "systems", "agent-token", "web"], env=env,
                           cwd=ROOT, capture_output=True, text=True, check=True,
                           timeout=120).stdout.strip()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    log = tmp_path / "serve.log"
    with serving(env, "--no-duties", log=log) as base:
        agent = run_agent(base, token_file)
        assert agent.returncode == 0, agent.stderr
        assert "report stored" in agent.stdout
        after = exposed_ports()
        stored = json.loads(shell(env, FINDINGS))
        assert stored["reports"] == 1
        findings = set(stored["findings"])
        # What this machine shows now: every port listening beyond loopback during the
        # whole run is a finding unless documented; the documented silent one is one.
        for protocol, port in (before & after) - {documented}:
            assert f"agent.port_undocumented:web:{port}/{protocol}" in findings
        if documented:
            assert f"agent.port_undocumented:web:{documented[1]}/{documented[0]}" \
                not in findings
        assert f"agent.port_not_listening:web:{unused}/tcp" in findings
        encryption = drift.encryption_of(block_devices())
        assert ("agent.encryption:web" in findings) == (encryption == "disabled")

        url = f"{base}/api/agent/reports/"
        report = json.dumps({"agent_version": "1", "system": "web",
                             "collected_at": "2026-12-03T10:00:00+00:00"}).encode()
        cases = [
            ("wrong token", "sma_" + "x" * 43, report, 401),
            ("another system's token", other, report, 403),
            ("forged system name", token, report.replace(b'"web"', b'"db"'), 403),
            ("oversized", token, b" " * (1024 * 1024 + 1), 413),
            ("malformed JSON", token, b'{"system": ', 400),
            ("invalid UTF-8", token, b'{"system": "\xff"}', 400),
            ("deeply nested", token, b"[" * 100000 + b"]" * 100000, 400),
        ]
        for case, credential, body, status in cases:
            answer = requests.post(url, data=body, timeout=30, headers={
                "Authorization": f"Bearer {credential}",
                "Content-Type": "application/json"})
            assert answer.status_code == status, (case, answer.text)
            assert answer.json()["detail"], case
            assert token not in answer.text and other not in answer.text, case
        # The agent refuses to send a token over plain http to another host, and a
        # token file others can read.
        refused = run_agent("http://192.0.2.1:8000", token_file)
        assert refused.returncode == 3 and "use https" in refused.stderr
        token_file.chmod(0o644)
        refused = run_agent(base, token_file)
        assert refused.returncode == 3 and "readable by others" in refused.stderr
        token_file.chmod(0o600)
        # Revoked: the agent's next report is refused with the reason.
        subprocess.run([secman_command(), "systems", "agent-revoke", "web"], env=env,
                       cwd=ROOT, check=True, capture_output=True, timeout=120)
        refused = run_agent(base, token_file)
        assert refused.returncode == 5 and "revoked" in refused.stderr
        final = json.loads(shell(env, FINDINGS))
        assert final["reports"] == 1
    output = log.read_text()
    assert "/api/agent/reports/" in output  # the access log was written...
    assert token not in output and other not in output  # ...without the tokens
    events = json.dumps(final["events"])
    assert token not in events and other not in events and token[:12] in events
