"""Issue 13, finding 5: every page that takes an upload refuses whoever may not post to
it before anything reads the body (core.views.refused_before_the_body), with the CSRF
check enforced as a browser meets it: that check is what used to read the upload first.
Those who may post still need the CSRF token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from secman.compliance import services as compliance
from secman.compliance.models import Duty, Occurrence, OccurrenceStatus
from secman.eventlog.models import Event
from secman.physical.models import Computer, Media

pytestmark = pytest.mark.django_db

BIG = b"x" * 3_000_000  # above Django's in-memory limit: it would go to a temporary file


def browser(login: str) -> Client:
    """Signed in, CSRF enforced, and holding the CSRF cookie a browser has once it has
    opened any page: with it, Django's CSRF pass reads the post to compare the token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username=login))
    client.get("/")
    assert "csrftoken" in client.cookies
    return client


def never_read(response) -> None:
    request = response.wsgi_request
    assert not request._read_started
    assert "_files" not in request.__dict__ and "_post" not in request.__dict__


@pytest.fixture
def open_review(org) -> Occurrence:
    started = timezone.now() - dt.timedelta(days=3)
    compliance.sync_duties(now=started)
    Duty.objects.update(starts_at=started)
    compliance.generate_occurrences()
    return Occurrence.objects.filter(duty__control_id="logs.automated_review",
                                     status=OccurrenceStatus.OPEN).first()


def upload_pages(occurrence: Occurrence) -> dict[str, str]:
    return {"computers": "/physical/computers/import/", "media": "/physical/media/import/",
            "documents": "/documents/import/", "occurrence": occurrence.get_absolute_url()}


@pytest.mark.parametrize(("page", "login", "said"), [
    ("computers", "aud", "Access Engineers and Systems Administrators (SP 2.2.1)"),
    ("media", "bea", "Access Engineers and Systems Administrators (SP 2.2.1)"),
    ("documents", "abby", "import documents (SP 1.4)"),
    # An Access Engineer is not in the team that reviews the logs, nor its leader.
    ("occurrence", "axel", "complete its duties"),
])
def test_whoever_may_not_post_an_upload_is_refused_before_it_is_read(org, open_review, page,
                                                                      login, said):
    before = Event.objects.count()
    response = browser(login).post(upload_pages(open_review)[page], {
        "file": SimpleUploadedFile("big.csv", BIG),
        "evidence_file": SimpleUploadedFile("big.txt", BIG), "note": "x"})
    assert response.status_code == 403
    assert said in response.content.decode()
    never_read(response)
    assert Event.objects.count() == before
    open_review.refresh_from_db()
    assert open_review.status == OccurrenceStatus.OPEN


@pytest.mark.parametrize(("page", "login"), [("computers", "aud"), ("media", "bea")])
def test_the_import_form_is_not_shown_to_whoever_may_not_import(org, page, login):
    assert browser(login).get(f"/physical/{page}/import/").status_code == 403


def test_who_may_import_still_needs_the_csrf_token(org, open_review):
    client = browser("axel")  # an Access Engineer: imports the inventory
    page = client.get("/physical/computers/import/")
    assert page.status_code == 200
    csv = (b"asset_tag,nickname,vendor,model,serial_number,maintenance_contact,"
           b"rack_location,intended_use,legal_owner,acquisition_notes\n"
           b"CA-9,alpha,V,M,S,c,r,u,,\n")
    assert client.post("/physical/computers/import/", {
        "file": SimpleUploadedFile("c.csv", csv), "authority": "SP 2.2.1"}).status_code == 403
    assert not Computer.objects.exists() and not Media.objects.exists()
    response = client.post("/physical/computers/import/", {
        "file": SimpleUploadedFile("c.csv", csv), "authority": "SP 2.2.1",
        "csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 200 and "1 imported" in response.content.decode()
    assert Computer.objects.filter(asset_tag="CA-9").exists()


def test_who_may_complete_a_duty_still_needs_the_csrf_token(org, open_review):
    client = browser("sam")  # leads the team that reviews the logs
    page = client.get(open_review.get_absolute_url())
    form = {"note": "Read it; nothing unusual.", "authority": "SM 4.2.3",
            "evidence_file": SimpleUploadedFile("review.txt", b"review output\n")}
    assert client.post(open_review.get_absolute_url(), form).status_code == 403
    open_review.refresh_from_db()
    assert open_review.status == OccurrenceStatus.OPEN
    form["evidence_file"].seek(0)
    form["csrfmiddlewaretoken"] = page.context["csrf_token"]
    assert client.post(open_review.get_absolute_url(), form).status_code == 302
    open_review.refresh_from_db()
    assert open_review.status == OccurrenceStatus.DONE


def test_a_post_to_an_occurrence_that_does_not_exist_is_not_read_either(org):
    response = browser("sam").post("/compliance/occurrences/999999/", {
        "evidence_file": SimpleUploadedFile("big.txt", BIG), "note": "x"})
    assert response.status_code == 404
    never_read(response)


def test_a_login_without_a_person_is_refused_before_its_upload_is_read(org):
    # The predicates read "no person" as the command line's operator, who may import.
    get_user_model().objects.create_user("orphan", password="orphan-password-123")
    response = browser("orphan").post("/documents/import/", {
        "file": SimpleUploadedFile("big.html", BIG), "name": "X", "kind": "policy"})
    assert response.status_code == 403
    assert "not linked to a person" in response.content.decode()
    never_read(response)
