"""The API of schemes, grants and secrets: the same services and refusals as the pages;
a body that carries a secret's value is refused before anything is read or written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from secman.eventlog.models import Event
from secman.privileged.models import Secret, SecretRotation, TemporaryGrant
from tests.privileged.helpers import critical

pytestmark = pytest.mark.django_db


def client_of(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def test_a_secret_is_registered_and_rotated_but_never_given_a_value(org):
    critical(org, "signer")
    lena = client_of(org.sue)
    before = Event.objects.count()
    answer = lena.post("/api/secrets/", {"name": "signer root password",
                                         "kind": "root_password", "password": "hunter2"},
                       format="json")
    assert answer.status_code == 400 and "hunter2" not in answer.content.decode()
    assert "never keeps a secret's value" in answer.json()["detail"]
    assert not Secret.objects.exists() and Event.objects.count() == before
    made = lena.post("/api/secrets/", {"name": "signer root password",
                                       "kind": "root_password", "systems": ["signer"]},
                     format="json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert client_of(org.aud).post(f"/api/secrets/{pk}/rotate/", {"reason": "scheduled"},
                                   format="json").status_code == 403
    rotated = lena.post(f"/api/secrets/{pk}/rotate/", {"reason": "scheduled"}, format="json")
    assert rotated.status_code == 200 and rotated.json()["last_rotated_at"]
    assert SecretRotation.objects.count() == 1
    assert client_of(org.aud).get("/api/secrets/").json()["results"][0]["due"] == []
    # A suspected compromise of the system makes it due; retiring it ends that.
    mark = {"system": "signer", "reason": "odd logins"}
    assert client_of(org.aud).post("/api/secrets/compromised/", mark,
                                   format="json").status_code == 403
    assert lena.post("/api/secrets/compromised/", {"system": "nowhere", "reason": "x"},
                     format="json").status_code == 400
    marked = lena.post("/api/secrets/compromised/", mark, format="json")
    assert marked.status_code == 201 and marked.json()["now_due"] == ["signer root password"]
    assert lena.get(f"/api/secrets/{pk}/").json()["due"]
    assert lena.post(f"/api/secrets/{pk}/retire/", {"reason": ""},
                     format="json").status_code == 400
    retired = lena.post(f"/api/secrets/{pk}/retire/", {"reason": "signer replaced"},
                        format="json")
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert retired.json()["due"] == [] and retired.json()["retire_reason"] == "signer replaced"


def test_grants_by_the_team_leader_only(org):
    critical(org, "signer")
    body = {"person": org.otto.pk, "system": "signer", "reason": "debugging",
            "ends_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}
    assert client_of(org.sue).post("/api/grants/", body, format="json").status_code == 403
    no_end = client_of(org.sam).post("/api/grants/", {**body, "ends_at": None}, format="json")
    assert no_end.status_code == 400 and not TemporaryGrant.objects.exists()
    made = client_of(org.sam).post("/api/grants/", body, format="json")
    assert made.status_code == 201 and made.json()["state"] == "active"
    listed = client_of(org.aud).get("/api/grants/?state=active").json()["results"]
    assert [g["person"] for g in listed] == ["Otto"]
    revoked = client_of(org.arne).post(f"/api/grants/{made.json()['id']}/revoke/",
                                       {"reason": "as directed", "authority": "SP 4.1.1.1"},
                                       format="json")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
