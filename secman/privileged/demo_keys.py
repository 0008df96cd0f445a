"""The demo's keys, accounts and admin origins, and signer's agent report.

The keys are real ed25519 public keys made once with ssh-keygen for the demo (their
private halves were thrown away). signer's report holds the registered keys, the keys
the grants' part wants present, ONE unknown key (in piet's authorized_keys) and ONE sshd
setting that breaks the rules (PasswordAuthentication yes, SM 3.4.3). Registering the
unknown key (or a new report without it) and a report with PasswordAuthentication no
turn both OK."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from secman.privileged import accounts, keys
from secman.privileged.keys import AGENT_TYPE
from secman.privileged.models import SshKey
from secman.systems import agents
from secman.systems.models import AgentReport, System

DEMO_KEYS = {
    "lena": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxWUnjW/0jAl4ptJyuouc0m/EjxOpK3MRCEKQPuTnV3 "
            "lena@demo",
    "samir": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDGGB0ZEi3zTA4qqEb06ZlOLlLBnvnZafTymX3CRGGjC "
             "samir@demo",
    "piet": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAWum86IU1Brydl5w+Vc4MBaCGXhWszfSiXZwSNcY6lW "
            "piet@demo",
}
# Found in piet's authorized_keys on signer, registered to nobody.
UNKNOWN_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAHRHj6OUpwvzC10oVqkDmeS9qldaVY/3UJGequSYWIe "
               "build@laptop")
# Spare keys for tests and for trying the forms (registered to nobody in the demo).
SPARE_KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxjqqqQBXDB6xDB/DcsizlAspBT80bBz7jif+cpGtsO spare1",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGwxBltEjRv6jq3pEihBiJsjrvd98e2z796nUUnnKTvA spare2",
)
# sshd -T as a Debian 12 sshd prints the options the checks read; one breaks the rules.
SIGNER_SSHD = {"permitrootlogin": "no", "passwordauthentication": "yes",
               "permitemptypasswords": "no", "pubkeyauthentication": "yes",
               "kbdinteractiveauthentication": "no", "port": "22"}
SIGNER_SUDOERS = [{"path": "/etc/sudoers", "content": (
    "Defaults\tenv_reset\nDefaults\tuse_pty\nroot\tALL=(ALL:ALL) ALL\n"
    "%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n")}]
SYSADMINS = ("lena", "samir", "piet")


def key_entry(user: str, public_key: str) -> dict[str, str]:
    """One authorized_keys line as the agent reports it (ssh-keygen -lf)."""
    parsed = keys.parse_public_key(public_key)
    return {"user": user, "path": f"/home/{user}/.ssh/authorized_keys",
            "bits": str(parsed.bits or ""), "fingerprint": parsed.fingerprint,
            "type": AGENT_TYPE.get(parsed.key_type, parsed.key_type),
            "comment": parsed.comment}


def registered_entry(user: str, key: SshKey) -> dict[str, str]:
    return {"user": user, "path": f"/home/{user}/.ssh/authorized_keys",
            "bits": str(key.bits or ""), "fingerprint": key.fingerprint,
            "type": AGENT_TYPE.get(key.key_type, key.key_type), "comment": key.comment}


def post_report(system: System, facts: dict[str, Any], *, actor: Any) -> AgentReport:
    """Post `facts` as the system's agent report, through the service a real agent's
    post goes through, with a new token (used here and shown nowhere)."""
    token = agents.issue_token(actor=actor, system=system, authority="SP 3.2.2")
    report = {"agent_version": "1", "system": system.name, "hostname": system.name,
              "collected_at": timezone.now().isoformat(timespec="seconds"), **facts}
    return agents.receive_report(token, json.dumps(report).encode())


def signer_facts(people_by_login: dict[str, Any], also_present: list[SshKey],
                 *, unknown: bool = True, sshd: dict[str, str] | None = None,
                 ) -> dict[str, Any]:
    """What signer's agent reports: the sysadmins' accounts and keys, `also_present`,
    the unknown key when `unknown`, and `sshd` (default: SIGNER_SSHD)."""
    authorized = [registered_entry(login, key) for login in SYSADMINS
                  for key in SshKey.objects.filter(person=people_by_login[login],
                                                   blocked_at__isnull=True)]
    for key in also_present:
        user = key.person.user.username if key.person.user is not None else "root"
        authorized.append(registered_entry(user, key))
    if unknown:
        authorized.append(key_entry("piet", UNKNOWN_KEY))
    logins = [{"user": "root", "uid": 0, "home": "/root", "shell": "/bin/bash"}]
    logins += [{"user": login, "uid": 1000 + i, "home": f"/home/{login}",
                "shell": "/bin/bash"} for i, login in enumerate(SYSADMINS)]
    return {"authorized_keys": authorized, "accounts": logins,
            "sshd": dict(SIGNER_SSHD if sshd is None else sshd), "sudoers": SIGNER_SUDOERS,
            "listening": [{"protocol": "tcp", "address": "0.0.0.0",  # noqa: S104
                           "port": port, "process": process}
                          for port, process in ((22, "sshd"), (2000, "signer"),
                                                (2001, "signer"))]}


def load_register(people_by_login: dict[str, Any]) -> None:
    """The sysadmins' keys and accounts, the hop machine as the admin origin."""
    samir = people_by_login["samir"]
    for login in SYSADMINS:
        keys.add_key(actor=samir, person=people_by_login[login], public_key=DEMO_KEYS[login],
                     authority="SM 3.4.3")
    signer = System.objects.get(name="signer")
    for login in SYSADMINS:
        accounts.add_account(actor=samir, system=signer, username=login, kind="personal",
                             person=people_by_login[login], authority="SM 3.4.3")
    accounts.add_account(actor=samir, system=signer, username="root", kind="privileged",
                         purpose="console access only (SM 4.1.1); sudo from the personal "
                         "accounts", authority="SM 4.1.1")
    accounts.add_account(actor=samir, system=signer, username="signer", kind="service",
                         purpose="runs the signer daemon; no login", authority="SM 4.1.1")
    accounts.add_origin(actor=samir, system=System.objects.get(name="hop"),
                        description="The hop machine: sysadmins come in over SSH with their "
                        "keys and go on from there to the critical servers",
                        authority="SM 3.4.3")


def load_signer_report(people_by_login: dict[str, Any], also_present: list[SshKey]) -> None:
    """signer's agent report: the registered keys, `also_present`, one unknown key and
    one sshd setting that breaks the rules."""
    post_report(System.objects.get(name="signer"),
                signer_facts(people_by_login, also_present), actor=people_by_login["samir"])
