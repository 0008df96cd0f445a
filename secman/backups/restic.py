"""Checking an operational backup with restic itself (Debian's `restic`): its own check
of the repository, reading a subset of the data, then a sample of files restored to a
scratch directory and compared, by SHA-256, with the snapshot's content as `restic dump`
reads it. No database here: services.run_check records the result.

The repository's password is read by restic from the job's password file; it never
passes through secman, a command line or a log."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secman.files import sha256_of

# A check gives up on a repository that does not answer in this time.
TIMEOUT_SECONDS = 3600


class ResticError(RuntimeError):
    """restic refused or found a problem; the message says which step and what restic
    said."""


@dataclass
class CheckResult:
    ok: bool
    snapshot_id: str = ""
    snapshot_time: str = ""
    files: int = 0
    bytes: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)
    read_subset: str = ""
    seconds: float = 0.0
    problem: str = ""


def _restic(repository: str, password_file: str, *args: str,
            stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
    env.update(RESTIC_REPOSITORY=repository, RESTIC_PASSWORD_FILE=password_file)
    try:
        # restic with the job's repository and secman's own arguments; no shell.
        return subprocess.run(["restic", "--no-cache", *args],  # noqa: S603, S607
                              env=env, stdout=stdout, stderr=subprocess.PIPE,
                              timeout=TIMEOUT_SECONDS, check=False)
    except FileNotFoundError:
        raise ResticError("restic is not installed (Debian's restic package)") from None
    except subprocess.TimeoutExpired:
        raise ResticError(f"restic {args[0]} did not finish within {TIMEOUT_SECONDS} s") \
            from None


def _said(done: subprocess.CompletedProcess) -> str:
    text = done.stderr.decode("utf-8", "replace").strip()
    if not text and isinstance(done.stdout, bytes):
        text = done.stdout.decode("utf-8", "replace").strip()
    return " ".join(text.split())[-600:] or f"exit status {done.returncode}"


def _ok(done: subprocess.CompletedProcess, step: str) -> subprocess.CompletedProcess:
    if done.returncode != 0:
        raise ResticError(f"{step}: {_said(done)}")
    return done


def check(repository: str, password_file: str, *, sample_size: int = 5,
          read_subset: str = "10%", rng: random.Random | None = None) -> CheckResult:
    """restic check --read-data-subset, then `sample_size` files of the newest snapshot
    restored and compared. Never raises for what it finds: a problem is the result."""
    started = time.monotonic()
    result = CheckResult(ok=False, read_subset=read_subset)
    try:
        _check(repository, password_file, result, sample_size, read_subset,
               rng or random.SystemRandom())
        result.ok = True
    except ResticError as exc:
        result.problem = str(exc)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _check(repository: str, password_file: str, result: CheckResult, sample_size: int,
           read_subset: str, rng: random.Random) -> None:
    if not Path(password_file).is_file():
        raise ResticError(f"the repository's password file {password_file} is not there "
                          "(or not readable by secman)")
    snapshots = json.loads(_ok(_restic(repository, password_file, "snapshots", "--json",
                                       "--latest", "1"), "listing the snapshots").stdout
                           or b"[]")
    if not snapshots:
        raise ResticError("the repository has no snapshot")
    newest = max(snapshots, key=lambda s: s["time"])
    result.snapshot_id, result.snapshot_time = newest["id"], newest["time"]
    _ok(_restic(repository, password_file, "check", f"--read-data-subset={read_subset}"),
        "restic check")
    listing = _ok(_restic(repository, password_file, "ls", "--json", newest["id"]),
                  "listing the snapshot's files").stdout.decode("utf-8", "replace")
    files = []
    for line in listing.splitlines():
        node = json.loads(line)
        if node.get("struct_type") == "node" and node.get("type") == "file":
            files.append((node["path"], int(node.get("size") or 0)))
    result.files, result.bytes = len(files), sum(size for _, size in files)
    if not files:
        raise ResticError(f"snapshot {newest['short_id']} holds no file")
    chosen = sorted(rng.sample(files, min(sample_size, len(files))))
    with tempfile.TemporaryDirectory(prefix="secman-restic-") as scratch:
        includes = [arg for path, _ in chosen for arg in ("--include", path)]
        _ok(_restic(repository, password_file, "restore", newest["id"], "--target", scratch,
                    *includes), "restoring the sample")
        for path, size in chosen:
            restored = Path(scratch) / path.lstrip("/")
            if not restored.is_file():
                raise ResticError(f"{path} was not restored")
            restored_hash = sha256_of(restored)
            dumped = _ok(_restic(repository, password_file, "dump", newest["id"], path),
                         f"reading {path} from the snapshot").stdout
            entry = {"path": path, "size": size, "sha256": restored_hash}
            result.sample.append(entry)
            if hashlib.sha256(dumped).hexdigest() != restored_hash or \
                    restored.stat().st_size != size:
                raise ResticError(f"{path} restored is not the snapshot's content (SHA-256 "
                                  f"{restored_hash[:16]}..., size {restored.stat().st_size} "
                                  f"of {size})")
