"""How an action reached secman: through the web pages, the API, or the command line.

The acting person of a command-line action is whoever `--as LOGIN` names, and nothing
checks that it is them typing: the command runs with the server's database, so whoever
can run it is the server's operator. What secman can say honestly is that the action came
through the command line, and which operating-system user ran it. The channel is set
once per request (core.middleware) or per command (secman.cli) and read by the Event Log
when it appends an entry (eventlog.services.Entry) and by the sign-off service, which
refuses one operating-system user filling two slots of one request from the command line
(authority.services.sign).

A context variable, not a parameter of every service: the services are the same for
every channel, and a channel that forgot to pass it would silently look like another.
Standard library only; no app imports (core is the bottom layer).
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

WEB = "web"
API = "api"
CLI = "cli"
DEMO = "demo"  # the fictional organisation `secman demo` loads (secman.demo)


@dataclass(frozen=True)
class Channel:
    name: str  # WEB, API, CLI or DEMO
    os_user: str = ""  # for CLI and DEMO: the operating-system user who ran the command

    def as_details(self) -> dict[str, str]:
        """What an Event Log entry carries under details["via"]."""
        if self.os_user:
            return {"channel": self.name, "os_user": self.os_user}
        return {"channel": self.name}


def os_user() -> str:
    """The operating-system user running this process: the login name, or the numeric uid
    when it has none (a container's user without a passwd entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # getpass falls back to the password database, which may not know the uid.
        return f"uid {os.getuid()}"


def command_line() -> Channel:
    return Channel(CLI, os_user())


_current: ContextVar[Channel | None] = ContextVar("secman_channel", default=None)


def current() -> Channel | None:
    """The channel of the action running now; None when none was set (a service called
    from Python directly, e.g. by the tests or a duties round started in-process)."""
    return _current.get()


@contextlib.contextmanager
def using(channel: Channel) -> Iterator[Channel]:
    """Everything done inside happens through `channel`; the previous one comes back
    after, so a test running a command in-process does not leak it into the next."""
    token = _current.set(channel)
    try:
        yield channel
    finally:
        _current.reset(token)
