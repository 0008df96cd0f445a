"""Storing versions, drafting and publishing under four eyes, delegation, search."""

from __future__ import annotations

import pytest

from secman.authority.services import sign
from secman.core.errors import NotAllowed, RuleViolation
from secman.documents import services
from secman.documents.models import Document, Draft, Section, Version
from secman.documents.selectors import find_version, search
from secman.eventlog.models import Event
from secman.eventlog.verification import verify_chain

pytestmark = pytest.mark.django_db


def test_it_stores_an_import_with_its_event(stored):
    sp, sm = stored
    assert sp.section_count == 130 and sm.section_count == 149
    assert Section.objects.filter(version=sm).count() == 149
    section = Section.objects.get(version=sm, number="2.2.3.3")
    assert section.parent.number == "2.2.3" and section.parent.parent.number == "2.2"
    assert services.effective_owner(section) == "access"
    assert Section.objects.get(version=sm, number="2").notes.exists()
    event = Event.objects.get(action="documents.import", subject_id=str(sm.pk))
    assert event.authority == "SP 1.4.2" and event.details["sections"] == 149
    assert verify_chain() == []


def test_it_orders_sections_numerically(stored):
    _, sm = stored
    numbers = list(sm.sections.values_list("number", flat=True))
    assert numbers.index("9.5") < numbers.index("10") < numbers.index("10.1")


def test_it_writes_nothing_when_an_import_fails(org):
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match=r"bad\.html: line 2: section 1 appears twice"):
        services.import_document(actor=None, data=b"<h2>1. A</h2>\n<h2>1. A</h2>",
                                 filename="bad.html", name="Security Policy", kind="policy")
    with pytest.raises(RuleViolation, match="free text is not an authority"):
        services.import_document(actor=None, data=b"<h2>1. A</h2>", name="X", kind="policy",
                                 authority="because I say so")
    assert Event.objects.count() == before
    assert not Document.objects.exists() and not Section.objects.exists()


def test_it_makes_a_new_version_on_reimport_and_shows_what_changed(stored, sp_bytes):
    sp, _ = stored
    changed = sp_bytes.replace(b"Critical roles are covered.", b"Critical roles are all covered.")
    v2 = services.import_document(actor=None, data=changed, name="Security Policy",
                                  kind="policy", label="p20250101")
    assert v2.seq == 2 and sp.document.current == v2
    from secman.documents.compare import diff

    changes = diff(services.version_to_tree(sp), services.version_to_tree(v2))
    assert [(c.kind, c.label) for c in changes] == [("changed", "1.1.1")]
    assert ("+", "all ") in changes[0].words
    with pytest.raises(RuleViolation, match="already has a version 'p20250101'"):
        services.import_document(actor=None, data=changed, name="Security Policy",
                                 kind="policy", label="p20250101")
    with pytest.raises(RuleViolation, match="stored as a Security Policy"):
        services.import_document(actor=None, data=changed, name="Security Policy",
                                 kind="manual")


def test_it_refuses_imports_by_people_without_a_leading_role(org, sp_bytes):
    with pytest.raises(NotAllowed):
        services.import_document(actor=org.sue, data=sp_bytes, name="SP", kind="policy")
    version = services.import_document(actor=org.sam, data=sp_bytes, name="SP", kind="policy")
    assert version.created_by == org.sam


def test_it_publishes_a_manual_section_only_after_a_second_person_signs(stored, org):
    _, sm = stored
    manual = sm.document
    # 2.2.3.3 is managed by the Access Team (chapter 2): its leader is Axel.
    with pytest.raises(NotAllowed, match="Access team leader"):
        services.save_draft(actor=org.sam, document=manual, number="2.2.3.3",
                            title="Retirement", text="x")
    draft = services.save_draft(actor=org.axel, document=manual, number="2.2.3.3",
                                title="Retirement", text="Drives are shredded on site.")
    request = services.submit_draft(actor=org.axel, draft=draft, authority="SP 2.2.3.3")
    assert manual.current == sm  # not yet published
    with pytest.raises(RuleViolation, match="signed this request already"):
        sign(actor=org.axel, request=request)
    sign(actor=org.abby, request=request)
    new = manual.current
    assert new.seq == 2 and new.based_on == sm
    assert new.sections.get(number="2.2.3.3").text == "Drives are shredded on site."
    assert new.sections.get(number="2.2.3.2").text == sm.sections.get(number="2.2.3.2").text
    assert new.sections.get(number="2").notes.count() == sm.sections.get(number="2").notes.count()
    assert new.section_count == 149
    publish = Event.objects.get(action="documents.publish")
    assert publish.authority == "SP 2.2.3.3"
    assert {s["person"] for s in publish.signoffs} == {"Axel", "Abby"}
    draft.refresh_from_db()
    assert draft.status == "published" and draft.published_version == new


