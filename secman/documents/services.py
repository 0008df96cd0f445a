"""Documents: the only place that changes them. Importing a version, drafting a section,
publishing it under four eyes, delegating editing. Each function checks who is asking,
validates, writes, and records one Event Log entry in the same transaction; a refused or
failed action writes nothing."""

from __future__ import annotations

import hashlib
from html import escape

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from secman.authority.models import Authority, SignOffRequest
from secman.authority.services import (
    request_signoff,
    resolve_authority,
    sign,
    signoff_summary,
    withdraw_signoff,
)
from secman.authority.signoff import Requirement, four_eyes, register
from secman.core.authorities import AuthorityKind
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import TEAM_ROLES, Role, TeamKind
from secman.core.validation import check_text
from secman.documents import tree
from secman.documents.choices import GOVERNING_SECTION, DocumentKind, DraftStatus
from secman.documents.importers import parse
from secman.documents.models import (
    CrossReference,
    Document,
    Draft,
    EditDelegation,
    Marker,
    Note,
    Section,
    Version,
)
from secman.eventlog.services import record
from secman.people.models import Person
from secman.people.selectors import holds_any, is_administrator, is_member, leads

PUBLISH = "documents.publish"


def _check_text(value: str, what: str) -> str:
    if "\x00" in value:
        raise RuleViolation(f"{what} contains a NUL character", field=what)
    return value


# --- importing ------------------------------------------------------------------------------


def may_import(actor: Person | None) -> bool:
    """The command line (actor None, run by the operator), the administrator, team
    leaders and Board members."""
    return actor is None or is_administrator(actor) or holds_any(
        actor, Role.TEAM_LEADER, Role.BOARD_MEMBER)


def import_document(
    *,
    actor: Person | None,
    data: bytes,
    name: str,
    kind: str,
    filename: str = "",
    label: str = "",
    format: str | None = None,
    numbering: str = "auto",
    authority: str | Authority | None = None,
) -> Version:
    """Read `data` and store it as the next version of the document `name`. Nothing is
    written unless the whole file reads cleanly. `numbering` says where the headings'
    numbers come from (importers.NUMBERINGS); the version records which was used."""
    if not may_import(actor):
        raise NotAllowed("only team leaders, Board members and the administrator import "
                         "documents", section="SP 1.4")
    if kind not in DocumentKind.values:
        raise RuleViolation(f"{kind!r} is not a kind of document: use policy, manual or "
                            "procedure", field="kind")
    name = " ".join((name or "").split())
    if not name:
        raise RuleViolation("a document needs a name, e.g. 'Security Manual'", field="name")
    label = " ".join((label or "").split())
    check_text(Document, {"name": name})
    check_text(Version, {"label": label})
    try:
        parsed = parse(data, filename=filename, format=format, numbering=numbering)
    except tree.DocumentError as exc:
        raise RuleViolation(f"{filename or 'the file'}: {exc}", field="file") from None
    with transaction.atomic():
        authority_row = resolve_authority(authority or GOVERNING_SECTION[DocumentKind(kind)])
        document = Document.objects.select_for_update().filter(name=name).first()
        if document is None:
            document = Document.objects.create(name=name, kind=kind, slug=_free_slug(name))
        elif document.kind != kind:
            raise RuleViolation(
                f"{name!r} is stored as a {document.get_kind_display()}, not a "
                f"{DocumentKind(kind).label}", field="kind")
        seq = (document.versions.order_by("-seq").values_list("seq", flat=True).first()
               or 0) + 1
        label = label or f"v{seq}"
        if document.versions.filter(label=label).exists():
            raise RuleViolation(f"{name} already has a version {label!r}", field="label")
        version = Version.objects.create(
            document=document, seq=seq, label=label, title=parsed.title[:300],
            source_name=(parsed.source_name or filename)[:300], source_format=parsed.format,
            source_sha256=hashlib.sha256(data).hexdigest(),
            source_version=parsed.version[:300], created_by=actor, authority=authority_row,
            warnings=parsed.warnings[:200], section_count=len(parsed.sections),
            numbering=parsed.numbering,
        )
        store_sections(version, parsed.sections)
        record(
            "documents.import", actor=actor, authority=authority_row, subject=version,
            details={"document": name, "kind": kind, "version": label,
                     "file": version.source_name, "format": parsed.format,
                     "sha256": version.source_sha256, "sections": len(parsed.sections),
                     "numbering": parsed.numbering,
                     "warnings": len(parsed.warnings)},
        )
    return version


