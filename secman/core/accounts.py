"""The person behind a login."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist


def person_for_user(user: Any) -> Any:
    """The people.Person linked to a signed-in user, or None. Through the one-to-one
    relation the people app declares (Person.user, related_name "person"), so that the
    helpers every page uses need not import the people app, which sits above core."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except ObjectDoesNotExist:
        return None
