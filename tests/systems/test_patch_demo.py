"""The demo's part of SM 3.2 and SP 3.2.3: webdb on oldstable with the date its support
ends, the signing server's accepted exception, an emergency patch with its case, a normal
patch applied under four eyes, two configuration changes; all through the services."""

from __future__ import annotations

import pytest

from secman import demo
from secman.compliance.evaluation import evaluate
from secman.core.controls import Status, control
from secman.systems import controls
from secman.systems.choices import PatchStatus
from secman.systems.models import ConfigurationChange, Patch
from secman.systems.oslifecycle import Support


@pytest.mark.django_db
def test_the_demo_shows_oldstable_exception_emergency_and_changes(
        settings, smtp, django_capture_on_commit_callbacks):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@ca.example.org"
    # The demo loads the patches' part itself (systems.demo.load_patches).
    with django_capture_on_commit_callbacks(execute=True):
        demo.load()
    from django.utils import timezone

    from secman.systems.views_patches import os_rows

    found, error = os_rows(timezone.localdate())
    assert error == ""
    rows = {r["system"].name: r for r in found}
    assert rows["webdb"]["state"].support == Support.OLDSTABLE
    assert rows["webdb"]["state"].support_ends is not None
    assert rows["signer"]["acceptance"] is not None
    result = evaluate([control("systems.os_lifecycle")])[0]
    assert [f.subject for f, _ in result.accepted] == ["system:signer"]
    emergency = Patch.objects.get(emergency=True)
    assert emergency.case is not None and emergency.approved_at > emergency.applied_at
    normal = Patch.objects.get(emergency=False)
    assert normal.status == PatchStatus.REPORTED and normal.backup_recorded_at
    assert any("DSA-5912-1" in m["Subject"] for _, m in smtp.messages)
    # The systems demo's two changes, and the software demo's deployment on webdb.
    assert ConfigurationChange.objects.count() == 3
    assert ConfigurationChange.objects.filter(rcs_reference__startswith="cacert-web@",
                                              system__name="webdb").count() == 1
    # The emergency patch's backup is the one thing left to do.
    assert [f.subject for f in controls.backups_after_patches()] == [f"patch:{emergency.pk}"]
    assert controls.emergency_patches_decided() == [] and controls.patches_reported() == []
    # webdb's deadline: violated once passed (as on this machine's calendar in late
    # 2026), due soon within the lead, else shown with its date.
    state = rows["webdb"]["state"]
    expected = (Status.VIOLATED if not state.supported else Status.DUE_SOON
                if state.days_left <= settings.SECMAN_OS_UPGRADE_LEAD_DAYS else Status.OK)
    assert rows["webdb"]["finding"].status == expected
    assert str(state.support_ends) in rows["webdb"]["finding"].message