def _free_slug(name: str) -> str:
    base = slugify(name)[:70] or "document"
    slug, n = base, 1
    while Document.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def store_sections(version: Version, sections: list[tree.Section]) -> None:
    """Bulk-write a parsed tree, parents before children, so a 5 MB document takes one
    INSERT per level and table rather than one per row."""
    rows: dict[tree.Number, Section] = {}
    for level in sorted({s.level for s in sections}):
        batch = []
        for parsed in sections:
            if parsed.level != level:
                continue
            parent = rows.get(parsed.number[:-1]) if level > 1 else None
            row = Section(
                version=version, number=parsed.label, sort_key=tree.sort_key(parsed.number),
                level=level, parent=parent, title=_check_text(parsed.title[:500], "title"),
                text=_check_text(parsed.text, "text"), html=_check_text(parsed.html, "html"),
                owner=parsed.owner, owner_text=parsed.owner_text[:200],
            )
            rows[parsed.number] = row
            batch.append(row)
        Section.objects.bulk_create(batch, batch_size=500)
    notes, markers, references = [], [], []
    for parsed in sections:
        row = rows[parsed.number]
        notes += [Note(section=row, position=i, text=_check_text(n.text, "note"),
                       html=_check_text(n.html, "note")) for i, n in enumerate(parsed.notes)]
        markers += [Marker(section=row, kind=kind, text=text[:300])
                    for kind, text in parsed.markers]
        references += [CrossReference(section=row, text=r.text[:100],
                                      target_document=r.document, target_number=r.number[:40])
                       for r in parsed.references]
    Note.objects.bulk_create(notes, batch_size=500)
    Marker.objects.bulk_create(markers, batch_size=500)
    CrossReference.objects.bulk_create(references, batch_size=500)


# --- who may edit what ----------------------------------------------------------------------


def effective_owner(section: Section) -> str:
    """The team that manages a section: its own "managed by" line or its nearest
    ancestor's."""
    current: Section | None = section
    while current is not None:
        if current.owner:
            return current.owner
        current = current.parent
    return ""


def is_delegate(person: Person, team: str) -> bool:
    return (EditDelegation.objects.filter(team=team, person=person, revoked_at__isnull=True)
            .exists() and is_member(person, team))


def may_edit(person: Person | None, document: Document, section: Section | None) -> bool:
    """SP changes: Board members and team leaders draft. SM and procedures: the owning
    team's leader or a member they delegated; sections nobody owns: any team leader."""
    if person is None:
        return False
    if document.kind == DocumentKind.POLICY:
        return holds_any(person, Role.BOARD_MEMBER, Role.TEAM_LEADER)
    owner = effective_owner(section) if section is not None else ""
    if owner:
        return leads(person, owner) or is_delegate(person, owner)
    return holds_any(person, Role.TEAM_LEADER, Role.BOARD_MEMBER)


def may_change_draft(person: Person | None, draft: Draft) -> bool:
    """Change a draft: its author, while it is a draft."""
    return (person is not None and draft.author_id == person.pk
            and draft.status == DraftStatus.DRAFT)


def _why_not_submit(person: Person, draft: Draft, section: Section) -> NotAllowed | None:
    if draft.author_id != person.pk:
        return NotAllowed("only the author submits a draft")
    if not may_edit(person, draft.document, section):
        return NotAllowed("you may no longer edit this section", section="SP 1.4.2")
    return None


