"""Controls over the documents themselves: the SP and SM line up section by section
(SP 1.4.2), every practice has an owner team, open work is visible, and the texts are
reviewed. They read the current versions of the first Security Policy and Security Manual,
the pair the side-by-side view shows."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.documents.choices import DocumentKind, MarkerKind
from secman.documents.models import Marker, Section, Version
from secman.documents.selectors import default_pair

REVIEW_WARNING = dt.timedelta(days=30)


def _missing(kind: str) -> Finding:
    label = DocumentKind(kind).label
    return Finding("SP 1.4.2", f"no {label} is imported: import it with `secman docs import`",
                   reverse("documents:index"), Status.NOT_EVIDENCED, f"document:{kind}")


def counterpart_findings() -> list[Finding]:
    """SP 1.4.2: every SP section has an SM section with the same number, unless it is
    accepted as policy-only (an acceptance 'not applicable' for `section:SP n`)."""
    policy, manual = default_pair()
    if policy is None or manual is None:
        return [_missing(kind) for kind, version in
                ((DocumentKind.POLICY, policy), (DocumentKind.MANUAL, manual)) if version is None]
    in_manual = set(manual.sections.values_list("number", flat=True))
    return [
        Finding(f"SP {number}", f"SP {number} {title} has no counterpart in the Security "
                "Manual: describe the practice or accept it as policy-only",
                reverse("documents:compare") + f"#s{number}", Status.NOT_EVIDENCED,
                f"section:SP {number}")
        for number, title in policy.sections.order_by("sort_key")
        .values_list("number", "title") if number not in in_manual
    ]


def procedure_findings() -> list[Finding]:
    """Sections of the manual marked PROCEDURE: the procedure is still to be written."""
    _policy, manual = default_pair()
    if manual is None:
        return [_missing(DocumentKind.MANUAL)]
    markers = (Marker.objects.filter(section__version=manual, kind=MarkerKind.PROCEDURE)
               .select_related("section__version__document").order_by("section__sort_key"))
    return [Finding(f"SM {m.section.number}", f"SM {m.section.number} {m.section.title}: "
                    f"procedure still to be written ({m.text[:120]})",
                    m.section.get_absolute_url(), Status.WARNING,
                    f"procedure:SM {m.section.number}") for m in markers]


def owner_findings() -> list[Finding]:
    """Every SM section is managed by a team: its own "managed by" line or an ancestor's."""
    _policy, manual = default_pair()
    if manual is None:
        return [_missing(DocumentKind.MANUAL)]
    rows = list(manual.sections.order_by("sort_key").values_list("pk", "parent_id", "owner",
                                                                  "number", "title"))
    owner_of = {pk: owner for pk, _parent, owner, _n, _t in rows}
    parent_of = {pk: parent for pk, parent, _o, _n, _t in rows}

    def effective(pk: int | None) -> str:
        while pk is not None:
            if owner_of.get(pk):
                return owner_of[pk]
            pk = parent_of.get(pk)
        return ""

    slug = manual.document.slug
    return [Finding(f"SM {number}", f"SM {number} {title} has no owner team",
                    reverse("documents:section", args=[slug, number]), Status.VIOLATED,
                    f"section:SM {number}")
            for pk, _parent, _owner, number, title in rows if not effective(pk)]


def last_changed(version: Version) -> dict[str, dt.datetime]:
    """For each section of a version, when its current text was first published: walking
    the document's versions oldest first, a section's date moves on when its text changes."""
    since: dict[str, tuple[str, dt.datetime]] = {}
    versions = version.document.versions.filter(seq__lte=version.seq).order_by("seq")
    for older in versions:
        for number, title, text in Section.objects.filter(version=older).values_list(
                "number", "title", "text"):
            digest = hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()
            if number not in since or since[number][0] != digest:
                since[number] = (digest, older.created_at)
    numbers = set(version.sections.values_list("number", flat=True))
    return {number: when for number, (_d, when) in since.items() if number in numbers}


def review_findings() -> list[Finding]:
    """A section whose text has not changed for SECMAN_REVIEW_AFTER_DAYS is due for
    review: publish a reviewed version (even unchanged wording is re-published by a draft)
    or accept the age with authority."""
    findings = []
    limit = dt.timedelta(days=settings.COMPLIANCE_REVIEW_DAYS)
    now = timezone.now()
    for version in default_pair():
        if version is None:
            continue
        short = "SP" if version.document.kind == DocumentKind.POLICY else "SM"
        for number, changed in sorted(last_changed(version).items()):
            age = now - changed
            if age < limit - REVIEW_WARNING:
                continue
            status = Status.OVERDUE if age >= limit else Status.DUE_SOON
            findings.append(Finding(
                f"{short} {number}", f"{short} {number} unchanged since {changed:%Y-%m-%d}: "
                f"due for review {(changed + limit):%Y-%m-%d}",
                reverse("documents:section", args=[version.document.slug, number]), status,
                f"review:{short} {number}"))
    return findings


CONTROLS = [
    Control("documents.counterparts", ("SP 1.4.2",),
            "Every section of the Security Policy has its counterpart in the Security Manual, "
            "or is accepted as policy-only.", TeamKind.BOARD, check=counterpart_findings),
    Control("documents.procedures", ("SP 1.4.2",),
            "Sections of the manual marked PROCEDURE are open work until the procedure is "
            "written.", TeamKind.SYSTEMS_ADMINISTRATION, check=procedure_findings),
    Control("documents.owners", ("SP 1.4.2", "SP 9.1.1"),
            "Every section of the Security Manual has an owner team.", TeamKind.BOARD,
            check=owner_findings),
    Control("documents.reviewed", ("SP 1.4.2",),
            "The SP and SM are reviewed: no section goes unchanged for longer than the review "
            "period without a review.", TeamKind.BOARD, check=review_findings),
]
