"""Keys, accounts and origins from the command line and the API: the same services as
the pages, refusals as the command's error or a 400/403 with nothing written; `secman
privileged check` exits non-zero on a violation."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.eventlog.models import Event
from secman.privileged.models import Account, AdminOrigin, SshKey
from tests.privileged.support import KEY_A, KEY_A_FINGERPRINT, KEY_B, critical, report

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(main, ["privileged", *args])


def test_keys_accounts_origins_and_check_from_the_command_line(org, approve):
    system = critical()
    approve("ssh_access", org.sid)
    report(system, org.sam, keys=[("sid", KEY_A)], accounts=["root", "sid"])
    checked = run("check", "--json")
    assert checked.exit_code == 1
    assert {f["control"] for f in json.loads(checked.output)} >= {
        "privileged.unknown_keys", "privileged.login_accounts_registered"}
    assert run("keys", "add", "--person", "sid", "--public-key", KEY_A).exit_code == 0
    refused = run("keys", "add", "--person", "sue", "--public-key", KEY_A)
    assert refused.exit_code == 1 and "a key belongs to one person" in refused.output
    assert run("keys", "add", "--person", "sid", "--public-key", "ssh-rsa nope").exit_code == 1
    assert SshKey.objects.count() == 1
    listed = json.loads(run("keys", "list", "--json").output)
    assert [k["fingerprint"] for k in listed] == [KEY_A_FINGERPRINT]
    for name, kind, extra in (("root", "privileged", []), ("sid", "personal",
                                                          ["--person", "sid"])):
        result = run("accounts", "add", "vault", name, "--kind", kind, *extra)
        assert result.exit_code == 0, result.output
    assert run("accounts", "add", "vault", "x", "--kind", "personal").exit_code == 1
    assert [a["username"] for a in json.loads(run("accounts", "list", "--json").output)] == [
        "root", "sid"]
    checked = run("check")
    assert checked.exit_code == 0, checked.output
    assert run("accounts", "remove", "vault", "sid", "--reason", "moved").exit_code == 0
    assert Account.objects.get(username="sid").removed_at
    assert run("origins", "add", "--network", "192.0.2.1/24", "--description",
               "x").exit_code == 1
    assert run("origins", "add", "--system", "vault", "--description", "hop").exit_code == 0
    origin = AdminOrigin.objects.get()
    assert json.loads(run("origins", "list", "--json").output)[0]["system"] == "vault"
    assert run("origins", "end", str(origin.pk), "--reason", "gone").exit_code == 0
    # --as names the Systems Administrator acting; someone who keeps nothing is refused.
    refused = run("keys", "block", KEY_A_FINGERPRINT, "--reason", "left", "--as", "aud")
    assert refused.exit_code == 1 and "Systems Administrators" in refused.output
    assert run("keys", "block", KEY_A_FINGERPRINT, "--reason", "left",
               "--as", "sue").exit_code == 0
    assert SshKey.objects.get().blocked_by == org.sue
    assert run("check").exit_code == 1  # the blocked key is still there
    assert Event.objects.filter(action__startswith="privileged.").count() == 7


def test_the_api(org, client):
    system = critical()
    client.force_login(org.aud.user)
    assert client.get("/api/ssh-keys/").status_code == 200
    assert client.post("/api/ssh-keys/", {"person": org.sid.pk, "public_key": KEY_A},
                       content_type="application/json").status_code == 403
    client.force_login(org.sue.user)
    created = client.post("/api/ssh-keys/", {"person": org.sid.pk, "public_key": KEY_A},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["fingerprint"] == KEY_A_FINGERPRINT
    again = client.post("/api/ssh-keys/", {"person": org.sue.pk, "public_key": KEY_A},
                        content_type="application/json")
    assert again.status_code == 400 and SshKey.objects.count() == 1
    key_id = created.json()["id"]
    blocked = client.post(f"/api/ssh-keys/{key_id}/block/", {"reason": "left"},
                          content_type="application/json")
    assert blocked.status_code == 200 and blocked.json()["blocked_at"]
    made = client.post("/api/accounts/", {"system": system.name, "username": "sid",
                                          "kind": "personal", "person": org.sid.pk},
                       content_type="application/json")
    assert made.status_code == 201, made.json()
    listed = client.get(f"/api/accounts/?system={system.name}").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [a["username"] for a in rows] == ["sid"]
    removed = client.post(f"/api/accounts/{made.json()['id']}/remove/", {"reason": "moved"},
                          content_type="application/json")
    assert removed.status_code == 200 and removed.json()["removed_at"]
    assert client.post("/api/ssh-keys/", {"person": org.sid.pk, "public_key": KEY_B[:20]},
                       content_type="application/json").status_code == 400
    # The person filter: one person's keys; a filter that is no id is a 400, never all
    # keys nor a database error (an id past 64 bits overflowed SQLite's INTEGER).
    assert [k["person_id"] for k in client.get(f"/api/ssh-keys/?person={org.sid.pk}")
            .json()["results"]] == [org.sid.pk]
    assert client.get(f"/api/ssh-keys/?person={org.sue.pk}").json()["results"] == []
    for hostile in ("99999999999999999999", "abc", "-1", "0"):
        answer = client.get(f"/api/ssh-keys/?person={hostile}")
        assert answer.status_code == 400, (hostile, answer.content)
        assert "whole number" in answer.json()["person"][0]
