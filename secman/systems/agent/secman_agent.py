#!/usr/bin/env python3
"""secman-agent: tell secman what this machine really does (SP/SM 3.1, 3.2, 4.1.3).

Run it as root from cron or a systemd timer (docs/agent.md has both). Each run it
collects facts, builds ONE JSON report and posts it to secman over HTTPS with this
system's token. secman keeps every report and compares it with the systems register:
ports listening that are not documented, a firewall ruleset that is not the generated
one, disk encryption off, security updates left pending, configuration changed without
a recorded change.

What it reads (nothing else):
  /etc/os-release, installed packages (dpkg-query), pending security updates
  (apt-get -s upgrade: a simulation, it installs nothing), listening sockets
  (ss -H -lntup), the nftables ruleset (nft -j list ruleset), the effective sshd
  configuration (sshd -T), /etc/sudoers and /etc/sudoers.d/*, accounts with a login
  shell (/etc/passwd, never /etc/shadow), fingerprints of authorized_keys (ssh-keygen
  -lf: never the keys themselves, never any private key), block devices and their
  encryption (lsblk).
A tool that is missing or fails is reported as such in "unavailable"; the run goes on.

It uses the Python standard library only, so it runs on any Debian with python3 and
nothing installed from elsewhere.

Exit codes:
  0  the report was stored (or printed, with --dry-run)
  2  wrong command line (argparse)
  3  refused to send: the token file is unsafe or unreadable, or the URL is not HTTPS
     (plain http only to a loopback address, for tests)
  4  secman could not be reached (network, TLS certificate, timeout)
  5  secman refused the report (4xx): its message is printed
  6  secman failed (5xx)
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

AGENT_VERSION = "1"
REPORT_PATH = "/api/agent/reports/"
# Each tool gets this long; a hung `apt-get` must not keep cron's next run waiting.
TOOL_TIMEOUT = 120
# Shells that do not let anyone log in: accounts using them are not reported.
NO_LOGIN_SHELLS = {"nologin", "false", "sync", "halt", "shutdown", ""}

EXIT_OK, EXIT_USAGE, EXIT_UNSAFE, EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_SERVER = 0, 2, 3, 4, 5, 6


class Unavailable(Exception):
    """A fact could not be collected: the tool is missing, failed or timed out."""


# --- running the tools -------------------------------------------------------------------


def run(*command: str) -> str:
    """The output of a command, or Unavailable saying why not. Runs with a plain C
    locale so that the output parsed below looks the same on every machine."""
    if shutil.which(command[0]) is None:
        raise Unavailable(f"{command[0]}: not installed")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"}
    try:
        # The commands are the fixed ones of this file, never from input.
        done = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                              timeout=TOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{command[0]}: no answer in {TOOL_TIMEOUT} s") from None
    except OSError as exc:
        raise Unavailable(f"{command[0]}: {exc.strerror}") from None
    if done.returncode != 0:
        first_line = (done.stderr.strip().splitlines() or ["(no message)"])[0]
        raise Unavailable(f"{command[0]} exited {done.returncode}: {first_line[:200]}")
    return done.stdout


# --- the facts, one function each -----------------------------------------------------------


def os_release() -> dict[str, str]:
    """/etc/os-release as a dictionary (ID, VERSION_ID, VERSION_CODENAME, ...)."""
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError as exc:
        raise Unavailable(f"/etc/os-release: {exc.strerror}") from None
    facts = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            facts[key.strip()] = value.strip().strip('"')
    return facts


def installed_packages() -> list[list[str]]:
    """[name, version] of each installed package."""
    out = run("dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n")
    packages = []
    for line in out.splitlines():
        name, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if status.startswith("ii"):
            packages.append([name, version])
    return packages


# Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
INST_LINE = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^\[]*)\[")


def security_updates() -> list[dict[str, str]]:
    """Packages an upgrade would replace from a "-security" archive. Only what is pending
    now: when each was first seen is kept by secman, from the history of reports."""
    out = run("apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade")
    updates = []
    for line in out.splitlines():
        match = INST_LINE.match(line)
        if match and "-security" in match.group(4).lower():
            updates.append({"package": match.group(1), "installed": match.group(2) or "",
                            "available": match.group(3), "origin": match.group(4).strip()})
    return updates


def listening_sockets() -> list[dict[str, Any]]:
    """Every TCP and UDP socket waiting for traffic: protocol, address, port, process."""
    out = run("ss", "-H", "-lntup")
    sockets = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        address, _, port = fields[4].rpartition(":")
        if not port.isdigit():
            continue
        process = re.search(r'users:\(\("([^"]+)"', line)
        sockets.append({"protocol": fields[0], "address": address.strip("[]"),
                        "port": int(port), "process": process.group(1) if process else ""})
    return sockets


def nft_ruleset() -> Any:
    """The ruleset nftables enforces now, in its own JSON form."""
    return json.loads(run("nft", "-j", "list", "ruleset"))


def sshd_settings() -> dict[str, str]:
    """The effective sshd configuration (`sshd -T`: every option after defaults and
    includes). An option given several times (hostkey, listenaddress) is joined by ", "."""
    settings: dict[str, list[str]] = {}
    for line in run("sshd", "-T").splitlines():
        key, _, value = line.partition(" ")
        if key:
            settings.setdefault(key, []).append(value)
    return {key: ", ".join(values) for key, values in sorted(settings.items())}


def sudoers() -> list[dict[str, str]]:
    """/etc/sudoers and each file of /etc/sudoers.d, with its contents."""
    paths = [Path("/etc/sudoers")]
    included = Path("/etc/sudoers.d")
    if included.is_dir():
        paths += sorted(p for p in included.iterdir() if p.is_file())
    files = []
    for path in paths:
        try:
            files.append({"path": str(path),
                          "content": path.read_text(encoding="utf-8", errors="replace")})
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise Unavailable(f"{path}: {exc.strerror}") from None
    return files


def login_accounts() -> list[dict[str, Any]]:
    """Accounts whose shell lets them log in (/etc/passwd; no password field)."""
    accounts = []
    try:
        lines = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise Unavailable(f"/etc/passwd: {exc.strerror}") from None
    for line in lines:
        fields = line.split(":")
        if len(fields) != 7 or os.path.basename(fields[6]) in NO_LOGIN_SHELLS:
            continue
        accounts.append({"user": fields[0], "uid": int(fields[2]) if fields[2].isdigit()
                         else -1, "home": fields[5], "shell": fields[6]})
    return accounts


def authorized_keys(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fingerprint of each key that may log in to an account with a login shell.
    `ssh-keygen -lf` prints "bits SHA256:... comment (TYPE)" per key: only that is sent,
    never the key itself, and no private key is read."""
    if shutil.which("ssh-keygen") is None:
        raise Unavailable("ssh-keygen: not installed")
    found = []
    for account in accounts:
        for name in ("authorized_keys", "authorized_keys2"):
            path = Path(account["home"]) / ".ssh" / name
            if not path.is_file():
                continue
            try:
                out = run("ssh-keygen", "-lf", str(path))
            except Unavailable as exc:
                found.append({"user": account["user"], "path": str(path), "error": str(exc)})
                continue
            for line in out.splitlines():
                bits, _, rest = line.partition(" ")
                fingerprint, _, rest = rest.partition(" ")
                comment, _, key_type = rest.rpartition(" ")
                found.append({"user": account["user"], "path": str(path), "bits": bits,
                              "fingerprint": fingerprint, "type": key_type.strip("()"),
                              "comment": comment})
    return found