def test_it_needs_a_board_decision_to_change_the_policy(stored, org):
    sp, _ = stored
    draft = services.save_draft(actor=org.sam, document=sp.document, number="2.3.4",
                                title="Emergency Access", text="None.")
    with pytest.raises(RuleViolation, match="needs a board decision"):
        services.submit_draft(actor=org.sam, draft=draft, authority="SP 1.2")
    assert Draft.objects.get(pk=draft.pk).status == "draft"
    request = services.submit_draft(actor=org.sam, draft=draft,
                                    authority=org.decision.minute_id)
    with pytest.raises(NotAllowed):
        sign(actor=org.sue, request=request)  # not a Board member
    sign(actor=org.bea, request=request)
    assert sp.document.current.sections.get(number="2.3.4").text == "None."


def test_it_lets_a_leader_delegate_editing_to_a_team_member(stored, org):
    _, sm = stored
    manual = sm.document
    with pytest.raises(NotAllowed):
        services.save_draft(actor=org.abby, document=manual, number="2.1", title="Facility",
                            text="x")
    with pytest.raises(NotAllowed):
        services.delegate_editing(actor=org.sam, team="access", person=org.abby)
    with pytest.raises(RuleViolation, match="not a member"):
        services.delegate_editing(actor=org.axel, team="access", person=org.sue)
    delegation = services.delegate_editing(actor=org.axel, team="access", person=org.abby)
    assert services.save_draft(actor=org.abby, document=manual, number="2.1",
                               title="Facility", text="x")
    services.revoke_delegation(actor=org.axel, delegation=delegation)
    with pytest.raises(NotAllowed):
        services.save_draft(actor=org.abby, document=manual, number="2.1", title="Facility",
                            text="y")
    assert Event.objects.filter(action__startswith="documents.delegate").count() == 2


def test_it_refuses_to_publish_over_a_section_changed_meanwhile(stored, org):
    _, sm = stored
    manual = sm.document
    first = services.save_draft(actor=org.axel, document=manual, number="2.1",
                                title="Facility", text="One.")
    second = services.save_draft(actor=org.axel, document=manual, number="2.1",
                                 title="Facility", text="Two.")
    sign(actor=org.abby, request=services.submit_draft(actor=org.axel, draft=first,
                                                       authority="SP 2.1"))
    request = services.submit_draft(actor=org.axel, draft=second, authority="SP 2.1")
    versions = Version.objects.count()
    with pytest.raises(RuleViolation, match="changed in v2 after this draft was started"):
        sign(actor=org.abby, request=request)
    assert Version.objects.count() == versions


def test_it_searches_every_document_and_version(stored, sp_bytes):
    hits = search("backups encrypted")
    assert hits and {h.section.version.document.kind for h in hits} == {"policy", "manual"}
    assert any("<mark>" in h.snippet for h in hits)
    # Quotes and operators typed by the reader are plain words, not syntax.
    assert search('"; DROP TABLE documents_section; -- OR NEAR(') == []
    assert search("backups")
    services.import_document(actor=None, name="Security Policy", kind="policy",
                             data=sp_bytes.replace(b"Removing access", b"Zorbling access"))
    assert {h.section.version.label for h in search("zorbling")} == {"v2"}
    assert {(h.section.version.document.kind, h.section.version.label)
            for h in search("removing access") if h.section.number == "3.4.4"} == {
        ("policy", "v1"), ("manual", "v1")}


def test_it_finds_stored_versions_by_name_slug_and_label(stored):
    sp, sm = stored
    assert find_version("Security Policy") == sp
    assert find_version("security-manual@v1") == sm
    assert find_version("SM") == sm
    assert find_version("nothing") is None
