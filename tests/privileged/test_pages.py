"""The pages of keys, accounts and origins: the forms call the services (refusals shown
on the form, nothing written), and only Systems Administrators are shown them."""

from __future__ import annotations

import pytest

from secman.privileged.models import Account, AdminOrigin, SshKey
from tests.privileged.support import KEY_A, critical, report

pytestmark = pytest.mark.django_db


def test_a_sysadmin_keeps_accounts_and_origins_through_the_pages(org, client):
    system = critical()
    report(system, org.sam, keys=[("sid", KEY_A)])
    client.force_login(org.sue.user)
    page = client.get(f"/privileged/systems/{system.name}/")
    assert b"unknown key" in page.content and b"Register an account" in page.content
    url = f"/privileged/systems/{system.name}/accounts/new/"
    refused = client.post(url, {"username": "sid", "kind": "personal",
                                "authority": "SM 3.4.3"})
    assert refused.status_code == 200 and b"belongs to a person" in refused.content
    assert not Account.objects.exists()
    done = client.post(url, {"username": "sid", "kind": "personal", "person": org.sid.pk,
                             "authority": "SM 3.4.3"})
    assert done.status_code == 302
    account = Account.objects.get()
    assert client.post(f"/privileged/accounts/{account.pk}/remove/",
                       {"reason": "moved", "authority": "SM 3.4.3"}).status_code == 302
    assert Account.objects.get().removed_at
    assert client.post("/privileged/origins/", {"network": "192.0.2.0/24",
                                                "description": "office",
                                                "authority": "SM 3.4.3"}).status_code == 302
    origin = AdminOrigin.objects.get()
    assert client.post(f"/privileged/origins/{origin.pk}/end/",
                       {"reason": "moved", "authority": "SM 3.4.3"}).status_code == 302
    bad = client.post("/privileged/keys/", {"person": org.sid.pk,
                                            "public_key": "-----BEGIN OPENSSH PRIVATE KEY-----",
                                            "authority": "SM 3.4.3"})
    assert bad.status_code == 200 and b"private key" in bad.content
    assert not SshKey.objects.exists()


def test_readers_who_keep_nothing_see_no_forms(org, client):
    system = critical()
    client.force_login(org.aud.user)
    for url in ("/privileged/keys/", "/privileged/origins/", "/privileged/accounts/",
                f"/privileged/systems/{system.name}/", "/privileged/checks/"):
        page = client.get(url)
        assert page.status_code == 200 and b"<form method=\"post\" class=\"card\"" not in \
            page.content, url
    assert client.post("/privileged/keys/", {"person": org.sid.pk, "public_key": KEY_A,
                                             "authority": "SM 3.4.3"}).status_code == 403
    assert not SshKey.objects.exists()
    client.force_login(org.pim.user)  # a Support Engineer reads nothing here
    assert client.get("/privileged/keys/").status_code == 403


def test_a_system_may_be_named_like_a_page(org, client):
    # "new" is a host name like any other: its schemes are not the form for a new one.
    system = critical("new")
    client.force_login(org.sue.user)
    page = client.get(f"/privileged/systems/{system.name}/schemes/")
    assert page.status_code == 200 and b"Document a scheme" in page.content
    assert b"<h1>new: authentication schemes" in page.content
