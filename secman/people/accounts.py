"""Logins: the Event Log entries for sign-ins, refused sign-ins and sign-outs, password
changes and resets, and API tokens (SM 4.2.1). Split from people.services, which changes
the people, teams and access lists themselves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person


def may_issue_api_token(person: Person | None) -> bool:
    """API tokens belong to a login: anyone with an active one, for their own."""
    user = getattr(person, "user", None)
    return user is not None and user.is_active


# --- API tokens ---------------------------------------------------------------------------


def issue_api_token(*, actor: Person) -> str:
    """A new API token for the actor's own login, replacing any earlier one. The key is
    returned once and never written to the Event Log (the entry says only that one was
    issued). SP 3.4.3: authentication schemes are documented, see docs/api.md."""
    if not may_issue_api_token(actor):
        raise NotAllowed("API tokens belong to a login, and this person has no active one")
    user = actor.user
    assert user is not None  # may_issue_api_token
    with transaction.atomic():
        replaced, _ = Token.objects.filter(user=user).delete()
        key = Token.objects.create(user=user).key
        record(
            "people.api_token.issue", actor=actor, authority="SP 3.4.3", subject=actor,
            details={"login": user.get_username(), "replaced_earlier_one": bool(replaced)},
        )
    return key


# --- logins -------------------------------------------------------------------------------

# SM 4.2.1 keeps "login and root access" logs (6 to 12 months); SP 4.2.1: "All sensitive
# events should be logged reliably". Only the login page's sign-ins are recorded here:
# an API token authenticates each request, it does not open a session.
LOGIN_LOGS = "SM 4.2.1"


def _login_entry(action: str, *, by: Any | None, account: Any | None,
                 details: dict[str, Any], by_label: str = "visitor (not logged in)") -> None:
    """`by`: the login that acted (None: someone without one, named by `by_label`);
    `account`: the login the entry is about."""
    def person_of(user: Any | None) -> Person | None:
        return Person.objects.filter(user=user).first() if user is not None else None

    actor, subject = person_of(by), person_of(account)
    label = "" if actor is not None else by.get_username() if by is not None else by_label
    with transaction.atomic():
        record(action, actor=actor, actor_label=label, authority=LOGIN_LOGS,
               subject=subject, details=details, retention_class=RetentionClass.LOGIN)


def record_login(user: Any, *, address: str | None) -> None:
    _login_entry("login.succeeded", by=user, account=user,
                 details={"login": user.get_username(), "address": address})


def record_failed_login(typed: str, *, address: str | None, locked_out: bool = False) -> None:
    """A refused sign-in, by nobody known; `locked_out`: the attempt reached the limit of
    failures or met the lockout it set (django-axes: from then on the password is not
    even checked). The name is recorded only when it is an existing login: what else
    people type into that field is too often their password."""
    model = get_user_model()
    user = None
    if "\x00" not in typed:  # no login holds one (and PostgreSQL refuses it in a query)
        user = model._default_manager.filter(**{model.USERNAME_FIELD: typed[:150]}).first()
    details: dict[str, Any] = {"login": user.get_username() if user is not None else None,
                               "address": address}
    if user is None:
        details["unknown_login"] = True
    if locked_out:
        details["locked_out"] = True
    _login_entry("login.failed", by=None, account=user, details=details)


def record_logout(user: Any, *, address: str | None) -> None:
    _login_entry("logout", by=user, account=user,
                 details={"login": user.get_username(), "address": address})


def _set_password(user: Any, new: str, *, field: str, action: str, by: Any | None,
                  by_label: str = "") -> Any:
    """The validators (settings.AUTH_PASSWORD_VALIDATORS), then the new password and its
    entry in one transaction; the entry says only that it changed, never a password."""
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field=field) from None
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        _login_entry(action, by=by, account=user, by_label=by_label,
                     details={"login": user.get_username()})
    return user


def change_own_password(*, user: Any, current: str, new: str) -> Any:
    """A login changes its own password, the current one first (SM 4.2.1 logs it)."""
    if not user.check_password(current):
        raise RuleViolation("The current password is not right.", field="old_password")
    if new == current:
        raise RuleViolation("The new password is the current one.", field="new_password1")
    return _set_password(user, new, field="new_password1", action="login.password_change",
                         by=user)


def reset_password(*, login: str, new: str, by_label: str) -> Any:
    """The server's operator sets a new password for a login (its owner forgot theirs).
    No current password, so only from the command line; the entry names the operator's
    tool."""
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: login}).first()
    if user is None:
        raise RuleViolation(f"there is no login {login!r}", field="login")
    return _set_password(user, new, field="password", action="login.password_reset",
                         by=None, by_label=by_label)
