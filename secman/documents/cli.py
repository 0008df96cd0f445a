"""`secman docs ...`: the documents on the command line.

Every command takes plain files; `compare`, `sections`, `diff` and `export` take stored
documents too ("Security Manual", "security-manual@v2", "SM"). Django is set up only
when a stored document is named, so file work needs no database and starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from secman.documents.importers import FORMATS, NUMBERING_HELP, NUMBERINGS, numbering_said
from secman.documents.tree import Document, DocumentError


def _echo_warnings(document: Document, quiet: bool = False) -> None:
    if quiet:
        return
    for warning in document.warnings[:50]:
        click.echo(f"warning: {warning}", err=True)
    if len(document.warnings) > 50:
        click.echo(f"warning: ... and {len(document.warnings) - 50} more", err=True)


def load(source: str, format: str | None = None,
         numbering: str = "auto") -> tuple[Document, str]:
    """(document, kind) from a file, or from a stored document when no such file exists."""
    path = Path(source)
    if path.exists():
        from secman.documents.importers import parse_file

        try:
            return parse_file(path, format=format, numbering=numbering), ""
        except DocumentError as exc:
            raise click.ClickException(f"{path.name}: {exc}") from None
    if path.suffix and "@" not in source:
        raise click.ClickException(f"{source}: no such file")
    from secman.core.cli import setup_django

    setup_django()
    from secman.documents.selectors import find_version
    from secman.documents.services import version_to_tree

    version = find_version(source)
    if version is None:
        raise click.ClickException(
            f"{source!r} is neither a file nor a document stored in secman "
            "(stored documents: secman docs list)")
    return version_to_tree(version), version.document.kind


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"written to {output}", err=True)
    else:
        sys.stdout.write(text)


@click.group()
def docs() -> None:
    """Documents: import, compare side by side, list sections, diff versions, export.

    A SOURCE is a file (HTML, wiki text, Markdown, reStructuredText) or the name of a
    stored document, optionally with @VERSION: "Security Manual", "security-manual@v1".
    """


@docs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help='The document, e.g. "Security Policy".')
@click.option("--kind", required=True, type=click.Choice(["policy", "manual", "procedure"]))
@click.option("--version", "label", default="", help="Version label (default v1, v2, ...).")
@click.option("--format", "format_", type=click.Choice(FORMATS), default=None,
              help="Override format detection.")
@click.option("--numbering", type=click.Choice(NUMBERINGS), default="auto", show_default=True,
              help=NUMBERING_HELP)
@click.option("--authority", default=None,
              help="What authorises the import (default: SP 1.4.1 for the policy, SP 1.4.2 "
                   "for the manual, SP 1.4.3 for procedures).")
def import_(file: str, name: str, kind: str, label: str, format_: str | None,
            numbering: str, authority: str | None) -> None:
    """Store FILE as the next version of a document. Nothing is written if the file
    cannot be read (FILE must be a regular file of at most 8 MB); the import is recorded
    in the Event Log."""
    from secman.documents.importers import read_document_file

    path = Path(file)
    try:
        # Read first, capped, before Django or the database is touched: a device, a FIFO
        # or an oversized file is refused with nothing written anywhere.
        data = read_document_file(path)
    except DocumentError as exc:
        raise click.ClickException(str(exc)) from None

    from secman.core.cli import prepare_database, refusals_as_errors, setup_django

    setup_django()
    prepare_database()
    from secman.documents.services import import_document

    version = refusals_as_errors(lambda: import_document(
        actor=None, data=data, filename=path.name, name=name, kind=kind,
        label=label, format=format_, numbering=numbering, authority=authority))
    for warning in version.warnings[:50]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{version.document.name} {version.label}: {version.section_count} sections "
               f"imported ({version.reference}); {numbering_said(version.numbering)}")


@docs.command("list")
def list_() -> None:
    """The documents stored in secman, with their versions."""
    from secman.core.cli import setup_django

    setup_django()
    from secman.documents.models import Document as StoredDocument

    for document in StoredDocument.objects.prefetch_related("versions"):
        labels = ", ".join(v.label for v in document.versions.order_by("seq"))
        click.echo(f"{document.slug}\t{document.kind}\t{document.name}\t{labels}")


@docs.command()
@click.argument("a")
@click.argument("b")
@click.option("--format", "format_", type=click.Choice(["text", "json", "html"]),
              default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of standard output.")
@click.option("--width", type=int, default=None,
              help="Columns for the text format (default: the terminal's, e.g. 80 or 160).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print import warnings.")
def compare(a: str, b: str, format_: str, output: str | None, width: int | None,
            quiet: bool) -> None:
    """Line A and B up by section number (SP left, SM right by convention), with a
    status per number: both, policy only, manual only, empty in policy, empty in
    manual, title differs."""
    from secman.documents import compare as comparing

    left, a_kind = load(a)
    right, b_kind = load(b)
    _echo_warnings(left, quiet)
    _echo_warnings(right, quiet)
    result = comparing.compare(left, right, a_kind=a_kind, b_kind=b_kind)
    if format_ == "json":
        _write(comparing.as_json(result), output)
    elif format_ == "html":
        _write(comparing.as_html(result), output)
    else:
        _write(comparing.as_text(result, comparing.terminal_width(width)), output)


@docs.command()
@click.argument("source")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--input-format", type=click.Choice(FORMATS), default=None,
              help="Override format detection of a file.")
@click.option("--numbering", type=click.Choice(NUMBERINGS), default="auto", show_default=True,
              help=NUMBERING_HELP)
def sections(source: str, format_: str, input_format: str | None, numbering: str) -> None:
    """Print the section tree recovered from SOURCE, and how its headings were
    numbered."""
    document, _ = load(source, input_format, numbering)
    _echo_warnings(document)
    if format_ == "json":
        data = {
            "title": document.title, "version": document.version, "format": document.format,
            "numbering": document.numbering, "warnings": document.warnings,
            "sections": [{
                "number": s.label, "title": s.title, "level": s.level, "line": s.line,
                "text": s.text, "notes": [n.text for n in s.notes],
                "owner": s.owner, "owner_text": s.owner_text,
                "markers": [{"kind": k, "text": t} for k, t in s.markers],
                "references": [{"text": r.text, "document": r.document, "number": r.number}
                               for r in s.references],
            } for s in document.sections],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    for s in document.sections:
        flags = []
        if s.is_empty:
            flags.append("empty")
        if s.notes:
            flags.append(f"{len(s.notes)} notes")
        if s.owner:
            flags.append(f"owner: {s.owner}")
        flags += sorted({kind for kind, _ in s.markers})
        extra = f"  [{', '.join(flags)}]" if flags else ""
        click.echo(f"{'  ' * (s.level - 1)}{s.label} {s.title or '(untitled)'}{extra}")
    said = f"; {numbering_said(document.numbering)}" if document.numbering else ""
    click.echo(f"{len(document.sections)} sections{said}", err=True)


@docs.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def diff(old: str, new: str, format_: str) -> None:
    """What changed from OLD to NEW, section by section: added, removed, moved and
    changed (word by word)."""
    from secman.documents import compare as comparing

    before, _ = load(old)
    after, _ = load(new)
    changes = comparing.diff(before, after)
    if format_ == "json":
        data = [{"kind": c.kind, "number": c.label, "title": c.title,
                 "old_number": c.old_label or None, "old_title": c.old_title,
                 "words": [[op, text] for op, text in c.words]} for c in changes]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(comparing.diff_as_text(changes))


@docs.command()
@click.argument("source")
@click.option("--format", "format_", type=click.Choice(["markdown", "html"]),
              default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def export(source: str, format_: str, output: str | None) -> None:
    """Write SOURCE as Markdown or HTML with its numbering intact; importing the export
    gives the same sections."""
    from secman.documents.export import to_html, to_markdown

    document, _ = load(source)
    _write(to_markdown(document) if format_ == "markdown" else to_html(document), output)
