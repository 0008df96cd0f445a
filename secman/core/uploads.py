"""The request-body cap: a body larger than SECMAN_MAX_REQUEST_MB is refused with 413
before anything reads it (docs/security.md, "Uploads").

Django itself caps only what it keeps in memory (DATA_UPLOAD_MAX_MEMORY_SIZE for form
fields; uploaded files above FILE_UPLOAD_MAX_MEMORY_SIZE go to temporary files). A 300 MB
upload would still be read to the end, by the CSRF check if nothing else, before any view
could refuse it. This middleware looks at the Content-Length first:

- a Content-Length above the cap: 413, the body is not read;
- a body sent chunked (no Content-Length): Django reads a body by its Content-Length only,
  so it would see an empty one. 411 Length Required at once, the body not read, so the
  client sends it again with its length instead of having its data silently dropped;
- a Content-Length that is not a number: 400.

Its check runs before any middleware's process_view (the CSRF check reads the body there),
wherever it stands in MIDDLEWARE; it stands after the CSP middleware so that its answers
carry the same headers as every other page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


class RequestSizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit: int = settings.SECMAN_MAX_REQUEST_BYTES
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if raw_length.strip():
            try:
                length = int(raw_length)
            except ValueError:
                return answer(request, 400, f"Content-Length {raw_length[:40]!r} is not a "
                                            "number.")
            if length < 0:
                return answer(request, 400, "Content-Length is negative.")
            if length > limit:
                return answer(request, 413, too_large(f"{megabytes(length)}", limit))
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Django reads a body by its Content-Length only and would see an empty one.
            # Answered at once, whatever its size: reading it to tell 413 from 411 would
            # let anyone, signed in or not, hold a worker with a slow trickle.
            return answer(request, 411, "Send the request with a Content-Length header: "
                                        "secman does not read bodies sent in chunks.")
        return self.get_response(request)


def too_large(size: str, limit: int) -> str:
    return (f"The request is too large: {size}; secman accepts requests of up to "
            f"{megabytes(limit)} (SECMAN_MAX_REQUEST_MB). Nothing was read or stored.")


def answer(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = HttpResponse(message + "\n", status=status,
                                content_type="text/plain; charset=utf-8")
    # No "Connection: close": a WSGI application may not set hop-by-hop headers (PEP
    # 3333). gunicorn closes a connection whose body was not read.
    return response
