"""The side-by-side view renders the rows of a pair of versions once (versions never
change); a new version is a new pair. Speed itself is measured in benchmarks/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from secman.authority.services import sign
from secman.documents import services
from secman.documents.models import Document

pytestmark = pytest.mark.django_db


def test_it_reads_the_sections_of_a_pair_once(client, org, stored):
    client.force_login(org.aud.user)
    first = client.get("/documents/compare/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/documents/compare/").content.decode()
    # The same page (after the header, whose logout form has a fresh CSRF token).
    assert again.split("<main>")[1] == first.split("<main>")[1]
    # Building the rows reads every section's cross-references; the compliance column's
    # controls (evaluated afresh in a test's transaction) read sections, not those.
    assert not [q for q in queries.captured_queries if "documents_crossreference" in q["sql"]]


def test_it_shows_a_newly_published_version_beside_the_other_document(client, org, stored):
    client.force_login(org.aud.user)
    assert "Shred it twice." not in client.get("/documents/compare/").content.decode()
    manual = Document.objects.get(kind="manual")
    draft = services.save_draft(actor=org.axel, document=manual, number="2.2.3.3",
                                title="Retirement", text="Shred it twice.")
    sign(actor=org.abby, request=services.submit_draft(actor=org.axel, draft=draft,
                                                       authority="SP 2.2.3.3"))
    page = client.get("/documents/compare/").content.decode()
    row = page[page.index('id="s2.2.3.3"'):]
    assert "Shred it twice." in row[:row.index("</tr>")]
    assert "security-manual@v2" in page
