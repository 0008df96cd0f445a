"""git, driven as a program: secman reads a repository (a local path, or a URL it keeps a
mirror of under the data directory) and never writes to it. Commit signatures are
verified by git with GnuPG (`%G?`, as `git verify-commit` does), against the public keys
in SECMAN_BACKUP_GNUPGHOME (GnuPG's default home when empty)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SHA_RE = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
# A revision as people give one: a name, a hash, HEAD~2; nothing git would read as an
# option.
REV_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,199}$")
SIGNATURE = {"G": "good", "B": "bad", "U": "good, untrusted key", "X": "good, expired",
             "Y": "good, expired key", "R": "good, revoked key", "E": "cannot be checked",
             "N": "unsigned"}


class GitError(RuntimeError):
    """git could not answer; the message says why."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str
    subject: str
    signature: str  # a key of SIGNATURE
    signer: str

    def as_dict(self) -> dict[str, str]:
        return {"sha": self.sha, "author": self.author, "email": self.email,
                "date": self.date, "subject": self.subject, "signature": self.signature,
                "signer": self.signer}


def _run(path: Path, *args: str) -> str:
    # git with arguments secman checked (revisions match REV_RE, paths are its own); no
    # shell, no pager, no prompt for credentials.
    command = ["git", "-C", str(path), "-c", "core.pager=cat", *args]
    env = {"PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C.UTF-8",
           "HOME": str(settings.DATA_DIR)}
    if settings.BACKUP_GNUPGHOME:  # the keyring with the developers' public keys
        env["GNUPGHOME"] = settings.BACKUP_GNUPGHOME
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                              timeout=120, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed: install Debian's git") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than two minutes") from None
    if done.returncode != 0:
        raise GitError(f"git {args[0]}: {done.stderr.strip()[-300:] or 'failed'}")
    return done.stdout


def local_path(location: str) -> Path:
    """Where secman reads the repository: the path itself, or its mirror for a URL."""
    path = Path(location)
    if path.is_absolute() and path.exists():
        return path
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return Path(settings.DATA_DIR) / "repositories" / f"{digest}.git"


def refresh(location: str) -> Path:
    """Make the mirror of a URL, or fetch it again; a local path is read as it is."""
    path = local_path(location)
    if path == Path(location):
        _run(path, "rev-parse", "--git-dir")
        return path
    if location.startswith("-"):
        raise GitError("a repository location does not start with '-'")
    if path.exists():
        _run(path, "fetch", "--prune", "--quiet")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        _run(path.parent, "clone", "--mirror", "--quiet", "--", location, str(path))
    return path


def resolve(path: Path, rev: str) -> str:
    if not REV_RE.match(rev):
        raise GitError(f"{rev[:60]!r} is not a revision")
    return _run(path, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()


def commits(path: Path, base: str, head: str) -> list[Commit]:
    """The commits in base..head, oldest first, with their signature as git checks it."""
    out = _run(path, "log", "--reverse", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%G?%x1f%GK%x1e",
               f"{base}..{head}")
    found = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 7:
            found.append(Commit(*fields))
    return found


def rev_list(path: Path, head: str, exclude: list[str]) -> list[str]:
    return _run(path, "rev-list", head, *[f"^{sha}" for sha in exclude]).split()


def is_ancestor(path: Path, ancestor: str, descendant: str) -> bool:
    try:
        _run(path, "merge-base", "--is-ancestor", ancestor, descendant)
    except GitError:
        return False
    return True


def shortstat(path: Path, base: str, head: str) -> str:
    return _run(path, "diff", "--shortstat", base, head).strip()
