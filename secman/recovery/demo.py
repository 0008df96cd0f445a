"""The demo's disaster recovery: the Board's decision setting the two core processes of
SM 6.1.1 (revocation at 27 hours, SM 6.2) and the SM 6.3 plan; an exercise of revocation
last month that met its objective; the critical systems never exercised (a finding); and
three key persons with real OpenPGP keys, their list exported once. The key persons'
secret keys (no passphrase: a demo) are written to <data dir>/demo-keypersons/ so a
demo user can decrypt the list with gpg."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import gnupg
from django.conf import settings
from django.utils import timezone

from secman.authority import services as authority
from secman.people import services as people
from secman.recovery import services
from secman.systems.models import System


def _keys(people_by_login: dict[str, Any], logins: list[str], out: Path) -> None:
    # gpg-agent's socket must fit in a short path: a home under /tmp, removed after.
    home = tempfile.mkdtemp(prefix="sd", dir="/tmp")
    try:
        gpg = gnupg.GPG(gnupghome=home)
        secrets = []
        for login in logins:
            person = people_by_login[login]
            key = gpg.gen_key(gpg.gen_key_input(
                key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH",
                subkey_curve="cv25519", name_real=person.name, name_email=person.email,
                no_protection=True, expire_date=0))
            people.set_openpgp_key(actor=person, person=person,
                                   armoured=gpg.export_keys(key.fingerprint))
            secrets.append(gpg.export_keys(key.fingerprint, secret=True, expect_passphrase=False))
        (out / "demo-secret-keys.asc").write_text("".join(secrets), encoding="ascii")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def load(people_by_login: dict[str, Any]) -> None:
    if shutil.which("gpg") is None:
        print("demo: gpg is not installed, the Key Persons List is not exported "
              "(bin/debian-packages installs gnupg)")
        return
    board = [people_by_login[login] for login in ("beatrix", "tomasz", "ingrid")]
    decided = timezone.localdate() - dt.timedelta(days=60)
    decision = authority.record_board_decision(
        actor=board[0], minute_id=f"m{decided:%Y%m%d}.1", decided_on=decided,
        title="Disaster recovery: core processes, recovery times, plan and key persons",
        text="The Board sets the core processes and their recovery times, adopts the plan "
        "of SM 6.3 and designates the key persons listed.",
        votes={member: "aye" for member in board})
    decision = authority.confirm_board_decision(actor=board[1], decision=decision)
    samir = people_by_login["samir"]
    revocation = services.record_process(
        actor=board[0], name="Revocation services (OCSP/CRL)", core=True,
        description="The OCSP responder and the CRLs: relying parties must learn of a "
        "revoked certificate.", max_outage_hours=48, rto_hours=27, authority=decision,
        systems=System.objects.filter(name="webdb"), people=[samir])
    services.record_process(
        actor=board[0], name="Critical systems (signing)", core=True,
        description="The signing server and the web database that issue certificates.",
        max_outage_hours=168, rto_hours=72, authority=decision,
        systems=System.objects.filter(name__in=["signer", "webdb"]), people=[samir])
    services.record_process(
        actor=board[0], name="Community mailing lists", core=False,
        description="Announcements and discussion.", max_outage_hours=336, rto_hours=168,
        authority=decision)
    services.adopt_plan(actor=board[0], steps=services.SM_PLAN, authority=decision)

    start = timezone.now() - dt.timedelta(days=30)
    exercise = services.start_exercise(
        actor=samir, processes=[revocation], started_at=start,
        scenario="The hosting site is lost; OCSP and CRLs rebuilt at the standby site")
    at = start
    for step, hours, note in zip(exercise.steps.order_by("position"), (0.5, 2, 6, 13.5),
                                 ("all reached by phone within 30 minutes",
                                  "Board call; SA team of three named",
                                  "two sysadmins at the standby site",
                                  "OCSP answering, CRL published"), strict=True):
        at += dt.timedelta(hours=hours)
        services.complete_exercise_step(actor=samir, step=step, at=at, note=note)

    out = Path(settings.DATA_DIR) / "demo-keypersons"
    out.mkdir(parents=True, exist_ok=True)
    logins = ["beatrix", "samir", "aurelio"]
    _keys(people_by_login, logins, out)
    for login, role in zip(logins, ("Board: convenes the recovery",
                                    "Systems Administration team leader",
                                    "Arbitrator: oversight"), strict=True):
        services.designate_key_person(actor=board[0], person=people_by_login[login],
                                      role=role, authority=decision)
    services.export_key_persons(actor=board[0], directory=out)
