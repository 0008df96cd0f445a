"""Secrets that travel in URLs (the private calendar feed tokens) kept out of every log:
gunicorn's access log and Django's request log name the path of each request."""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# /compliance/calendar/<token>.ics: the token is the feed's only credential.
SECRET_IN_PATH = re.compile(r"(/compliance/calendar/)[^/?#\s]+(\.ics)")
REDACTED = r"\1[redacted]\2"


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(REDACTED, text)


class RedactingAccessLogger(Logger):  # type: ignore[misc]  # gunicorn has no types: Logger is Any
    """gunicorn's logger with the secrets taken out of each access-log line's atoms."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
              ) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}


class RedactingFilter(logging.Filter):
    """For Django's loggers ("Not Found: /compliance/calendar/<token>.ics")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple)
                                          else (record.args,)))
        record.msg = redact(str(record.msg))
        return True
