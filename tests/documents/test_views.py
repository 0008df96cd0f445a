"""The document pages, the side-by-side view, search and editing through the web."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from secman.authority.services import sign
from secman.documents.models import Draft
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db


def login(client, username: str) -> None:
    client.force_login(User.objects.get(username=username))


def pages(sp, sm):
    return [
        "/documents/", "/documents/import/", "/documents/compare/",
        "/documents/compare/?status=title+differs", "/documents/compare/?chapter=4",
        f"/documents/compare/?a={sm.reference}&b={sp.reference}",
        "/documents/search/?q=backup", "/documents/security-manual/",
        "/documents/security-policy/v/v1/", "/documents/security-manual/s/2.2.3.1/",
        "/documents/security-manual/s/2/", "/documents/security-policy/s/1.3/",
        "/documents/security-manual/diff/", "/documents/security-manual/s/2.2.3.1/edit/",
    ]


def test_it_serves_every_page_without_inline_scripts_or_styles(client, stored):
    sp, sm = stored
    login(client, "axel")
    for url in pages(sp, sm):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_it_sends_anonymous_readers_to_the_login_page(client, stored):
    sp, sm = stored
    for url in pages(sp, sm):
        assert client.get(url).status_code == 302, url


def test_it_lines_policy_and_manual_up_by_number(client, stored):
    login(client, "aud")
    html = client.get("/documents/compare/").content.decode()
    row = html[html.index('id="s2.2.3.1"'):]
    row = row[:row.index("</tr>")]
    assert "both" in row and "Provisioning" in row
    assert "Storage media (disk drives" in row and "Access Engineers maintain" in row
    # Chapter 2 has no title in the manual: the policy's is shown for both.
    chapter = html[html.index('id="s2"'):]
    assert 'class="borrowed"' in chapter[:chapter.index("</tr>")]
    assert "PHYSICAL SECURITY" in chapter[:chapter.index("</tr>")]
    assert "<details open" in html and "Editorial notes" in html


def test_it_filters_the_comparison_by_status_and_chapter(client, stored):
    login(client, "aud")
    html = client.get("/documents/compare/?status=empty+in+manual").content.decode()
    assert 'id="s4.1.1.1"' in html and 'id="s2.2.3.1"' not in html
    html = client.get("/documents/compare/?chapter=9").content.decode()
    assert 'id="s9.1.4.1"' in html and 'id="s2.2.3.1"' not in html


def test_it_links_search_results_to_the_side_by_side_view(client, stored):
    login(client, "aud")
    html = client.get("/documents/search/?q=retirement").content.decode()
    assert "/documents/compare/?a=security-policy@v1&amp;b=security-manual@v1#s2.2.3.3" in html
    assert "<mark>" in html


def test_it_exports_a_version(client, stored):
    login(client, "aud")
    response = client.get("/documents/security-policy/v/v1/export.md")
    assert response["Content-Disposition"] == 'attachment; filename="security-policy-v1.md"'
    assert "### 2.2.3 Media" in response.content.decode()
    html = client.get("/documents/security-policy/v/v1/export.html").content.decode()
    assert '<h4 id="s2.2.3.1">2.2.3.1 Provisioning</h4>' in html


def test_it_edits_and_publishes_a_section_through_the_web(client, stored, org):
    login(client, "axel")
    page = client.get("/documents/security-manual/s/2.2.3.3/").content.decode()
    assert "Edit as a draft" in page and "Access team leader" in page
    response = client.post("/documents/security-manual/s/2.2.3.3/edit/",
                           {"title": "Retirement", "text": "Shred.\n\nLog it."})
    draft = Draft.objects.get()
    assert response["Location"] == f"/documents/drafts/{draft.pk}/"
    response = client.post(f"/documents/drafts/{draft.pk}/",
                           {"action": "submit", "authority": "free text"})
    assert "free text is not an authority" in response.content.decode()
    response = client.post(f"/documents/drafts/{draft.pk}/",
                           {"action": "submit", "authority": "SP 2.2.3.3"})
    draft.refresh_from_db()
    assert draft.status == "submitted"
    sign(actor=org.abby, request=draft.signoff)
    page = client.get("/documents/security-manual/s/2.2.3.3/").content.decode()
    assert "<p>Shred.</p>" in page and "v2" in page
    assert Event.objects.filter(action="documents.publish").count() == 1


def test_it_hides_editing_from_those_who_may_not_edit(client, stored):
    login(client, "sue")
    page = client.get("/documents/security-manual/s/2.2.3.3/").content.decode()
    assert "Edit as a draft" not in page
    client.post("/documents/security-manual/s/2.2.3.3/edit/", {"title": "X", "text": "Y"})
    assert not Draft.objects.exists()  # the service refused, not only the template


def test_it_imports_through_the_web_and_shows_the_warnings(client, org, sm_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, "sam")
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("SecurityManual.txt", sm_bytes), "name": "Security Manual",
        "kind": "manual", "label": "", "format": "", "authority": ""}, follow=True)
    html = response.content.decode()
    assert "Document imported." in html and "9.3 &#x27;Legal&#x27;" in html
    response = client.post("/documents/import/", {
        "file": SimpleUploadedFile("x.html", b"<p>no heading</p>"), "name": "X",
        "kind": "procedure"})
    assert "x.html: no numbered headings" in response.content.decode()
