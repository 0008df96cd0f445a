"""What the schemes', grants' and secrets' tests share: systems, a key, an agent report."""

from __future__ import annotations

import base64
import hashlib
import os

from django.utils import timezone

from secman.privileged import keys
from secman.systems import agents, services
from secman.systems.models import AgentReport, AgentToken, System


def critical(org, name: str) -> System:
    return services.add_system(actor=org.sue, name=name, kind="physical",
                               criticality="critical", status="in_service",
                               authority=org.decision)


def infrastructure(org, name: str, **fields) -> System:
    return services.add_system(actor=org.sue, name=name, kind="physical", status="in_service",
                               authority="SP 3.2.2", **fields)


def new_key(org, person):
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + os.urandom(32)
    line = "ssh-ed25519 " + base64.b64encode(blob).decode()
    return keys.add_key(actor=org.sue, person=person, public_key=line, authority="SM 3.4.3")


def report(system: System, fingerprints: list[str], at=None) -> AgentReport:
    """An agent report of `system` listing these keys in root's authorized_keys."""
    token = AgentToken.objects.filter(system=system).first()
    if token is None:
        agents.issue_token(actor=None, system=system, authority="SM 3.2")
        token = AgentToken.objects.filter(system=system).first()
    facts = {"authorized_keys": [{"user": "root", "path": "/root/.ssh/authorized_keys",
                                  "fingerprint": f, "type": "ED25519"}
                                 for f in fingerprints]}
    body = repr(facts).encode()
    return AgentReport.objects.create(system=system, token=token,
                                      received_at=at or timezone.now(), facts=facts,
                                      size=len(body), sha256=hashlib.sha256(body).hexdigest())