def block_devices() -> Any:
    """Block devices as a tree; secman reads from it whether the file systems sit on an
    encrypted (dm-crypt, LUKS) device (SP 3.2.1)."""
    return json.loads(run("lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"))


def collect(system: str) -> dict[str, Any]:
    """The whole report. Each fact that cannot be collected is named in "unavailable"
    with the reason, and left out."""
    report: dict[str, Any] = {
        "agent_version": AGENT_VERSION, "system": system, "hostname": socket.gethostname(),
        "collected_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "unavailable": {},
    }
    collectors = {
        "os_release": os_release, "packages": installed_packages,
        "security_updates": security_updates, "listening": listening_sockets,
        "ruleset": nft_ruleset, "sshd": sshd_settings, "sudoers": sudoers,
        "accounts": login_accounts, "block_devices": block_devices,
    }
    for name, collector in collectors.items():
        try:
            report[name] = collector()
        except (Unavailable, ValueError) as exc:  # ValueError: JSON a tool garbled
            report["unavailable"][name] = str(exc)
    try:
        report["authorized_keys"] = authorized_keys(report.get("accounts", []))
    except Unavailable as exc:
        report["unavailable"]["authorized_keys"] = str(exc)
    return report


# --- sending -----------------------------------------------------------------------------


class Refusal(Exception):
    """The agent will not send: a token file others can read, a URL that is not HTTPS."""


