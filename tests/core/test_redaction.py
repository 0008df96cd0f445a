"""Calendar feed tokens never reach a log: not gunicorn's access log, not Django's."""

from __future__ import annotations

import logging

import pytest
from gunicorn.config import Config

from secman.core.redaction import RedactingAccessLogger, RedactingFilter

TOKEN = "s3cr3t-t0ken_value"
PATH = f"/compliance/calendar/{TOKEN}.ics"


class Request:
    method, path, query, version = "GET", PATH, "", (1, 1)
    uri = PATH
    headers: list = []


class Response:
    status, sent, headers = "200 OK", 10, []


def test_the_access_log_line_carries_no_token():
    logger = RedactingAccessLogger(Config())
    environ = {"RAW_URI": PATH, "PATH_INFO": PATH, "QUERY_STRING": "",
               "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "::1"}
    import datetime as dt

    atoms = logger.atoms(Response(), Request(), environ, dt.timedelta(seconds=0.01))
    line = " ".join(str(v) for v in atoms.values())
    assert TOKEN not in line
    assert "/compliance/calendar/[redacted].ics" in atoms["r"]


def test_djangos_request_log_carries_no_token(client, db, org):
    """Through the console handler settings.LOGGING configures, as a server logs. secman
    logs only server errors from django.request (a 404 is in the access log); the 404's
    warning is let through here to see what the handler makes of a line with a token."""
    import io

    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, RedactingFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.WARNING)
    try:
        assert client.get(PATH).status_code == 404
    finally:
        handler.setStream(previous)
        request_log.setLevel(level)
    assert "Not Found: /compliance/calendar/[redacted].ics" in stream.getvalue()
    assert TOKEN not in stream.getvalue()


@pytest.mark.parametrize(("text", "expected"), [
    ("/compliance/calendar/abc.ics?x=1", "/compliance/calendar/[redacted].ics?x=1"),
    ("GET /compliance/calendar/a-b_c.ics HTTP/1.1",
     "GET /compliance/calendar/[redacted].ics HTTP/1.1"),
    ("/compliance/calendar/", "/compliance/calendar/"),
])
def test_paths_with_a_token_are_redacted(text, expected):
    from secman.core.redaction import redact

    assert redact(text) == expected