def may_submit_draft(person: Person | None, draft: Draft) -> bool:
    """Submit a draft for publishing: its author, while they may still edit the section."""
    if person is None or draft.status != DraftStatus.DRAFT or draft.author_id != person.pk:
        return False
    version = draft.document.current
    section = version.sections.filter(number=draft.number).first() if version else None
    return section is not None and _why_not_submit(person, draft, section) is None


def may_withdraw_draft(person: Person | None, draft: Draft) -> bool:
    """Withdraw a draft: its author, while it is a draft or waits for its sign-off."""
    return (person is not None and draft.author_id == person.pk
            and draft.status in (DraftStatus.DRAFT, DraftStatus.SUBMITTED))


def may_delegate(person: Person | None, team: str) -> bool:
    """Let a member edit the team's sections (SP 1.4.2): the team's leader."""
    return leads(person, team)


def may_revoke_delegation(person: Person | None, delegation: EditDelegation) -> bool:
    """End a delegation: the team's leader, or the delegate."""
    return person is not None and (leads(person, delegation.team)
                                   or delegation.person_id == person.pk)


def requirement_for(document: Document, owner: str) -> Requirement:
    """Four eyes: the editor signs as executor, a second person observes. For the policy
    the second person is a Board member."""
    if document.kind == DocumentKind.POLICY:
        return four_eyes(executor={Role.BOARD_MEMBER, Role.TEAM_LEADER},
                         observer={Role.BOARD_MEMBER})
    team_roles = set(TEAM_ROLES.get(owner, ())) if owner else set()
    return four_eyes(executor={Role.TEAM_LEADER, Role.BOARD_MEMBER} | team_roles,
                     observer={Role.TEAM_LEADER, Role.BOARD_MEMBER} | team_roles)


# --- drafts and publishing ------------------------------------------------------------------


def _section_of(document: Document, number: str) -> tuple[Version, Section]:
    version = document.current
    if version is None:
        raise RuleViolation(f"{document} has no version yet: import it first")
    section = version.sections.select_related("parent").filter(number=number).first()
    if section is None:
        raise RuleViolation(f"{document} {version.label} has no section {number}",
                            field="number")
    return version, section


def save_draft(
    *, actor: Person, document: Document, number: str, title: str, text: str,
    draft: Draft | None = None,
) -> Draft:
    """Start or change a draft of one section."""
    version, section = _section_of(document, number)
    if not may_edit(actor, document, section):
        owner = effective_owner(section)
        who = (f"the {TeamKind(owner).label} team leader or a member they delegated"
               if owner and document.kind != DocumentKind.POLICY
               else "Board members and team leaders" if document.kind == DocumentKind.POLICY
               else "team leaders")
        raise NotAllowed(f"only {who} edit {document.short} {number}", section="SP 1.4.2")
    title = " ".join((title or "").split())
    if not title:
        raise RuleViolation("a section keeps a title", field="title")
    text = (text or "").replace("\r\n", "\n").strip()
    check_text(Draft, {"title": title, "text": text})
    with transaction.atomic():
        if draft is None:
            draft = Draft(document=document, number=number, base_version=version,
                          author=actor)
        else:
            draft = Draft.objects.select_for_update().get(pk=draft.pk)
            if draft.author_id != actor.pk:
                raise NotAllowed("only the author changes a draft; start your own")
            if draft.status != DraftStatus.DRAFT:
                raise RuleViolation(f"this draft is {draft.get_status_display().lower()} "
                                    "and can no longer be changed")
        draft.title, draft.text, draft.updated_at = title, text, timezone.now()
        draft.save()
        record("documents.draft.save", actor=actor,
               authority=GOVERNING_SECTION[DocumentKind(document.kind)], subject=draft,
               details={"document": document.name, "section": number, "title": title,
                        "base_version": version.label, "characters": len(text)})
    return draft


