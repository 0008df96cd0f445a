"""Request-wide rules:

- every request runs in its channel (core.channel): "api" under /api/, "web" elsewhere,
  so the Event Log entries it makes say which way the action came;
- the API answers every error in JSON, even those Django answers itself (an unknown URL,
  a server error, a request too large): never an HTML page, never a traceback;
- what a signed-in person is shown (pages, API answers) is not kept by the browser or a
  proxy (`Cache-Control: no-store`); static files, served before this, are not concerned.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from secman.core import channel

API_PREFIX = "/api/"

DETAILS = {
    404: "there is no such API endpoint; /api/schema/ lists those there are",
    500: "secman failed to answer this request because of an error on the server; "
         "nothing was written, and the server's log has the details for the operator",
}
# Replaced by the JSON answer; every other header (CSP, Allow, ...) is kept.
BODY_HEADERS = {"content-type", "content-length", "content-disposition"}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class ChannelMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = channel.API if is_api(request) else channel.WEB
        with channel.using(channel.Channel(name)):
            return self.get_response(request)


class ApiErrorMiddleware:
    """Under /api/, an error answer (400 and up) that is not JSON becomes
    `{"detail": ...}` with the same status. DRF answers its own errors in JSON already
    (core.api.exception_handler); this catches what reaches Django's handlers instead,
    whose pages are HTML (and, with DEBUG on, a traceback). The exception itself is still
    logged by Django (logger django.request) before its page is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (not is_api(request) or response.status_code < 400
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        detail = DETAILS.get(response.status_code, response.reason_phrase)
        answer = JsonResponse({"detail": detail}, status=response.status_code)
        for name, value in response.items():
            if name.lower() not in BODY_HEADERS:
                answer[name] = value
        return answer


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with Django's other never-cache headers) on every API
    answer and on every page for a signed-in person: what secman shows them (the Key
    Persons List, the Event Log, access lists) must not stay in a browser's or proxy's
    cache after they sign out. Runs after AuthenticationMiddleware, and DRF sets the
    user of token requests on the same request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if is_api(request) or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response
