"""The helpers every app's views use to call services and show their refusals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from secman.core.accounts import person_for_user
from secman.core.errors import Refused

T = TypeVar("T")


def actor_of(request: HttpRequest) -> Any:
    """The people.Person signed in; a login without one may do nothing."""
    person = person_for_user(request.user)
    if person is None:
        raise PermissionDenied("This login is not linked to a person in secman.")
    return person


def person_at_form(request: HttpRequest, may: Callable[[Any], bool], refusal: str) -> Any:
    """The person at a form, who may submit it (`may`, the service's predicate). The others
    are refused the form itself: every submission of theirs would be refused."""
    person = actor_of(request)
    if not may(person):
        raise PermissionDenied(refusal)
    return person


def perform(
    request: HttpRequest, form: forms.Form, action: Callable[[], T], done: str
) -> T | None:
    """Run a service call for a form. A refusal becomes an error on the form (on the
    field it concerns, if the form has it); success becomes a message."""
    try:
        result = action()
    except Refused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return None
    messages.success(request, done)
    return result


def post_only(back: Callable[..., str]) -> Callable[[Callable[..., HttpResponse]],
                                                    Callable[..., HttpResponse]]:
    """For a URL that only acts on POST (a button, a step's form). A refused form is shown
    again at that URL, so a person may reload it or come back to it: a GET then leads to
    the page the form belongs to (`back(**url kwargs)`) instead of "405 Method Not
    Allowed". Other methods are refused as before."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(back(**kwargs))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, **kwargs)

        return wrapped

    return decorate


def refuse_to_messages(request: HttpRequest, action: Callable[[], T], done: str) -> T | None:
    """The same for buttons without a form: the refusal is shown as an error message."""
    try:
        result = action()
    except Refused as exc:
        messages.error(request, str(exc))
        return None
    messages.success(request, done)
    return result




def refused_before_the_body(
    refusal: Callable[..., str | None],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a page that takes an upload: `refusal(request, **url kwargs)` says why this
    person may not post to it (None: they may). Whoever may not is answered 403 before
    anything reads the body. The CSRF check reads a form post's body (the token is in it),
    so it runs after this question, on the view itself (csrf_protect): the page is no less
    protected, only asked in the other order. The 403 page is rendered here, not by raising
    PermissionDenied: Django's handler for that is marked requires_csrf_token, whose CSRF
    pass would read the body after all. A login without a person is refused too: the
    predicates read None as the command line's operator."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        protected = csrf_protect(view)

        @csrf_exempt  # checked by `protected`, once the refusal has been asked
        @wraps(view)
        def page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                if person_for_user(request.user) is None:
                    return render(request, "403.html", {
                        "exception": "This login is not linked to a person in secman."},
                        status=403)
                # Answered here, whatever the refusal raises: Django's 404 and 500 handlers
                # are marked requires_csrf_token too, and this page is csrf_exempt.
                try:
                    why = refusal(request, **kwargs)
                except Http404:
                    return render(request, "404.html", status=404)
                except Exception:
                    logging.getLogger(__name__).exception("refusal check failed")
                    return render(request, "500.html", status=500)
                if why is not None:
                    return render(request, "403.html", {"exception": why}, status=403)
            return protected(request, **kwargs)

        return page

    return decorate
