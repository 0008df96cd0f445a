from __future__ import annotations

from secman import demo
from secman.visits import controls
from secman.visits.models import Device, Holding, Visit
from tests.conftest import ensure_reference_data


def test_it_shows_visits_and_key_holders_in_the_demo(db):
    ensure_reference_data()
    demo.load()
    statuses = set(Visit.objects.values_list("status", flat=True))
    assert {"closed", "on_site", "requested", "awaiting_ruling"} <= statuses
    assert Visit.objects.filter(is_emergency=True, case__isnull=False).count() == 1
    assert Device.objects.count() == 4 and Holding.objects.current().count() == 5
    assert [f.section for f in controls.emergency_findings()] == ["SP 2.3.4"]
    assert controls.holder_findings() == []
