"""The client address behind reverse proxies (secman.core.addresses): the lockout and the
sign-in entries count the same client, and a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from secman.core.addresses import client_address
from secman.eventlog.models import Event
from tests.conftest import PASSWORD


def address(forwarded: str | None, count: int, settings) -> str | None:
    settings.SECMAN_PROXY_COUNT = count
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **extra))


@pytest.mark.parametrize(("forwarded", "count", "expected"), [
    ("203.0.113.7", 0, "10.0.0.2"),  # no proxy: the header is anyone's to send
    (None, 1, "10.0.0.2"),
    ("203.0.113.7", 1, "203.0.113.7"),
    ("198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # the first was the client's own
    ("198.51.100.1, 203.0.113.7, 10.0.0.9", 2, "203.0.113.7"),
    ("203.0.113.7", 2, "10.0.0.2"),  # fewer hops than proxies: not believed
    ("not an address", 1, "10.0.0.2"),
    (" 2001:DB8::0:1 ", 1, "2001:db8::1"),
])
def test_the_client_is_as_many_places_from_the_end_as_there_are_proxies(
        settings, forwarded, count, expected):
    assert address(forwarded, count, settings) == expected


@given(forwarded=st.text(max_size=200), count=st.integers(min_value=0, max_value=5))
def test_any_header_gives_the_peer_or_an_address(forwarded, count):
    from django.test import override_settings

    with override_settings(SECMAN_PROXY_COUNT=count):
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
        found = client_address(request)
    assert found == "10.0.0.2" or ipaddress.ip_address(found)


def test_the_lockout_and_the_entries_count_the_client_behind_the_proxy(org, settings):
    settings.SECMAN_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 2
    mallory, sam = Client(HTTP_X_FORWARDED_FOR="203.0.113.66"), Client(
        HTTP_X_FORWARDED_FOR="198.51.100.5")
    for _ in range(2):
        mallory.post("/login/", {"username": "sam", "password": "guess"})
    assert mallory.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 429
    # Sam, behind the same proxy but from another address, is not locked out.
    assert sam.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302
    addresses = [e.details["address"] for e in Event.objects.filter(
        action__startswith="login.").order_by("seq")]
    assert addresses == ["203.0.113.66"] * 3 + ["198.51.100.5"]
