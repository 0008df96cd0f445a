"""Visits and key holders for the demo organisation (secman.demo), made through the
services: a closed visit, one on site, one waiting for authorisation, an emergency
access before the Arbitrator, and the rack keys, cards and codes with their holders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from secman.visits import devices, services

HOSTING = "BIT (hosting company)"


def load(people: dict[str, Any]) -> None:
    ana, jonas, samir, lena = (people[login] for login in ("ana", "jonas", "samir", "lena"))
    now = timezone.now()
    window_start, window_end = now - dt.timedelta(hours=3), now + dt.timedelta(hours=2)

    closed = services.request_visit(
        actor=samir, purpose="Replace the failed disk in the signing server",
        systems="signer1 (critical), disk 2 of the mirror", window_start=window_start,
        window_end=window_end)
    services.authorise_visit(actor=ana, visit=closed,
                             reference="MoU Appendix B, access list as of the last Board "
                             "update; ticket BIT-4711")
    services.check_in(actor=ana, visit=closed, people=[ana, samir],
                      at=now - dt.timedelta(hours=2, minutes=30))
    services.check_out(actor=ana, visit=closed, people=[ana, samir],
                       at=now - dt.timedelta(hours=1, minutes=40))
    services.file_report(actor=samir, visit=closed, kind="accessor",
                         text="Swapped disk 2 for a provisioned spare; resync completed. "
                         "Old disk sealed for retirement.")
    services.file_report(actor=ana, visit=closed, kind="access_engineer",
                         text="Opened rack 12 at 09:30, stayed throughout, closed and "
                         "sealed it at 10:20. No data accessed by BIT staff.")
    services.close_visit(actor=samir, visit=closed)

    on_site = services.request_visit(
        actor=lena, purpose="Check the HSM's battery status", systems="hsm1",
        logical_access=False, window_start=window_start, window_end=window_end)
    services.authorise_visit(actor=jonas, visit=on_site, reference="ticket BIT-4720")
    services.check_in(actor=jonas, visit=on_site, people=[jonas, lena])

    services.request_visit(
        actor=lena, purpose="Install the new backup server", systems="backup2 (new)",
        window_start=now + dt.timedelta(days=3),
        window_end=now + dt.timedelta(days=3, hours=4))

    services.record_emergency(
        actor=samir, purpose="Power down the signing server during a cooling failure",
        systems="signer1", circumstances="The hosting company reported the rack at 41 °C "
        "at 02:50 and rising; no second Systems Administrator could be reached in time. "
        "Samir shut the server down cleanly under the eyes of the Access Engineer.",
        started_at=now - dt.timedelta(days=2, hours=1), ended_at=now - dt.timedelta(days=2),
        people=[samir, ana])

    kept = [
        ("rack_key", "Rack 12 key #1", False, [ana]),
        ("rack_key", "Rack 12 key #2", False, [samir]),
        ("access_card", "Data-centre access card 0A", False, [lena]),
        ("code", "Cage door code", True, [ana, jonas]),
    ]
    for kind, label, copies, holders in kept:
        device = devices.register_device(actor=ana, kind=kind, label=label,
                                          controlling_party=HOSTING, copies_permitted=copies)
        for holder in holders:
            devices.issue_device(actor=ana, device=device, holder=holder,
                                  reference="MoU Appendix B key list")