def submit_draft(*, actor: Person, draft: Draft, authority: str | Authority) -> SignOffRequest:
    """Ask for the second person. The author signs as executor at once; the section is
    published when someone else signs as observer. The policy needs a Board decision."""
    if draft.author_id != actor.pk:
        raise NotAllowed("only the author submits a draft")
    if draft.status != DraftStatus.DRAFT:
        raise RuleViolation(f"this draft is {draft.get_status_display().lower()}")
    document = draft.document
    version, section = _section_of(document, draft.number)
    refusal = _why_not_submit(actor, draft, section)
    if refusal is not None:
        raise refusal
    kinds = ({AuthorityKind.BOARD_DECISION} if document.kind == DocumentKind.POLICY
             else None)
    with transaction.atomic():
        authority_row = resolve_authority(
            authority, kinds=kinds,
            why="changes to the Security Policy are made by the Board" if kinds else "")
        request = request_signoff(
            actor=actor, action=PUBLISH,
            title=f"Publish {document.short} {draft.number} {draft.title}",
            description=f"New text for {document.name} section {draft.number}, "
                        f"drafted by {actor} on {version.label}.",
            requirement=requirement_for(document, effective_owner(section)),
            authority=authority_row, payload={"draft": draft.pk},
        )
        draft.status = DraftStatus.SUBMITTED
        draft.signoff = request
        draft.save(update_fields=["status", "signoff"])
        record("documents.draft.submit", actor=actor, authority=authority_row, subject=draft,
               details={"document": document.name, "section": draft.number,
                        "signoff_request": request.pk})
        sign(actor=actor, request=request, slot="executor", comment="author of the draft")
    return request


def withdraw_draft(*, actor: Person, draft: Draft) -> Draft:
    if draft.author_id != actor.pk:
        raise NotAllowed("only the author withdraws a draft")
    if draft.status not in (DraftStatus.DRAFT, DraftStatus.SUBMITTED):
        raise RuleViolation(f"this draft is {draft.get_status_display().lower()}")
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        if draft.signoff is not None and draft.status == DraftStatus.SUBMITTED:
            withdraw_signoff(actor=actor, request=draft.signoff, reason="draft withdrawn")
        draft.status = DraftStatus.WITHDRAWN
        draft.save(update_fields=["status"])
        record("documents.draft.withdraw", actor=actor, authority="SP 1.4.2", subject=draft,
               details={"document": draft.document.name, "section": draft.number})
    return draft


def _publish(request: SignOffRequest) -> None:
    """Runs inside the last sign-off's transaction: a new version with the draft's text."""
    draft = Draft.objects.select_for_update().select_related("document").get(
        pk=request.payload["draft"])
    document = draft.document
    current = document.versions.order_by("-seq").first()
    assert current is not None
    if current.pk != draft.base_version_id:
        base = draft.base_version.sections.filter(number=draft.number).first()
        now = current.sections.filter(number=draft.number).first()
        if base is None or now is None or (base.title, base.text) != (now.title, now.text):
            raise RuleViolation(
                f"{document.short} {draft.number} changed in {current.label} after this draft "
                "was started; start a new draft from the current text")
    parsed = [section_to_tree(s) for s in current.sections.prefetch_related(
        "notes", "markers", "references")]
    for section in parsed:
        if section.label == draft.number:
            section.title = draft.title
            paragraphs = [p.strip() for p in draft.text.split("\n\n") if p.strip()]
            section.blocks = [tree.Block(
                "<p>" + "<br>\n".join(escape(line.strip(), quote=False)
                                      for line in p.split("\n") if line.strip()) + "</p>",
                "\n".join(tree.normalise_space(line) for line in p.split("\n") if line.strip()),
            ) for p in paragraphs]
            kept_notes = section.notes
            tree.annotate(section)
            # Editorial notes are not part of the edited text; they stay with the section.
            section.notes += [n for n in kept_notes if n.text not in {m.text for m in
                                                                       section.notes}]
    seq = current.seq + 1
    label = f"v{seq}"
    while document.versions.filter(label=label).exists():
        label += "+"
    version = Version.objects.create(
        document=document, seq=seq, label=label, title=current.title,
        source_name=f"published from draft #{draft.pk}", source_format="secman",
        source_version=f"{draft.number} changed", created_by=draft.author,
        authority=request.authority, based_on=current, section_count=len(parsed),
    )
    store_sections(version, parsed)
    draft.status = DraftStatus.PUBLISHED
    draft.published_version = version
    draft.save(update_fields=["status", "published_version"])
    record("documents.publish", actor=draft.author, authority=request.authority,
           subject=version, signoffs=signoff_summary(request),
           details={"document": document.name, "section": draft.number,
                    "title": draft.title, "version": label, "based_on": current.label,
                    "draft": draft.pk})


