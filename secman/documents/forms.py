from __future__ import annotations

from typing import Any

from django import forms

from secman.core.forms import AuthorityField
from secman.core.roles import TeamKind
from secman.core.validation import max_length
from secman.documents.choices import DocumentKind
from secman.documents.importers import FORMATS
from secman.documents.models import Document, Draft, Version
from secman.people.models import Person


class ImportForm(forms.Form):
    file = forms.FileField(help_text="HTML, wiki text export, Markdown or reStructuredText.")
    name = forms.CharField(max_length=max_length(Document, "name"), initial="Security Manual",
                           help_text="Importing a name secman holds makes a new version of it.")
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    label = forms.CharField(max_length=max_length(Version, "label"),
                            required=False, label="Version label",
                            help_text="Empty: v1, v2, ...")
    format = forms.ChoiceField(choices=[("", "detect"), *[(f, f) for f in FORMATS]],
                               required=False)
    numbering = forms.ChoiceField(
        choices=[("auto", "auto: text, else anchors, else structure"),
                 ("text", "text: the number each heading shows (else its anchor)"),
                 ("anchors", "anchors: ids such as sec-3.2 or s3.2.1"),
                 ("structure", "structure: heading levels (top level that repeats = chapters)")],
        initial="auto", required=False, label="Heading numbers",
        help_text="Where the section numbers of HTML, Markdown and reStructuredText come "
                  "from. Wiki text is numbered by its table of contents.")
    authority = AuthorityField(required=False)


class DraftForm(forms.Form):
    title = forms.CharField(max_length=max_length(Draft, "title"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 18}), required=False,
                           help_text="Paragraphs separated by an empty line.")


class SubmitForm(forms.Form):
    authority = AuthorityField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].help_text = (
            "Manual sections: a section (SP 1.4.2) or a decision; policy sections: a "
            "carried, confirmed Board decision (m20100222.1).")


class DelegateForm(forms.Form):
    team = forms.ChoiceField(choices=TeamKind.choices)
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    authority = AuthorityField(initial="SP 1.4.2")


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search")
