"""Every request runs in its channel (core.channel): "api" under /api/, "web" elsewhere,
so the Event Log entries it makes say which way the action came."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from secman.core import channel

API_PREFIX = "/api/"


class ChannelMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = channel.API if request.path_info.startswith(API_PREFIX) else channel.WEB
        with channel.using(channel.Channel(name)):
            return self.get_response(request)
