"""The demo's backups: webdb's operational database backup in a real restic repository
(made here) with a passing check as its evidence, its weekly disaster-recovery set made by
two and waiting for its second verifier, signer's known-good reference set stored, and
signer's monthly off-site job with no set yet (a finding)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase
from secman.authority.services import sign
from secman.backups import services
from secman.backups.models import BackupSet
from secman.physical.models import Media
from secman.privileged import secrets_register
from secman.privileged.models import Secret
from secman.systems.models import System

# One demo repository per process, copied into each demo's data directory: restic derives
# its key with a deliberately slow KDF on every init and backup, and a process that loads
# the demo many times (the test suite) would pay for it each time. Each copy is a whole,
# real repository; the demo's check runs restic on it for real.
_TEMPLATE: list[Path] = []


def _build_repository(base: Path) -> None:
    dump = base / "webdb-dump"
    dump.mkdir(parents=True, exist_ok=True)
    for number, table in enumerate(("accounts", "certificates", "requests", "audit")):
        (dump / f"{table}.csv").write_text("".join(
            f"{row},demo row {row} of table {number}\n" for row in range(200)),
            encoding="utf-8")
    password = base / "restic-webdb.password"
    password.write_text("demo repository password, kept outside secman\n", encoding="utf-8")
    password.chmod(0o600)
    env = {"RESTIC_REPOSITORY": str(base / "restic-webdb"),
           "RESTIC_PASSWORD_FILE": str(password), "PATH": "/usr/bin:/bin"}
    for command in (["init"], ["backup", "--no-cache", "--quiet", str(dump)]):
        # restic, for the demo's own repository; no shell.
        subprocess.run(["restic", *command], env=env, check=True,  # noqa: S603, S607
                       capture_output=True)


def _restic_repository() -> tuple[str, str] | None:
    """A small restic repository of webdb's demo dump, under the data directory; None
    when restic is not installed (bin/debian-packages installs it)."""
    if shutil.which("restic") is None:
        print("demo: restic is not installed, webdb's backup is not checked "
              "(bin/debian-packages installs it)")
        return None
    if not _TEMPLATE or not _TEMPLATE[0].is_dir():
        template = Path(tempfile.mkdtemp(prefix="secman-demo-restic-"))
        _build_repository(template)
        _TEMPLATE[:] = [template]
    base = Path(settings.DATA_DIR) / "demo-backups"
    shutil.copytree(_TEMPLATE[0], base, dirs_exist_ok=True)
    return str(base / "restic-webdb"), str(base / "restic-webdb.password")


def load(people_by_login: dict[str, Any]) -> None:
    samir, lena, piet = (people_by_login[login] for login in ("samir", "lena", "piet"))
    webdb, signer = System.objects.get(name="webdb"), System.objects.get(name="signer")
    repository = _restic_repository()
    database = services.add_job(
        actor=lena, system=webdb, name="database", kind="operational", frequency_days=1,
        authority="SP 4.3.2", storage="webdb, /srv/backup (restic)",
        restic_repository=repository[0] if repository else "",
        restic_password_file=repository[1] if repository else "")
    if repository:
        services.run_check(actor=lena, job=database, sample_size=3, read_subset="100%")
    weekly = services.add_job(
        actor=samir, system=webdb, name="weekly off-site", kind="disaster_recovery",
        frequency_days=7, authority="SP 4.3.2",
        storage="Hosting organisation's secured area, safe B")
    disk = Media.objects.filter(serial_number="SSD-1001").first()
    waiting = services.record_set(actor=samir, job=weekly, label="DR-webdb-2026-49",
                                  methods=["filesystem", "openpgp"],
                                  media=[disk] if disk else [],
                                  note="LUKS volume, tarball encrypted to the DR keys")
    sign(actor=lena, request=waiting.made_signoff, slot="person 2")
    services.start_verification(actor=samir, backup_set=waiting,
                                comment="restored /etc and the database dump on the test VM")
    reference = services.add_job(
        actor=samir, system=signer, name="known good", kind="reference", frequency_days=365,
        authority="SM 3.2.2", storage="Safe 1, shelf 1")
    known_good = services.record_set(actor=samir, job=reference, label="REF-signer-2026",
                                     methods=["filesystem"],
                                     note="full image after installation and inspection")
    sign(actor=piet, request=known_good.made_signoff, slot="person 2")
    started = services.start_verification(actor=piet, backup_set=known_good)
    if started.verify_signoff is None:  # start_verification always opens one
        raise RuntimeError("the verification opened no sign-off")
    sign(actor=samir, request=started.verify_signoff, slot="person 2")
    services.store_set(actor=piet, backup_set=known_good, location="Safe 1, shelf 1",
                       paper_documentation="restore procedure v3, printed, in the sleeve")
    _envelopes_and_an_examination(people_by_login, known_good)
    services.add_job(actor=samir, system=signer, name="monthly off-site",
                     kind="disaster_recovery", frequency_days=30, authority="SP 4.3.2",
                     storage="Hosting organisation's secured area, safe B")


def _envelopes_and_an_examination(people_by_login: dict[str, Any],
                                  known_good: BackupSet) -> None:
    """The envelope of signer's root password and backup key, checked by its custodian;
    the root password changed since (a new envelope is due); and an examination of
    signer's reference set under the running case, not cleaned yet."""
    lena, piet, beatrix = (people_by_login[login] for login in ("lena", "piet", "beatrix"))
    root = Secret.objects.get(name="signer root password")
    backup_key = Secret.objects.get(name="signer backup encryption key")
    envelope = services.seal_envelope(
        actor=lena, label="signer keys 2026-11", seal="white A6 envelope, transparent tape, "
        "dated and signed by Lena Fischer across the flap", secrets=[root, backup_key],
        custodian=beatrix, location="Beatrix's safe, Amsterdam")
    services.check_envelope(actor=beatrix, envelope=envelope, intact=True,
                            note="in the safe, tape unbroken")
    secrets_register.rotate_secret(actor=lena, secret=root, reason="scheduled",
                                   note="quarterly change", authority="SM 4.1.1")
    case = (ArbitrationCase.objects.filter(status=CaseStatus.RUNNING).first()
            or ArbitrationCase.objects.filter(status=CaseStatus.FILED).first())
    if case is not None and case.arbitrator is not None:
        services.record_retention_decision(
            actor=case.arbitrator, case=case, account="member 104233 (terminated)",
            direction="delete")
    if case is not None:
        services.open_examination(
            actor=piet, backup_set=known_good, case=case,
            purpose="The Arbitrator asked for signer's configuration as it was installed.",
            extracted="/etc/ssh and /etc/sudoers.d of the reference image",
            extracted_to="hop:/srv/arbitration/extract (encrypted volume)")
