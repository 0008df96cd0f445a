"""The systems' sshd failures as a source of failed access attempts (SM 4.1.1.2, the
privileged chapter's seam): the messages the rule `sshd_auth_failure` matches."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse

from secman.logs.detection import extract_fields
from secman.logs.models import Message
from secman.privileged import attempts

LIMIT = 500


def failed_ssh_logins(since: dt.datetime) -> list[attempts.Attempt]:
    rows = (Message.objects.filter(received_at__gte=since, program="sshd",
                                   purged_at__isnull=True)
            .filter(Q(text__contains="Failed password") | Q(text__contains="Failed publickey")
                    | Q(text__startswith="Invalid user"))
            .order_by("-received_at").values_list("seq", "received_at", "host", "text")[:LIMIT])
    found = []
    for seq, at, host, text in rows:
        origin, user = extract_fields("sshd", text)
        found.append(attempts.Attempt("sshd logs", at, f"{user or '?'}@{host}", origin or "",
                                      reverse("logs:message", args=[seq])))
    return found


attempts.register_source("sshd logs", failed_ssh_logins)
