from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from secman.core.accounts import person_for_user
from secman.core.roles import TeamKind
from secman.core.views import (
    actor_of,
    perform,
    post_only,
    refuse_to_messages,
    refused_before_the_body,
)
from secman.documents import compare as comparing
from secman.documents import services
from secman.documents.choices import DraftStatus
from secman.documents.export import to_html, to_markdown
from secman.documents.forms import DelegateForm, DraftForm, ImportForm, SearchForm, SubmitForm
from secman.documents.importers import MAX_BYTES, numbering_said
from secman.documents.models import Document, Draft, EditDelegation, Section, Version
from secman.documents.selectors import (
    compare_link,
    default_pair,
    find_version,
    resolve_reference,
    search,
)
from secman.files import megabytes


def index(request: HttpRequest) -> HttpResponse:
    me = person_for_user(request.user)
    documents = Document.objects.prefetch_related("versions")
    led = [kind for kind in TeamKind.values if services.may_delegate(me, kind)]
    delegate_form = DelegateForm(request.POST or None, initial={"team": led[0]} if led else {})
    if request.method == "POST" and me is not None and delegate_form.is_valid():
        data = delegate_form.cleaned_data
        if perform(request, delegate_form, lambda: services.delegate_editing(
                actor=me, team=data["team"], person=data["person"],
                authority=data["authority"]), "Editing delegated."):
            return redirect("documents:index")
    policy, manual = default_pair()
    return render(request, "documents/index.html", {
        "documents": documents,
        "import_form": ImportForm() if services.may_import(me) else None,
        "search_form": SearchForm(),
        "policy": policy, "manual": manual,
        # Each delegation with whether this reader may end it (the End button).
        "delegations": [(d, services.may_revoke_delegation(me, d)) for d in
                        EditDelegation.objects.filter(revoked_at__isnull=True)
                        .select_related("person", "granted_by")],
        "delegate_form": delegate_form if led else None,
        "drafts": Draft.objects.filter(status__in=[DraftStatus.DRAFT, DraftStatus.SUBMITTED])
        .select_related("document", "author"),
    })


@post_only(lambda pk: reverse("documents:index"))
def delegation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    me = actor_of(request)
    delegation = get_object_or_404(EditDelegation, pk=pk)
    refuse_to_messages(request, lambda: services.revoke_delegation(actor=me,
                                                                   delegation=delegation),
                       "Delegation ended.")
    return redirect("documents:index")


def _why_not_import(request: HttpRequest) -> str | None:
    me = person_for_user(request.user)  # None here is a login without a person, not the CLI
    if me is not None and services.may_import(me):
        return None
    return "Only team leaders, Board members and the administrator import documents (SP 1.4)."


@refused_before_the_body(_why_not_import)
def import_view(request: HttpRequest) -> HttpResponse:
    """Whoever may not import is refused the page too, and their post before anything
    reads the upload (core.views.refused_before_the_body)."""
    why = _why_not_import(request)
    if why is not None:
        raise PermissionDenied(why)
    me = actor_of(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", f"{upload.name}: the file has {megabytes(upload.size)}; "
                                   f"secman reads documents of up to {megabytes(MAX_BYTES)}")
            return render(request, "documents/import.html", {"form": form})
        created = perform(request, form, lambda: services.import_document(
            actor=me, data=upload.read(MAX_BYTES + 1), filename=upload.name,
            name=data["name"], kind=data["kind"], label=data["label"],
            format=data["format"] or None, numbering=data["numbering"] or "auto",
            authority=data["authority"] or None), "Document imported.")
        if created:
            messages.info(request, f"{created.section_count} sections; "
                                   f"{numbering_said(created.numbering)}.")
            for warning in created.warnings[:20]:
                messages.warning(request, warning)
            return redirect(created)
    return render(request, "documents/import.html", {"form": form})


def _chapters(sections: list[Section]) -> list[tuple[Section | None, list[Section]]]:
    groups = []
    for _, items in itertools.groupby(sections, key=lambda s: s.number.split(".")[0]):
        rows = list(items)
        head = rows[0] if rows[0].level == 1 else None
        groups.append((head, rows[1:] if head else rows))
    return groups


def _version_page(request: HttpRequest, version: Version) -> HttpResponse:
    document = version.document
    sections = list(version.sections.prefetch_related("markers", "notes").order_by("sort_key"))
    return render(request, "documents/document.html", {
        "document": document, "version": version,
        "is_current": version.pk == (document.current.pk if document.current else None),
        "versions": document.versions.select_related("created_by", "authority"),
        "toc": _chapters(sections), "section_count": len(sections),
    })


