"""A small organisation with the physical access lists filled: axel and abby on the
Physical Control List (Access Engineers), sam and sue on the Physical Access List
(Systems Administrators); sid is a Systems Administrator on no physical list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.visits import services


@pytest.fixture
def physical(org, approve):
    for login in ("axel", "abby"):
        approve("physical_control", org.people[login])
    for login in ("sam", "sue"):
        approve("physical_access", org.people[login])
    return org


@pytest.fixture
def authorised_visit(physical):
    now = timezone.now()
    visit = services.request_visit(
        actor=physical.sam, purpose="Replace a failed disk", systems="signer1",
        window_start=now - dt.timedelta(hours=1), window_end=now + dt.timedelta(hours=3),
    )
    return services.authorise_visit(actor=physical.axel, visit=visit,
                                    reference="MoU Appendix B, 2026-07 access list")


@pytest.fixture
def visited(physical, authorised_visit):
    """A visit whose two people have checked in and out."""
    services.check_in(actor=physical.axel, visit=authorised_visit,
                      people=[physical.axel, physical.sam])
    services.check_out(actor=physical.axel, visit=authorised_visit,
                       people=[physical.axel, physical.sam])
    authorised_visit.refresh_from_db()
    return authorised_visit
