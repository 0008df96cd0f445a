"""Where a request came from: one answer for the login lockout (django-axes) and the
Event Log's sign-in entries.

Behind SECMAN_PROXY_COUNT reverse proxies, each of which appends the address it received
the request from to X-Forwarded-For, the client is the entry that many places from the
end. Anything before it was written by the client itself and is not believed. Without
proxies (the default) the header is ignored: anyone can send one.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    count = settings.SECMAN_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in
                request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            candidate = hops[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:  # not an address: fall back to the peer, never log it
                pass
    return request.META.get("REMOTE_ADDR") or None
