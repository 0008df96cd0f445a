"""The compliance pages: the dashboard, a control, an occurrence completed through its
form with a file, evidence only for those who may read it, the third column of the
side-by-side view and the Today page."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from secman.compliance import services
from secman.compliance.models import Acceptance, Duty, Occurrence, OccurrenceStatus
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def duties(org):
    started = timezone.now() - dt.timedelta(days=3)
    services.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    services.generate_occurrences()


def overdue_review() -> Occurrence:
    return Occurrence.objects.filter(duty__control_id="logs.automated_review",
                                     due_at__lte=timezone.now(),
                                     status=OccurrenceStatus.OPEN).first()


@pytest.mark.parametrize("login", ["sam", "bea", "aud", "axel"])
def test_the_dashboard_shows_every_chapter_with_its_status(client, org, duties, login):
    client.force_login(org.people[login].user)
    page = client.get("/compliance/").content.decode()
    for chapter in ("1", "2", "4", "5", "9"):
        assert f'id="chapter-{chapter}"' in page
    assert 'class="badge st-overdue"' in page  # the automated review is overdue
    assert "/compliance/controls/logs.automated_review/" in page


def test_completing_an_overdue_occurrence_through_its_form(client, org, duties):
    occurrence = overdue_review()
    client.force_login(org.sam.user)
    page = client.get(occurrence.get_absolute_url()).content.decode()
    assert 'id="complete"' in page and "Overdue" in page
    before = Event.objects.count()
    refused = client.post(occurrence.get_absolute_url(), {"note": "", "authority": ""})
    assert "completed with evidence" in refused.content.decode()
    assert Event.objects.count() == before
    content = b"review output\n"
    response = client.post(occurrence.get_absolute_url(), {
        "note": "Read it; nothing unusual.", "authority": "SM 4.2.3",
        "evidence_file": SimpleUploadedFile("review.txt", content)})
    assert response.status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE
    assert occurrence.evidence_sha256 == hashlib.sha256(content).hexdigest()
    download = client.get(f"{occurrence.get_absolute_url()}evidence/")
    assert b"".join(download.streaming_content) == content


@pytest.mark.parametrize(("login", "status"), [("sue", 200), ("bea", 200), ("aud", 200),
                                               ("axel", 403), ("pia", 403)])
def test_evidence_files_are_for_the_team_the_board_and_auditors(client, org, duties, login,
                                                                status):
    occurrence = services.complete_occurrence(actor=org.sam, occurrence=overdue_review(),
                                              note="ok", evidence=("r.txt", b"x"))
    client.force_login(org.people[login].user)
    assert client.get(f"{occurrence.get_absolute_url()}evidence/").status_code == status


def test_other_teams_see_no_completion_form(client, org, duties):
    client.force_login(org.axel.user)
    assert 'id="complete"' not in client.get(overdue_review().get_absolute_url()).content.decode()


def test_an_exception_is_accepted_through_the_control_page(client, org):
    client.force_login(org.bea.user)
    url = "/compliance/controls/people.redundancy/accept/"
    refused = client.post(url, {"kind": "exception", "reason": "recruiting",
                                "authority": org.decision.minute_id}, follow=True)
    assert "needs an expiry date" in refused.content.decode()
    assert not Acceptance.objects.exists()
    expires = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    client.post(url, {"kind": "exception", "reason": "recruiting", "subject": "team:support",
                      "expires_on": expires, "authority": org.decision.minute_id})
    page = client.get("/compliance/").content.decode()
    assert "recruiting" in page and org.decision.minute_id in page


def test_the_control_page_refuses_a_malformed_schedule(client, org, duties):
    client.force_login(org.sam.user)
    response = client.post("/compliance/controls/logs.automated_review/schedule/",
                           {"schedule": "0 25 * * *", "authority": "SM 4.2.3"}, follow=True)
    assert "malformed" in response.content.decode()
    assert Duty.objects.get(control_id="logs.automated_review").schedule == "daily"


def test_posts_need_the_csrf_token(org, duties):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.sam.user)
    assert client.post(overdue_review().get_absolute_url(),
                       {"note": "x"}).status_code == 403


def test_today_shows_my_duties_and_my_teams_failures(client, org, duties):
    client.force_login(org.sam.user)
    page = client.get("/").content.decode()
    assert "My duties" in page
    assert overdue_review().get_absolute_url() in page
    assert "/compliance/controls/eventlog.verified/" in page  # never verified: not evidenced
    client.force_login(org.axel.user)
    assert overdue_review().get_absolute_url() not in client.get("/").content.decode()


def test_the_side_by_side_view_has_the_compliance_column(client, org, stored):
    client.force_login(org.aud.user)
    page = client.get("/documents/compare/").content.decode()
    assert "<th>Compliance</th>" in page
    assert "/compliance/controls/documents.owners/" in page
    assert 'class="badge st-violated"' in page
