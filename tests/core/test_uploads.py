"""The request-body cap (issue 13, finding 5): a body above SECMAN_MAX_REQUEST_MB is
refused with 413 before anything reads it, on every URL, signed in or not; a chunked body
is refused with 411 at once, whatever its size, without being read."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from secman.eventlog.models import Event
from tests.conftest import database_environment, serving


def test_the_caps_are_set_and_hold_the_largest_accepted_file():
    from secman.compliance.services import MAX_EVIDENCE_BYTES
    from secman.documents.importers import MAX_BYTES

    assert settings.SECMAN_MAX_REQUEST_BYTES == 25 * 1024 * 1024
    assert max(MAX_EVIDENCE_BYTES, MAX_BYTES) + 1024**2 < settings.SECMAN_MAX_REQUEST_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.FILE_UPLOAD_MAX_MEMORY_SIZE \
        == 2_621_440
    assert "secman.core.uploads.RequestSizeMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/documents/import/", "/physical/computers/import/",
                                  "/api/people/", "/login/"])
def test_a_content_length_over_the_cap_is_refused_before_the_body_is_read(org, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="axel"))
    before = Event.objects.count()
    response = client.generic("POST", path, b"x" * 1000, content_type="application/json",
                              CONTENT_LENGTH=str(300 * 1024 * 1024))
    assert response.status_code == 413
    said = response.json()["detail"] if path.startswith("/api/") else response.content.decode()
    assert "The request is too large: 300.0 MB; secman accepts requests of up to 25.0 MB" \
        in said
    assert not response.wsgi_request._read_started
    assert response["Content-Security-Policy"]  # the same headers as every answer
    assert Event.objects.count() == before


@pytest.mark.django_db
def test_the_cap_is_the_setting(org, settings):
    settings.SECMAN_MAX_REQUEST_BYTES = 1024 * 1024
    client = Client()
    client.force_login(get_user_model().objects.get(username="axel"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = client.post("/documents/import/", {
        "file": SimpleUploadedFile("p.html", b"<h2>1. A</h2>" + b"x" * 1024 * 1024),
        "name": "P", "kind": "procedure"})
    assert big.status_code == 413
    small = client.post("/documents/import/", {
        "file": SimpleUploadedFile("p.html", b"<h2>1. A</h2><p>x</p>"), "name": "P",
        "kind": "procedure"})
    assert small.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_content_length_that_is_no_size_is_refused(org, length):
    response = Client().generic("POST", "/login/", b"", CONTENT_LENGTH=length)
    assert response.status_code == 400


def raw_request(base: str, head: str, body_parts: list[bytes], pause: float = 0) -> str:
    """Send a request by hand (headers, then the body in parts) and return the status line
    and headers the server answers, however much of the body it took."""
    host = urlsplit(base)
    with socket.create_connection((host.hostname, host.port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            for part in body_parts:
                sock.sendall(part)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    return answer.decode("latin-1")


def chunked(data: bytes, size: int = 256 * 1024) -> list[bytes]:
    parts = [f"{len(data[i:i + size]):x}\r\n".encode() + data[i:i + size] + b"\r\n"
             for i in range(0, len(data), size)]
    return [*parts, b"0\r\n\r\n"]


def test_a_served_secman_refuses_large_and_chunked_bodies_without_reading_them(tmp_path):
    with database_environment("sqlite", tmp_path) as env:
        env["SECMAN_MAX_REQUEST_MB"] = "1"
        with serving(env, log=tmp_path / "serve.log") as base:
            host = urlsplit(base).netloc
            # 300 MB announced, 64 kB sent: answered at once, the rest never awaited.
            started = time.monotonic()
            answer = raw_request(base, (
                f"POST /documents/import/ HTTP/1.1\r\nHost: {host}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"), [b"x" * 65536])
            assert answer.startswith("HTTP/1.1 413"), answer
            assert time.monotonic() - started < 10
            # A chunked body, over the cap or within it: 411 at once, send it with its
            # length (Django would see it empty); nothing of it is read.
            head = (f"POST /login/ HTTP/1.1\r\nHost: {host}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")
            answer = raw_request(base, head, chunked(b"a" * (2 * 1024 * 1024)))
            assert answer.startswith("HTTP/1.1 411"), answer
            answer = raw_request(base, head, chunked(b"username=a&password=b"))
            assert answer.startswith("HTTP/1.1 411"), answer
            # And the server goes on serving.
            answer = raw_request(base, f"GET /login/ HTTP/1.1\r\nHost: {host}\r\n"
                                       "Connection: close\r\n\r\n", [])
            assert answer.startswith("HTTP/1.1 200"), answer
