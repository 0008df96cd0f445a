"""Software assessment's pages: repositories, changes and releases at a glance; a change
with its commits (authors, signatures), reviews, assessment and test; a release with its
commits' changes and the deployment's sign-off. Changes go through software.services."""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from secman.core.views import perform, person_at_form
from secman.eventlog.selectors import history_for
from secman.software import controls, services
from secman.software.forms import (
    AssessForm,
    ChangeForm,
    HandOverForm,
    HeadForm,
    ReleaseForm,
    ReviewForm,
    TestAccountForm,
    TestForm,
)
from secman.software.git import SIGNATURE
from secman.software.models import Change, Release, Repository, ReviewRule, TestAccount

READERS = "software assessment is shown to everyone who holds a role"
ASSESSORS = "this is done by the Software Assessors"


def _bound(request: HttpRequest, form_class: type[forms.Form], prefix: str) -> forms.Form:
    posted = request.method == "POST" and request.POST.get("form") == prefix
    return form_class(request.POST if posted else None, prefix=prefix)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    change_form = _bound(request, ChangeForm, "change")
    release_form = _bound(request, ReleaseForm, "release")
    account_form = _bound(request, TestAccountForm, "account")
    made: Change | Release | None = None
    if change_form.is_bound or release_form.is_bound or account_form.is_bound:
        person_at_form(request, services.may_assess, ASSESSORS)
    if change_form.is_valid():
        d = change_form.cleaned_data
        made = perform(request, change_form, lambda: services.submit_change(
            actor=me, repository=d["repository"], title=d["title"],
            description=d["description"], risk=d["risk"], base=d["base"], head=d["head"]),
            "Change submitted.")
    elif release_form.is_valid():
        d = release_form.cleaned_data
        made = perform(request, release_form, lambda: services.create_release(
            actor=me, repository=d["repository"], name=d["name"], commit=d["commit"]),
            "Release made.")
    elif account_form.is_valid():
        d = account_form.cleaned_data
        if perform(request, account_form, lambda: services.decide_test_account(
                actor=me, system=d["system"], member_name=d["member_name"],
                member_email=d["member_email"], assurer=d["assurer"], checked=d["checked"],
                grant=d["grant"]), "Recorded.") is not None:
            return redirect("software:overview")
    if made is not None:
        return redirect(made)
    changes = list(Change.objects.select_related("repository", "submitted_by"))
    rows = [(c, len(services.reviews_of_head(c)), services.reviews_needed(c.risk),
             services.ready(c)) for c in changes]
    return render(request, "software/overview.html", {
        "repositories": Repository.objects.select_related("system"),
        "rules": {r.risk: r for r in ReviewRule.objects.all()},
        "rows": rows, "releases": Release.objects.select_related("repository", "target")[:30],
        "findings": controls.releases_reviewed() + controls.repositories_registered(),
        "may_assess": services.may_assess(me), "change_form": change_form,
        "release_form": release_form, "account_form": account_form,
        "accounts": TestAccount.objects.select_related("system", "decided_by")[:30]})


@login_required
def change(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    row = get_object_or_404(Change.objects.select_related("repository"), pk=pk)
    forms_: dict[str, forms.Form] = {
        "review": _bound(request, ReviewForm, "review"),
        "assess": _bound(request, AssessForm, "assess"),
        "test": _bound(request, TestForm, "test"),
        "head": _bound(request, HeadForm, "head")}
    calls: dict[str, Any] = {
        "review": lambda d: services.review(actor=me, change=row, commit=d["commit"],
                                           note=d["note"]),
        "assess": lambda d: services.assess(actor=me, change=row,
                                            guidelines_followed=d["guidelines_followed"],
                                            test_instructions=d["test_instructions"]),
        "test": lambda d: services.record_test(actor=me, change=row, result=d["result"],
                                               notes=d["notes"]),
        "head": lambda d: services.update_head(actor=me, change=row, head=d["head"])}
    for name, form in forms_.items():
        if not form.is_bound:
            continue
        person_at_form(request, lambda p: services.may_assess(p) or services.may_lead(p),
                       ASSESSORS)
        if form.is_valid() and perform(request, form, functools.partial(
                calls[name], form.cleaned_data), "Recorded.") is not None:
            return redirect(row)
    if not forms_["review"].is_bound:
        forms_["review"] = ReviewForm(prefix="review", initial={"commit": row.head})
    return render(request, "software/change.html", {
        "c": row, "forms": forms_, "signatures": SIGNATURE,
        "reviews": row.reviews.select_related("reviewer"),
        "current": {r.pk for r in services.reviews_of_head(row)},
        "needed": services.reviews_needed(row.risk), "missing": services.ready(row),
        "may_act": services.may_assess(me) or services.may_lead(me),
        "history": history_for(row, me)})


@login_required
def release(request: HttpRequest, pk: int) -> HttpResponse:
    me = person_at_form(request, services.may_read, READERS)
    row = get_object_or_404(Release.objects.select_related("repository", "target",
                                                           "deploy_signoff"), pk=pk)
    form = _bound(request, HandOverForm, "hand_over")
    if form.is_bound:
        person_at_form(request, services.may_assess, ASSESSORS)
        if form.is_valid() and perform(request, form, lambda: services.hand_over(
                actor=me, release=row, target=form.cleaned_data["target"]),
                "Handed over: the deployment waits for a Systems Administrator's "
                "sign-off.") is not None:
            return redirect(row)
    return render(request, "software/release.html", {
        "r": row, "form": form, "changes": row.changes.all(),
        "may_assess": services.may_assess(me), "history": history_for(row, me)})