register(PUBLISH, "Publish a new text of a policy or manual section", _publish)


def section_to_tree(section: Section) -> tree.Section:
    """A stored section as the parsers make them, for compare, diff and export."""
    parsed = tree.Section(tree.parse_number(section.number), section.title)
    parsed.text, parsed.html = section.text, section.html
    parsed.notes = [tree.Block(n.html, n.text) for n in section.notes.all()]
    parsed.blocks = [tree.Block(f"<p>{escape(p, quote=False)}</p>", p)
                     for p in section.text.split("\n\n") if p] + parsed.notes
    parsed.owner, parsed.owner_text = section.owner, section.owner_text
    parsed.markers = [(m.kind, m.text) for m in section.markers.all()]
    parsed.references = [tree.Reference(r.text, r.target_document, r.target_number)
                         for r in section.references.all()]
    return parsed


def version_to_tree(version: Version) -> tree.Document:
    sections = version.sections.prefetch_related("notes", "markers", "references").order_by(
        "sort_key")
    return tree.Document(
        title=version.title or version.document.name, format=version.source_format,
        sections=[section_to_tree(s) for s in sections],
        warnings=list(version.warnings), source_name=version.document.name,
        version=version.label, numbering=version.numbering,
    )


# --- delegation -----------------------------------------------------------------------------


def delegate_editing(*, actor: Person, team: str, person: Person,
                     authority: str | Authority = "SP 1.4.2") -> EditDelegation:
    if team not in TeamKind.values:
        raise RuleViolation(f"{team!r} is not a team", field="team")
    if not may_delegate(actor, team):
        raise NotAllowed("only the team's leader delegates editing of its sections",
                         section="SP 1.4.2")
    if not is_member(person, team):
        raise RuleViolation(f"{person} is not a member of the {TeamKind(team).label} team",
                            field="person")
    with transaction.atomic():
        if EditDelegation.objects.filter(team=team, person=person,
                                         revoked_at__isnull=True).exists():
            raise RuleViolation(f"{person} already edits for this team", field="person")
        authority_row = resolve_authority(authority)
        delegation = EditDelegation.objects.create(team=team, person=person, granted_by=actor,
                                                   authority=authority_row)
        record("documents.delegate", actor=actor, authority=authority_row, subject=delegation,
               details={"team": team, "person": person.name})
    return delegation


def revoke_delegation(*, actor: Person, delegation: EditDelegation) -> EditDelegation:
    if not may_revoke_delegation(actor, delegation):
        raise NotAllowed("only the team's leader (or the delegate) ends a delegation")
    with transaction.atomic():
        delegation = EditDelegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.revoked_at is not None:
            raise RuleViolation("this delegation has ended already")
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        record("documents.delegate.revoke", actor=actor, authority=delegation.authority,
               subject=delegation, details={"team": delegation.team,
                                            "person": delegation.person.name})
    return delegation
