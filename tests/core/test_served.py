"""The product as a person meets it: `secman serve --demo` exactly as `make run` starts it
(real gunicorn, two forked workers, the duties round on, here every two seconds), started
five times on the same database. Each start answers 200 requests from four clients at
once, mixing sign-ins, page loads, API calls and form posts, while duties rounds run
beside it: no error, no hang, both workers answering; afterwards the database is intact
and the Event Log verifies. (The review that filed issue 11 saw 10 of 12 sign-ins fail
this way while the in-process tests were green.)"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, secman_command

ROOT = Path(__file__).resolve().parents[2]
STARTS = 5
REQUESTS_PER_START = 200
CLIENTS = 4
PASSWORD = "demo-secman-2026"
# A request that takes longer than this is a hang (sign-ins hash with Argon2: well under).
TIMEOUT = 30

# Pages every demo person may open (sign-in, Today, the chapters' registers).
PAGES = ["/", "/compliance/", "/documents/", "/events/", "/people/lists/",
         "/physical/computers/", "/physical/media/", "/visits/", "/authority/decisions/",
         "/authority/signoffs/"]
APIS = ["/api/me/", "/api/events/?limit=5", "/api/people/?limit=5", "/api/compliance/controls/"]
# Who signs in, per client: two may request visits (the Physical Access List), so their
# form posts write; the others' visit requests are refused (403) and must change nothing.
LOGINS = ["samir", "lena", "ursula", "beatrix"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    def __init__(self, base: str, login: str) -> None:
        self.base, self.login = base, login
        self.http = requests.Session()
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []

    def _call(self, method: str, path: str, expect: tuple[int, ...], **kwargs) -> str:
        try:
            answer = self.http.request(method, self.base + path, timeout=TIMEOUT,
                                       allow_redirects=False, **kwargs)
        except requests.RequestException as exc:  # refused, reset, timed out: a failure
            self.failures.append(f"{method} {path} as {self.login}: {exc!r}")
            return ""
        self.answers[f"{method} {answer.status_code}"] += 1
        if answer.status_code not in expect:
            self.failures.append(f"{method} {path} as {self.login}: {answer.status_code} "
                                 f"{answer.text[:200]!r}")
        return answer.text

    def _token(self, path: str, expect: tuple[int, ...] = (200,)) -> str:
        found = TOKEN.search(self._call("GET", path, expect))
        return found.group(1) if found else ""

    def sign_in(self) -> None:
        self.http.cookies.clear()
        token = self._token("/login/")
        self._call("POST", "/login/", (302,), headers={"Referer": self.base + "/login/"},
                   data={"csrfmiddlewaretoken": token, "username": self.login,
                         "password": PASSWORD})

    def request_visit(self, number: int) -> None:
        # Samir and Lena are on the Physical Access List: their request is recorded (302 to
        # the visit). The others are refused the form and their post (403, the page's own
        # logout form gives the CSRF token), which writes nothing.
        may = self.login in ("samir", "lena")
        token = self._token("/visits/new/", (200,) if may else (403,))
        expect = (302,) if may else (403,)
        self._call("POST", "/visits/new/", expect,
                   headers={"Referer": self.base + "/visits/new/"},
                   data={"csrfmiddlewaretoken": token, "purpose": f"served test {number}",
                         "systems": "the signing server",
                         "window_start": "2027-01-04 09:00", "window_end": "2027-01-04 12:00",
                         "logical_access": "on"})

    def run(self, count: int) -> None:
        done = 0
        while done < count:
            step = done % 10
            if step == 0:
                self.sign_in()
                done += 2
            elif step == 5:
                self.request_visit(done)
                done += 2
            elif step in (3, 8):
                self._call("GET", APIS[done % len(APIS)], (200,))
                done += 1
            else:
                self._call("GET", PAGES[done % len(PAGES)], (200,))
                done += 1


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(base + "/login/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    pytest.fail(f"secman serve did not answer within 240 s:\n{log.read_text()}")


def _wait_for(log: Path, needle: str, after: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while needle not in log.read_text()[after:] and time.monotonic() < deadline:
        time.sleep(0.2)


def test_it_serves_every_request_through_restarts_while_duties_run(database_env, tmp_path):
    env = dict(database_env, SECMAN_DUTIES_EVERY="2", SECMAN_LOG_LEVEL="INFO")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    for start in range(STARTS):
        offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as output:
            process = subprocess.Popen(
                [secman_command(), "serve", "--demo", "--port", str(port), "--workers", "2"],
                env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(base, process, log)
            _wait_for(log, "compliance duties: ", offset)  # the rounds are running
            clients = [Client(base, login) for login in LOGINS]
            threads = [threading.Thread(target=client.run,
                                        args=(REQUESTS_PER_START // CLIENTS,))
                       for client in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
            assert not any(thread.is_alive() for thread in threads), "a client hung"
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        text = log.read_text()[offset:]
        failures = [failure for client in clients for failure in client.failures]
        answered = sum(sum(client.answers.values()) for client in clients)
        assert not failures, f"start {start + 1}: {failures[:10]}\n{text[-3000:]}"
        assert answered >= REQUESTS_PER_START, (start, answered)
        assert process.returncode == 0, text[-3000:]
        # Both workers answered (gunicorn's access line ends with the worker's pid).
        workers = set(re.findall(r'" <(\d+)>$', text, re.MULTILINE))
        assert len(workers) == 2, workers
        assert "compliance duties: " in text
        for bad in ("Traceback", "disk I/O error", "malformed", "not a database",
                    "WORKER TIMEOUT"):
            assert bad not in text, f"start {start + 1}: {bad}\n{text[-3000:]}"

    if "DATABASE_URL" not in env:
        database = sqlite3.connect(Path(env["SECMAN_DATA_DIR"]) / "secman.sqlite3")
        try:
            assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            database.close()
    verified = subprocess.run([secman_command(), "eventlog", "verify"], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "intact" in (verified.stdout + verified.stderr).lower()