def document(request: HttpRequest, slug: str) -> HttpResponse:
    subject = get_object_or_404(Document, slug=slug)
    current = subject.current
    if current is None:
        raise Http404("no versions")
    return _version_page(request, current)


def version(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    subject = get_object_or_404(Version.objects.select_related("document"),
                                document__slug=slug, label=label)
    return _version_page(request, subject)


def section(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    document = get_object_or_404(Document, slug=slug)
    label = request.GET.get("version")
    version = (document.versions.filter(label=label).first() if label else document.current)
    if version is None:
        raise Http404("no such version")
    subject = get_object_or_404(
        Section.objects.select_related("version__document", "parent"), version=version,
        number=number)
    me = person_for_user(request.user)
    history = []
    previous = None
    for v in document.versions.order_by("seq"):
        row = v.sections.filter(number=number).first()
        state = (None if row is None else (row.title, row.text))
        if state != previous:
            history.append((v, row))
        previous = state
    refs = [(ref, resolve_reference(version, ref.target_document, ref.target_number,
                                    subject.number))
            for ref in subject.references.all()]
    return render(request, "documents/section.html", {
        "document": document, "version": version, "section": subject,
        "owner": services.effective_owner(subject),
        "owner_label": TeamKind(services.effective_owner(subject)).label
        if services.effective_owner(subject) else "",
        "children": subject.children.order_by("sort_key"),
        "notes": subject.notes.all(), "markers": subject.markers.all(), "refs": refs,
        "history": history, "compare_url": compare_link(subject),
        "may_edit": version == document.current and services.may_edit(me, document, subject),
        "drafts": Draft.objects.filter(document=document, number=number)
        .select_related("author")[:20],
    })


# The rows of two versions side by side, rendered once and kept: a stored version never
# changes (a new text is a new version), so the rows of a pair stay right for as long as
# both exist. Keyed by both versions' ids and creation times (a rolled-back import's id
# can come back on SQLite). Django's default cache is per process: each gunicorn worker
# renders a pair once (~0.2 s), then a request only filters and joins the rows.
SIDE_BY_SIDE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RenderedRow:
    label: str
    chapter: int
    level: int
    status: str
    html: str  # <tr ...>, the number with its status, both sides; the extra cells and
    # </tr> follow


@dataclass(frozen=True)
class SideBySide:
    a_name: str
    b_name: str
    counts: dict[str, int]  # every status, in the order the filter lists them
    chapter_titles: dict[int, str]
    rows: list[RenderedRow]


def side_by_side(a: Version, b: Version) -> SideBySide:
    # ".2": the shape of what is kept (RenderedRow); a new shape takes a new number.
    key = (f"documents.side-by-side.2:{a.pk}:{a.created_at.timestamp()}:{b.pk}:"
           f"{b.created_at.timestamp()}")
    found = cache.get(key)
    if isinstance(found, SideBySide):
        return found
    result = comparing.compare(services.version_to_tree(a), services.version_to_tree(b),
                               a_kind=a.document.kind, b_kind=b.document.kind)
    found = SideBySide(
        result.a_name, result.b_name, result.counts(),
        {r.chapter: r.title for r in result.rows if r.level == 1},
        [RenderedRow(row.label, row.chapter, row.level, row.status,
                     format_html('<tr id="s{}" class="row {} level-{}">', row.label,
                                 row.status_class, row.level)
                     + render_to_string("documents/compare_row.html", {"row": row}))
         for row in result.rows])
    cache.set(key, found, SIDE_BY_SIDE_SECONDS)
    return found


def compare_view(request: HttpRequest) -> HttpResponse:
    policy, manual = default_pair()
    a_ref, b_ref = request.GET.get("a", ""), request.GET.get("b", "")
    a = find_version(a_ref) if a_ref else policy
    b = find_version(b_ref) if b_ref else manual
    problems = []
    if a_ref and a is None:
        problems.append(f"No document {a_ref!r}.")
    if b_ref and b is None:
        problems.append(f"No document {b_ref!r}.")
    if a is None or b is None:
        return render(request, "documents/compare.html", {
            "problems": problems or ["Import a Security Policy and a Security Manual first "
                                     "(or choose two documents)."],
            "choices": Version.objects.select_related("document")[:200],
        })
    result = side_by_side(a, b)
    chosen = [s for s in request.GET.getlist("status") if s in result.counts]
    chapter = request.GET.get("chapter", "")
    rows = [r for r in result.rows if (not chosen or r.status in chosen)
            and (not chapter or str(r.chapter) == chapter)]
    extra = [(heading, provider([r.label for r in rows])) for heading, provider
             in comparing.COLUMNS]
    groups = []
    for number, items in itertools.groupby(rows, key=lambda r: r.chapter):
        shown = list(items)
        # Joined here rather than looped over in the template: a few hundred rows through
        # the template engine cost more than the rest of the page.
        body = "".join(
            row.html + "".join(
                f'<td class="extra">{conditional_escape(values.get(row.label, ""))}</td>'
                for _, values in extra) + "</tr>\n"
            for row in shown)
        # Safe: the rows come from templates and format_html, the cells are escaped.
        groups.append((number, result.chapter_titles.get(number, ""), len(shown),
                       mark_safe(body)))  # noqa: S308
    return render(request, "documents/compare.html", {
        "a": a, "b": b, "result": result, "groups": groups, "counts": result.counts,
        "chosen": chosen, "chapter": chapter, "extra_headings": [h for h, _ in extra],
        "chapter_choices": sorted(result.chapter_titles.items()), "shown": len(rows),
        "choices": Version.objects.select_related("document")[:200],
    })


def diff_view(request: HttpRequest, slug: str) -> HttpResponse:
    document = get_object_or_404(Document, slug=slug)
    versions = list(document.versions.order_by("-seq"))
    if not versions:
        raise Http404("no versions")
    new_label = request.GET.get("to") or versions[0].label
    old_label = request.GET.get("from") or (versions[1].label if len(versions) > 1
                                            else versions[0].label)
    old = get_object_or_404(Version, document=document, label=old_label)
    new = get_object_or_404(Version, document=document, label=new_label)
    changes = comparing.diff(services.version_to_tree(old), services.version_to_tree(new))
    return render(request, "documents/diff.html", {
        "document": document, "old": old, "new": new, "changes": changes,
        "versions": versions,
    })


def search_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    hits = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        hits = [(hit, compare_link(hit.section)) for hit in search(query)]
    return render(request, "documents/search.html", {"form": form, "hits": hits,
                                                     "query": query})


def export(request: HttpRequest, slug: str, label: str, fmt: str) -> HttpResponse:
    subject = get_object_or_404(Version.objects.select_related("document"),
                                document__slug=slug, label=label)
    parsed = services.version_to_tree(subject)
    if fmt == "md":
        body, content_type = to_markdown(parsed), "text/markdown; charset=utf-8"
    elif fmt == "html":
        body, content_type = to_html(parsed), "text/html; charset=utf-8"
    else:
        raise Http404("export as .md or .html")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{slug}-{label}.{fmt}"'
    return response


def draft_new(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    me = actor_of(request)
    document = get_object_or_404(Document, slug=slug)
    current = document.current
    subject = get_object_or_404(Section, version=current, number=number)
    form = DraftForm(request.POST or None, initial={"title": subject.title,
                                                   "text": subject.text})
    if request.method == "POST" and form.is_valid():
        created = perform(request, form, lambda: services.save_draft(
            actor=me, document=document, number=number, **form.cleaned_data), "Draft saved.")
        if created:
            return redirect(created)
    return render(request, "documents/draft_form.html", {
        "form": form, "document": document, "section": subject,
        "may_edit": services.may_edit(me, document, subject),
    })


def draft(request: HttpRequest, pk: int) -> HttpResponse:
    me = actor_of(request)
    subject = get_object_or_404(Draft.objects.select_related("document", "author",
                                                             "base_version", "signoff"), pk=pk)
    action = request.POST.get("action", "")
    edit_form = DraftForm(request.POST if action == "save" else None,
                          initial={"title": subject.title, "text": subject.text})
    submit_form = SubmitForm(request.POST if action == "submit" else None)
    if request.method == "POST":
        if action == "save" and edit_form.is_valid() and perform(
                request, edit_form, lambda: services.save_draft(
                    actor=me, document=subject.document, number=subject.number,
                    draft=subject, **edit_form.cleaned_data), "Draft saved.") is not None:
            return redirect(subject)
        if action == "submit" and submit_form.is_valid():
            signoff = perform(request, submit_form, lambda: services.submit_draft(
                actor=me, draft=subject, authority=submit_form.cleaned_data["authority"]),
                "Submitted: the section is published when a second person signs.")
            if signoff:
                return redirect(signoff)
        if action == "withdraw":
            refuse_to_messages(request, lambda: services.withdraw_draft(actor=me,
                                                                       draft=subject),
                               "Draft withdrawn.")
            return redirect(subject)
    base = subject.base_version.sections.filter(number=subject.number).first()
    words = comparing.word_diff(base.text if base else "", subject.text)
    return render(request, "documents/draft.html", {
        "draft": subject, "edit_form": edit_form, "submit_form": submit_form,
        "mine": services.may_change_draft(me, subject),
        "may_submit": services.may_submit_draft(me, subject),
        "words": words, "base": base,
        "may_withdraw": services.may_withdraw_draft(me, subject),
    })
