"""The document import form (issue 13, finding 5): permission first, before anything reads
the upload; the file capped at the importers' limit; how the headings were numbered shown
on the result page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from secman.documents.importers import MAX_BYTES
from secman.documents.models import Version
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    # CSRF enforced as in a browser: the CSRF check is what used to read the upload.
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_a_member_who_may_not_import_is_refused_before_the_upload_is_read(org):
    client = signed_in("abby")  # an Access Engineer, not a team leader
    assert client.get("/documents/import/").status_code == 403
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("big.html", b"<h2>1. A</h2>" + b"x" * 3_000_000),
        "name": "X", "kind": "policy"})
    assert response.status_code == 403
    assert "import documents (SP 1.4)" in response.content.decode()
    request = response.wsgi_request
    assert not request._read_started
    assert "_files" not in request.__dict__ and "_post" not in request.__dict__
    assert not Version.objects.exists()
    assert not Event.objects.filter(action="documents.import").exists()


def test_a_team_leader_still_needs_the_csrf_token(org):
    client = signed_in("axel")
    page = client.get("/documents/import/")
    assert page.status_code == 200
    upload = {"file": SimpleUploadedFile("p.html", b"<h2>Intro</h2><p>x</p>"),
              "name": "Procedure X", "kind": "procedure"}
    assert client.post("/documents/import/", upload).status_code == 403  # no token
    assert not Version.objects.exists()
    upload["file"].seek(0)
    upload["csrfmiddlewaretoken"] = page.context["csrf_token"]
    response = client.post("/documents/import/", upload, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Document imported." in html
    assert "1 sections; headings numbered by their structure (no heading carried a " \
           "number)." in html
    version = Version.objects.get()
    assert version.numbering == "structure"
    assert "Numbering</dt><dd>headings numbered by their structure" in html
    assert Event.objects.get(action="documents.import").details["numbering"] == "structure"


def test_the_form_chooses_the_numbering(org):
    client = signed_in("axel")
    token = client.get("/documents/import/").context["csrf_token"]
    html = b'<h1>T</h1><h2 id="sec-4">Ops</h2><p>x</p><h3 id="sec-4.1">Keys</h3><p>y</p>'
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("p.html", html), "name": "P", "kind": "procedure",
        "numbering": "structure", "csrfmiddlewaretoken": token}, follow=True)
    assert "headings numbered by their structure" in response.content.decode()
    assert list(Version.objects.get().sections.values_list("number", flat=True)) == [
        "1", "1.1"]
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("p.html", html), "name": "P", "kind": "procedure",
        "numbering": "auto", "csrfmiddlewaretoken": token}, follow=True)
    assert "headings numbered by their anchors (id/name)" in response.content.decode()
    assert list(Version.objects.get(seq=2).sections.values_list("number", flat=True)) == [
        "4", "4.1"]


def test_a_file_over_the_importers_limit_is_refused_before_it_is_read(org):
    client = signed_in("axel")
    token = client.get("/documents/import/").context["csrf_token"]
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("big.html", b"<h2>1. A</h2>" + b"x" * MAX_BYTES),
        "name": "X", "kind": "policy", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "big.html: the file has 8.0 MB; secman reads documents of up to 8.0 MB" in \
        response.content.decode()
    assert not Version.objects.exists()
