"""The authentication schemes register (SP 3.4.3 "All authentication schemes must be
documented"): per system and access path, what authenticates and what is refused.

A scheme is replaced, never edited: documenting a new one for the same system and path
ends the old one in the same transaction, and both are in the Event Log."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.controls import Finding
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.validation import check_text
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import record
from secman.people.models import Person
from secman.privileged.choices import AccessPath
from secman.privileged.models import AuthenticationScheme
from secman.privileged.selectors import may_keep_register
from secman.systems.choices import Criticality, SystemStatus
from secman.systems.models import System

SECTION = "SP 3.4.3"
CLI = "secman command line"
SSH_PATHS = (AccessPath.SSH_HOP, AccessPath.SSH_DIRECT)


def _require_keeper(actor: Person | None, what: str) -> None:
    # None is the command line, whose operator already controls the server.
    if actor is not None and not may_keep_register(actor):
        raise NotAllowed(f"{what} is for Systems Administrators", section=SECTION)


def live_schemes() -> QuerySet[AuthenticationScheme]:
    return AuthenticationScheme.objects.filter(ended_at__isnull=True).select_related(
        "system", "via", "documented_by", "authority")


def schemes_url(system: System) -> str:
    return reverse("privileged:system_schemes", args=[system.name])


def document_scheme(*, actor: Person | None, system: System, path: str, authenticates: str,
                    refused: str, authority: AuthorityLike, via: System | None = None,
                    ip_blocking: bool = False) -> AuthenticationScheme:
    """Document how `system` is reached by `path`. The scheme live for that system and
    path until now, if any, ends (replaced). SSH via the hop machine names the hop
    (`via`), a system in service other than this one; no other path has a `via`."""
    _require_keeper(actor, "documenting an authentication scheme")
    if path not in AccessPath.values:
        raise RuleViolation(f"the access path is one of {', '.join(AccessPath.values)}",
                            field="path", section=SECTION)
    authenticates, refused = (authenticates or "").strip(), (refused or "").strip()
    if not authenticates:
        raise RuleViolation("say what authenticates on this path (keys, passphrase, ...)",
                            field="authenticates", section=SECTION)
    if not refused:
        raise RuleViolation("say what is refused on this path (passwords, root logins, ...)",
                            field="refused", section=SECTION)
    check_text(AuthenticationScheme, {"authenticates": authenticates, "refused": refused})
    retired = set(System.objects.filter(
        pk__in=[system.pk, via.pk if via else system.pk],
        status=SystemStatus.RETIRED).values_list("pk", flat=True))
    if system.pk in retired:
        raise RuleViolation(f"{system} is retired: it has no access paths to document",
                            field="system", section=SECTION)
    if path == AccessPath.SSH_HOP:
        if via is None:
            raise RuleViolation("SSH via the hop machine names the hop machine", field="via",
                                section="SM 3.4.3")
        if via.pk == system.pk:
            raise RuleViolation(f"{system} cannot be its own hop machine", field="via",
                                section="SM 3.4.3")
        if via.pk in retired:
            raise RuleViolation(f"{via} is retired: it is no hop machine any more",
                                field="via", section="SM 3.4.3")
    elif via is not None:
        raise RuleViolation("only SSH via the hop machine names a hop machine", field="via",
                            section=SECTION)
    try:
        with transaction.atomic():
            authority_row = resolve_authority(authority)
            old = (AuthenticationScheme.objects.select_for_update()
                   .filter(system=system, path=path, ended_at__isnull=True).first())
            now = timezone.now()
            if old is not None:
                old.ended_at = now
                old.save(update_fields=["ended_at"])
            scheme = AuthenticationScheme.objects.create(
                system=system, path=path, via=via, authenticates=authenticates,
                refused=refused, ip_blocking=ip_blocking, documented_at=now,
                documented_by=actor, authority=authority_row)
            record("privileged.scheme.document", actor=actor, authority=authority_row,
                   subject=scheme, retention_class=RetentionClass.CONFIGURATION,
                   actor_label="" if actor else CLI,
                   details={"system": system.name, "path": path,
                            "hop": via.name if via else None, "authenticates": authenticates,
                            "refused": refused, "ip_blocking": ip_blocking,
                            "replaces": old.pk if old else None})
    except IntegrityError:  # another scheme for this path documented meanwhile
        raise RuleViolation("a scheme for this path was documented meanwhile: look again",
                            field="path", section=SECTION) from None
    return scheme


def end_scheme(*, actor: Person | None, scheme: AuthenticationScheme, reason: str,
               authority: AuthorityLike) -> AuthenticationScheme:
    """The path no longer exists (console removed, web roles gone): the scheme ends
    without a replacement."""
    _require_keeper(actor, "ending an authentication scheme")
    if not (reason or "").strip():
        raise RuleViolation("say why the path no longer exists", field="reason",
                            section=SECTION)
    if len(reason.strip()) > 300 or "\n" in reason:
        raise RuleViolation("the reason is one line of at most 300 characters",
                            field="reason", section=SECTION)
    with transaction.atomic():
        locked = AuthenticationScheme.objects.select_for_update().get(pk=scheme.pk)
        if locked.ended_at is not None:
            raise RuleViolation(f"this scheme ended on {locked.ended_at:%Y-%m-%d}",
                                field="scheme", section=SECTION)
        authority_row = resolve_authority(authority)
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at"])
        record("privileged.scheme.end", actor=actor, authority=authority_row, subject=locked,
               retention_class=RetentionClass.CONFIGURATION, actor_label="" if actor else CLI,
               details={"system": locked.system.name, "path": locked.path,
                        "reason": reason.strip()})
    return locked


# --- controls (SP 3.4.3) -----------------------------------------------------------------------


def schemes_documented() -> list[Finding]:
    """Every critical system in service has a documented SSH scheme and a console
    scheme."""
    live: dict[int, set[str]] = {}
    for system_id, path in AuthenticationScheme.objects.filter(
            ended_at__isnull=True).values_list("system_id", "path"):
        live.setdefault(system_id, set()).add(path)
    findings = []
    for system in System.objects.filter(criticality=Criticality.CRITICAL,
                                        status=SystemStatus.IN_SERVICE):
        paths = live.get(system.pk, set())
        missing = []
        if not paths & set(SSH_PATHS):
            missing.append("SSH")
        if AccessPath.CONSOLE not in paths:
            missing.append("console")
        if missing:
            findings.append(Finding(SECTION, f"{system} is a critical system in service with "
                                    f"no documented {' or '.join(missing)} authentication "
                                    "scheme", schemes_url(system),
                                    subject=f"system:{system.name}"))
    return findings


def hop_in_service() -> list[Finding]:
    """An SSH-via-hop scheme goes through a hop machine that is not retired."""
    return [Finding(SECTION, f"{s.system} is documented as reached via {s.via}, which is "
                    "retired: document the path it is reached by now", schemes_url(s.system),
                    subject=f"scheme:{s.pk}")
            for s in live_schemes().filter(path=AccessPath.SSH_HOP,
                                           via__status=SystemStatus.RETIRED)]


def scheme_row(scheme: AuthenticationScheme) -> dict[str, Any]:
    return {"id": scheme.pk, "system": scheme.system.name, "path": scheme.path,
            "via": scheme.via.name if scheme.via else None,
            "authenticates": scheme.authenticates, "refused": scheme.refused,
            "ip_blocking": scheme.ip_blocking,
            "documented_at": scheme.documented_at.isoformat(),
            "documented_by": str(scheme.documented_by or "") or None,
            "authority": str(scheme.authority),
            "ended_at": scheme.ended_at.isoformat() if scheme.ended_at else None}