def read_token(path: str) -> str:
    """The token, from a file only its owner may read: a token others can read is a
    token others can use (like ssh with private keys)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise Refusal(f"token file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise Refusal(f"token file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise Refusal(f"token file {path} is readable by others (mode "
                      f"{stat.S_IMODE(info.st_mode):04o}): chmod 600 {path}")
    if info.st_uid not in (0, os.geteuid()):
        raise Refusal(f"token file {path} belongs to another user (uid {info.st_uid})")
    token = Path(path).read_text(encoding="ascii", errors="replace").strip()
    if not token or not re.fullmatch(r"[A-Za-z0-9_\-]+", token):
        raise Refusal(f"token file {path} holds no token (one line, as secman showed it)")
    return token


def report_url(server: str) -> str:
    """Where the report goes. HTTPS only; plain http only to this machine itself (a test
    server on loopback), since the token travels in the request."""
    parts = urllib.parse.urlsplit(server)
    host = parts.hostname or ""
    if parts.scheme == "http":
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise Refusal(f"{server}: use https (plain http only to a loopback address)")
    elif parts.scheme != "https" or not host:
        raise Refusal(f"{server}: not an https URL")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, REPORT_PATH, "", ""))


class NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would repeat the request, Authorization header included, wherever a redirect
    # points (even plain http): the token goes to secman's own URL or nowhere.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def send(url: str, token: str, body: bytes, ca_file: str | None) -> tuple[int, str]:
    """POST the report; the status and secman's message."""
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(NoRedirects, urllib.request.HTTPSHandler(
        context=context))
    # report_url() allowed https, or http to loopback only.
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "User-Agent": f"secman-agent/{AGENT_VERSION}"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096).decode("utf-8", "replace")


def message_of(answer: str) -> str:
    try:
        return str(json.loads(answer).get("detail", answer))
    except (ValueError, AttributeError):
        return answer.strip()[:500]


# --- the command line ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="secman-agent", description="Report this system's facts to secman "
        "(listening ports, firewall ruleset, sshd, sudoers, accounts, authorized_keys "
        "fingerprints, packages and security updates, disk encryption).",
        epilog="Exit codes: 0 stored (or printed), 2 wrong command line, 3 refused to "
        "send (unsafe token file, not https), 4 secman unreachable, 5 secman refused the "
        "report, 6 secman failed.")
    parser.add_argument("--server", help="secman's base URL, https://secman.example.org")
    parser.add_argument("--token-file", default="/etc/secman-agent/token",
                        help="file holding this system's token, mode 600 "
                        "(default: %(default)s)")
    parser.add_argument("--system", default=socket.gethostname().split(".")[0],
                        help="this system's name in the register (default: the short "
                        "host name, %(default)s)")
    parser.add_argument("--ca-file", help="CA certificate(s) to check secman's "
                        "certificate with, instead of the system's trust store")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the report as JSON and send nothing")
    args = parser.parse_args(argv)

    if not args.dry_run:
        # Checked before collecting anything: a run that will not send stops at once.
        if not args.server:
            parser.error("--server is required (or use --dry-run)")
        try:
            url = report_url(args.server)
            token = read_token(args.token_file)
        except Refusal as exc:
            print(f"secman-agent: {exc}", file=sys.stderr)
            return EXIT_UNSAFE
    report = collect(args.system)
    body = json.dumps(report, sort_keys=True, indent=1).encode("utf-8")
    if args.dry_run:
        sys.stdout.write(body.decode("utf-8") + "\n")
        return EXIT_OK
    try:
        status, answer = send(url, token, body, args.ca_file)
    except (urllib.error.URLError, OSError) as exc:
        print(f"secman-agent: cannot reach {url}: {getattr(exc, 'reason', exc)}",
              file=sys.stderr)
        return EXIT_UNREACHABLE
    if status == 201:
        print(f"secman-agent: report stored ({len(body)} bytes, "
              f"{len(report['unavailable'])} facts unavailable)")
        return EXIT_OK
    print(f"secman-agent: secman answered {status}: {message_of(answer)}", file=sys.stderr)
    return EXIT_REFUSED if 400 <= status < 500 else EXIT_SERVER


if __name__ == "__main__":
    sys.exit(main())
