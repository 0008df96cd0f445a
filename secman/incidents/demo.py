"""The demo's incidents: an automated probe, reported and closed; and an open
exploit of the web application found through a security bug report: isolated, under a
case, the application-compromise checklist half done, evidence handed to the Arbitrator,
its report still to write. The SSH brute force on hop stays an open anomaly, for the log
monitor to promote or dismiss."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from secman.incidents import services
from secman.incidents.choices import Severity, Source
from secman.systems.models import System


def load(people_by_login: dict[str, Any]) -> None:
    samir, lena = people_by_login["samir"], people_by_login["lena"]
    webdb = System.objects.get(name="webdb")

    probe = services.open_incident(
        actor=lena, title="Scan of the web server's admin paths",
        description="fw02 dropped 4,000 requests to /phpmyadmin and /wp-admin from one "
                    "address in ten minutes; nothing answered.",
        detection_level="webserver_firewall", severity=Severity.AUTOMATED_PROBE,
        systems=[webdb], war_room="#cacert-sysadm (logged)")
    services.write_timeline(actor=lena, incident=probe, kind="investigation",
                            text="No 200 response to any of the paths; the address is a "
                                 "known scanner. Nothing to mitigate (SM 5.5).")
    services.publish_report(
        actor=lena, incident=probe, audience=["sysadmins", "board"],
        summary="An automated probe of the web server's admin paths was dropped by the "
                "firewall. No service answered; no action beyond this report.")
    services.close(actor=lena, incident=probe)

    exploit = services.open_incident(
        actor=samir, title="SQL injection in the account search",
        description="A Member reported that the account search returns other Members' "
                    "rows for a crafted query. Reproduced on the test system.",
        detection_level="application", severity=Severity.EXPLOIT_NO_LOSS,
        systems=[webdb], source=Source.SECURITY_BUG, bug_reference="bugs.cacert.org #1312",
        cc=["board@lists.ca.example.org"], war_room="#cacert-incident-1312 (logged)")
    services.record_isolation(actor=samir, incident=exploit,
                              how="account search disabled in the web configuration")
    services.escalate(actor=samir, incident=exploit, file_case=True)
    services.bring_in_management(actor=samir, incident=exploit, person=samir)
    services.choose_checklist(actor=samir, incident=exploit, name="application")
    exploit.refresh_from_db()
    services.complete_step(actor=samir, step=exploit.steps.get(key="developer"),
                           note="the search's author and the Software Assessment leader")
    services.archive_logs(actor=samir, incident=exploit,
                          since=timezone.localdate() - dt.timedelta(days=14))
    services.write_timeline(actor=samir, incident=exploit, kind="investigation",
                            text="The web server's logs show the crafted query twice, both "
                                 "from the reporter's address: no sign of use by others.")
    item = services.add_evidence(
        actor=samir, incident=exploit, label="webdb access log",
        description="apache2 access.log of the 14 days before the isolation",
        sha256="3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
        size=18_432_113, location="evidence share, read-only")
    services.hand_over(actor=samir, evidence=item, to=people_by_login["aurelio"],
                       location="Arbitrator's encrypted archive", reason="for the case",
                       sha256_checked=True)
