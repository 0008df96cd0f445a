"""Finding documents, versions and sections the same way for views and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from secman.documents.choices import DocumentKind
from secman.documents.models import Document, Section, Version


def find_version(reference: str) -> Version | None:
    """"security-manual", "Security Manual", "security-manual@v2" or "SM@v2"."""
    name, _, label = (reference or "").strip().partition("@")
    short = {"sp": DocumentKind.POLICY, "sm": DocumentKind.MANUAL}.get(name.lower())
    documents = Document.objects.filter(Q(slug=name) | Q(name__iexact=name))
    if short and not documents.exists():
        documents = Document.objects.filter(kind=short).order_by("created_at")
    document = documents.first()
    if document is None:
        return None
    versions = document.versions.select_related("document")
    return versions.filter(label=label).first() if label else versions.order_by("-seq").first()


def default_pair() -> tuple[Version | None, Version | None]:
    """SP left, SM right: the first document of each kind, latest versions."""
    def latest(kind: str) -> Version | None:
        document = Document.objects.filter(kind=kind).order_by("created_at").first()
        return document.current if document else None

    return latest(DocumentKind.POLICY), latest(DocumentKind.MANUAL)


@dataclass
class Hit:
    section: Section
    snippet: str  # safe HTML with <mark>


START, STOP = "\x02", "\x03"


def search(query: str, limit: int = 50) -> list[Hit]:
    """Full text across every document and version: FTS5 on SQLite, tsvector on
    PostgreSQL. Words are matched all together; operators typed by the reader are text."""
    words = re.findall(r"\w+", query or "")[:20]
    if not words:
        return []
    if connection.vendor == "sqlite":
        match = " ".join('"' + word.replace('"', "") + '"' for word in words)
        sql = (
            "SELECT documents_section_fts.rowid, "
            "snippet(documents_section_fts, 1, char(2), char(3), ' … ', 16) "
            "FROM documents_section_fts WHERE documents_section_fts MATCH %s "
            "ORDER BY bm25(documents_section_fts, 4.0, 1.0) LIMIT %s"
        )
        params: list[str | int] = [match, limit]
    else:
        sql = (
            "SELECT s.id, ts_headline('english', s.text, q, 'StartSel=' || chr(2) || "
            "', StopSel=' || chr(3) || ', MaxWords=30, MinWords=12') "
            "FROM documents_section s, plainto_tsquery('english', %s) q "
            "WHERE to_tsvector('english', s.title || ' ' || s.text) @@ q "
            "ORDER BY ts_rank(to_tsvector('english', s.title || ' ' || s.text), q) DESC, s.id "
            "LIMIT %s"
        )
        params = [" ".join(words), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    sections = Section.objects.select_related("version__document").in_bulk(
        [row[0] for row in found])
    hits = []
    for pk, snippet in found:
        if pk in sections:
            safe = escape(snippet or "", quote=False).replace(START, "<mark>").replace(
                STOP, "</mark>")
            hits.append(Hit(sections[pk], safe))
    return hits


def compare_link(section: Section) -> str:
    """The side-by-side view with this section's version on its side, at its anchor."""
    version = section.version
    policy, manual = default_pair()
    if version.document.kind == DocumentKind.POLICY:
        a, b = version.reference, (manual.reference if manual else "")
    elif version.document.kind == DocumentKind.MANUAL:
        a, b = (policy.reference if policy else ""), version.reference
    else:
        return section.get_absolute_url()
    return f"{reverse('documents:compare')}?a={a}&b={b}#s{section.number}"


def resolve_reference(version: Version, target_document: str, number: str,
                      own_number: str) -> str:
    """A link for a cross-reference to a section secman holds, or ""."""
    if target_document in ("CPS", "DRC"):
        return ""
    if target_document in ("SP", "SM"):
        kind = DocumentKind.POLICY if target_document == "SP" else DocumentKind.MANUAL
        document = Document.objects.filter(kind=kind).order_by("created_at").first()
        number = number or own_number  # "As in SP.": the same section over there
    else:
        document = version.document
    if document is None or not number:
        return ""
    target = document.current
    if target is None or not target.sections.filter(number=number).exists():
        return ""
    return reverse("documents:section", args=[document.slug, number])
