"""The checks of keys, accounts and sshd on the critical systems (SM 3.4.3, 4.1.1, 9.1.7,
SP 4.1.1.1): what each critical system's newest agent report holds, against the register
(keys, accounts, admin origins) and the SSH Access List.

Each check reads a `Context`: one newest_facts() call for the critical systems and a
handful of lookups (keys, list members, grants, accounts, origins, flows), each loaded
only when a check needs it, so a register of 500 systems costs a few queries. A fact
the agent could not collect (None) is "not evidenced", never silently OK."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from secman.core.controls import Finding, Status
from secman.people.choices import ListKind
from secman.people.models import ListEntry, Person
from secman.people.rules import LIST_RULES
from secman.privileged.choices import AccountKind
from secman.privileged.models import Account, AdminOrigin, SshKey, TemporaryGrant
from secman.privileged.selectors import Facts, newest_facts
from secman.systems.choices import Criticality, Direction, Protocol
from secman.systems.models import Flow, System
from secman.systems.selectors import in_effect

# sshd -T settings that break the rules: (option, the values that break it, section, why).
SSHD_RULES: tuple[tuple[str, Callable[[str], bool], str, str], ...] = (
    ("permitrootlogin", lambda v: v != "no", "SM 4.1.1",
     "root logs in only at the console (SM 4.1.1): PermitRootLogin must be no"),
    ("passwordauthentication", lambda v: v == "yes", "SM 3.4.3",
     "access is by SSH keys (SM 3.4.3): PasswordAuthentication must be no"),
    ("permitemptypasswords", lambda v: v == "yes", "SM 4.1.1",
     "an individual password is needed (SM 4.1.1): PermitEmptyPasswords must be no"),
)
# A sudoers line that lets a command run without the user's own password.
NOPASSWD_RE = re.compile(r"\bNOPASSWD\s*:|!\s*authenticate\b")


def system_page(system: System) -> str:
    return reverse("privileged:system_access", args=[system.name])


class Context:
    """What the checks read, each piece loaded once on first use."""

    def __init__(self) -> None:
        self.now = timezone.now()

    @cached_property
    def systems(self) -> list[System]:
        return list(System.objects.filter(criticality=Criticality.CRITICAL,
                                          retired_at__isnull=True).order_by("name"))

    @cached_property
    def facts(self) -> dict[int, Facts]:
        return newest_facts(self.systems) if self.systems else {}

    @cached_property
    def keys(self) -> dict[str, SshKey]:
        return {k.fingerprint: k for k in SshKey.objects.select_related("person")}

    @cached_property
    def ssh_list(self) -> set[int]:
        """The people on the SSH Access List, by their own entry or by default (the
        Physical Access List members, SP 3.4.2)."""
        kinds = {ListKind.SSH_ACCESS, *LIST_RULES[ListKind.SSH_ACCESS].includes_lists}
        return set(ListEntry.objects.active().filter(access_list__kind__in=kinds)
                   .values_list("person_id", flat=True))

    @cached_property
    def grants(self) -> set[tuple[int, int]]:
        """(person, system) of each temporary grant in force now (SP 4.1.1.1)."""
        return set(TemporaryGrant.objects.filter(
            revoked_at__isnull=True, starts_at__lte=self.now, ends_at__gt=self.now)
            .values_list("person_id", "system_id"))

    @cached_property
    def ended_grants(self) -> set[tuple[int, int]]:
        """(person, system) of each temporary grant that ended, expired or revoked."""
        return set(TemporaryGrant.objects.filter(
            Q(revoked_at__isnull=False) | Q(ends_at__lte=self.now))
            .values_list("person_id", "system_id"))

    @cached_property
    def accounts(self) -> dict[int, list[Account]]:
        by_system: dict[int, list[Account]] = defaultdict(list)
        for account in Account.objects.filter(removed_at__isnull=True,
                                              system__in=self.systems).select_related(
                                                  "person"):
            by_system[account.system_id].append(account)
        return by_system

    def allowed(self, person_id: int, system: System) -> bool:
        return person_id in self.ssh_list or (person_id, system.pk) in self.grants

    def each(self, fact: str) -> list[tuple[System, Any]]:
        """(system, the fact's value) for each critical system whose newest report holds
        it; the others are access_facts_reported's findings."""
        found = []
        for system in self.systems:
            facts = self.facts.get(system.pk)
            value = getattr(facts, fact) if facts is not None else None
            if value is not None:
                found.append((system, value))
        return found


FACTS = ("authorized_keys", "accounts", "sshd", "sudoers")


def access_facts_reported() -> list[Finding]:
    """SM 3.4.3, 4.1.1: each critical system's newest agent report holds the access facts
    the checks read (authorized_keys, accounts, sshd, sudoers). A fact the agent could not
    collect is not evidenced, never silently OK."""
    context = Context()
    findings = []
    for system in context.systems:
        facts = context.facts.get(system.pk)
        if facts is None:
            findings.append(Finding("SM 3.4.3", f"{system} has sent no agent report: its keys, "
                                    "accounts, sshd and sudoers are not evidenced",
                                    system_page(system), status=Status.NOT_EVIDENCED,
                                    subject=f"system:{system.name}"))
            continue
        lacking = [f.replace("_", " ") for f in FACTS if getattr(facts, f) is None]
        if lacking:
            findings.append(Finding("SM 3.4.3", f"{system}'s newest agent report lacks "
                                    f"{', '.join(lacking)}: not evidenced",
                                    system_page(system), status=Status.NOT_EVIDENCED,
                                    subject=f"system:{system.name}"))
    return findings


def _keys_found(context: Context) -> list[tuple[System, dict[str, Any]]]:
    return [(system, entry) for system, entries in context.each("authorized_keys")
            for entry in entries]


def _user(entry: dict[str, Any]) -> str:
    return str(entry.get("user", "?"))


def unknown_keys() -> list[Finding]:
    """SM 3.4.3, SP 4.1.1.1: every key in authorized_keys on a critical system is a
    registered person's key."""
    context = Context()
    findings = []
    for system, entry in _keys_found(context):
        if "error" in entry and not entry.get("fingerprint"):
            findings.append(Finding("SM 3.4.3", f"{system}: {entry.get('path', '?')} could "
                                    f"not be read ({entry['error']}): its keys are not "
                                    "evidenced", system_page(system),
                                    status=Status.NOT_EVIDENCED,
                                    subject=f"system:{system.name}"))
            continue
        fingerprint = str(entry.get("fingerprint", ""))
        if fingerprint not in context.keys:
            findings.append(Finding("SM 3.4.3", f"{system}: unknown key {fingerprint} "
                                    f"({entry.get('type', '?')}, "
                                    f"{entry.get('comment') or 'no comment'}) may log in as "
                                    f"{_user(entry)}: it is registered to nobody",
                                    system_page(system),
                                    subject=f"key:{system.name}:{fingerprint}"))
    return findings


def keys_of_listed_people() -> list[Finding]:
    """SP 4.1.1.1: a key present, or a personal account registered, on a critical system
    belongs to someone on the SSH Access List or with a temporary grant there now."""
    context = Context()
    findings = []
    for system, entry in _keys_found(context):
        key = context.keys.get(str(entry.get("fingerprint", "")))
        if key is None or key.blocked_at is not None:
            continue  # unknown_keys and blocked_keys_absent say these
        if (key.person_id, system.pk) in context.ended_grants:
            continue  # grant_keys_removed says it, with the grant's end
        if not context.allowed(key.person_id, system):
            findings.append(Finding("SP 4.1.1.1", f"{system}: {key.person}'s key "
                                    f"{key.fingerprint} may log in as {_user(entry)}, but "
                                    f"{key.person} is not on the SSH Access List and has no "
                                    "temporary grant there", system_page(system),
                                    subject=f"key:{system.name}:{key.fingerprint}"))
    for system in context.systems:
        for account in context.accounts.get(system.pk, []):
            if (account.kind == AccountKind.PERSONAL and account.person_id is not None
                    and not context.allowed(account.person_id, system)):
                findings.append(Finding("SP 4.1.1.1", f"{system}: {account.person} has the "
                                        f"personal account {account.username} but is not on "
                                        "the SSH Access List and has no temporary grant there",
                                        system_page(system),
                                        subject=f"account:{system.name}:{account.username}"))
    return findings


def blocked_keys_absent() -> list[Finding]:
    """SM 9.1.7 step 1: a blocked key is on no critical system."""
    context = Context()
    findings = []
    for system, entry in _keys_found(context):
        key = context.keys.get(str(entry.get("fingerprint", "")))
        if key is not None and key.blocked_at is not None:
            findings.append(Finding("SM 9.1.7", f"{system}: {key.person}'s key "
                                    f"{key.fingerprint}, blocked on "
                                    f"{key.blocked_at:%Y-%m-%d}, may still log in as "
                                    f"{_user(entry)}", system_page(system),
                                    subject=f"key:{system.name}:{key.fingerprint}"))
    return findings


def listed_people_have_keys() -> list[Finding]:
    """SM 3.4.3 (access by SSH keys): each person on the SSH Access List has a key
    registered that is not blocked."""
    context = Context()
    with_keys = {k.person_id for k in context.keys.values() if k.blocked_at is None}
    people = Person.objects.filter(pk__in=context.ssh_list - with_keys).order_by("name")
    return [Finding("SM 3.4.3", f"{person} is on the SSH Access List but has no SSH key "
                    "registered", reverse("privileged:keys") + f"#person-{person.pk}",
                    status=Status.WARNING, subject=f"person:{person.pk}")
            for person in people]


def _sshd_rule(option: str, breaks: Callable[[str], bool], section: str,
               why: str) -> Callable[[], list[Finding]]:
    def check() -> list[Finding]:
        context = Context()
        findings = []
        for system, sshd in context.each("sshd"):
            value = sshd.get(option)
            if value is None:
                findings.append(Finding(section, f"{system}: sshd -T did not report "
                                        f"{option}: not evidenced", system_page(system),
                                        status=Status.NOT_EVIDENCED,
                                        subject=f"sshd:{system.name}:{option}"))
            elif breaks(value.strip().lower()):
                findings.append(Finding(section, f"{system}: sshd has {option} {value}; "
                                        f"{why}", system_page(system),
                                        subject=f"sshd:{system.name}:{option}"))
        return findings
    check.__name__ = f"sshd_{option}"
    check.__doc__ = why
    return check


def nopasswd_lines(sudoers: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(path, line) of each non-comment sudoers line that skips the password."""
    found = []
    for item in sudoers:
        for raw in str(item.get("content", "")).splitlines():
            line = raw.strip()
            # "#include" and "#includedir" are directives, not comments; neither can skip
            # a password, so every line starting with # is left out.
            if line and not line.startswith("#") and NOPASSWD_RE.search(line):
                found.append((str(item.get("path", "?")), line))
    return found


def sudo_asks_password() -> list[Finding]:
    """SM 4.1.1: "an individual password is needed": no NOPASSWD (or !authenticate) in
    sudoers on a critical system."""
    context = Context()
    findings = []
    for system, sudoers in context.each("sudoers"):
        for path, line in nopasswd_lines(sudoers):
            findings.append(Finding("SM 4.1.1", f"{system}: {path} lets sudo run without "
                                    f"the user's password: {line[:120]}", system_page(system),
                                    subject=f"sudoers:{system.name}:{path}"))
    return findings


def privileged_accounts_no_login() -> list[Finding]:
    """SM 4.1.1: "Other privileged accounts (database, http server, etc) should be
    configured as to not permit login": none of them has a login shell (root excepted:
    console access)."""
    context = Context()
    findings = []
    for system, accounts in context.each("accounts"):
        shells = {str(a.get("user")): str(a.get("shell", "")) for a in accounts}
        for account in context.accounts.get(system.pk, []):
            # root keeps its shell: the Console Access List's emergency access (SM 4.1.1),
            # remote root login being refused by sshd (the permitrootlogin check).
            if (account.kind != AccountKind.PERSONAL and account.username != "root"
                    and account.username in shells):
                kind = AccountKind(account.kind).label.lower()
                findings.append(Finding("SM 4.1.1", f"{system}: the {kind} "
                                        f"{account.username} has the login shell "
                                        f"{shells[account.username]}: it should not permit "
                                        "login", system_page(system),
                                        subject=f"account:{system.name}:{account.username}"))
    return findings


def login_accounts_registered() -> list[Finding]:
    """SM 3.4.3: every account with a login shell on a critical system is in the
    register (a personal named account, or a documented privileged/service one)."""
    context = Context()
    findings = []
    for system, accounts in context.each("accounts"):
        known = {a.username for a in context.accounts.get(system.pk, [])}
        for reported in accounts:
            user = str(reported.get("user", ""))
            if user not in known:
                findings.append(Finding("SM 3.4.3", f"{system}: the account {user} (shell "
                                        f"{reported.get('shell', '?')}) is not in the "
                                        "register", system_page(system),
                                        status=Status.WARNING,
                                        subject=f"account:{system.name}:{user}"))
    return findings


def _is_ssh(flow: Flow) -> bool:
    if flow.service.strip().lower() == "ssh":
        return True
    if flow.protocol != Protocol.TCP or flow.port is None:
        return False
    return flow.port <= 22 <= (flow.port_end or flow.port)


def _peer_within(peer: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
                 ) -> bool:
    try:
        wanted = ipaddress.ip_network(peer.strip(), strict=False)
    except ValueError:
        return False
    return any(wanted.version == n.version and wanted.subnet_of(n)  # type: ignore[arg-type]
               for n in networks)


def ssh_from_admin_origins() -> list[Finding]:
    """SM 3.4.3: SSH to a critical system comes only from a documented admin origin (the
    hop machine, or a documented network)."""
    origins = list(AdminOrigin.objects.filter(ended_at__isnull=True).select_related("system"))
    origin_systems = {o.system_id for o in origins if o.system_id}
    origin_names = {o.system.name for o in origins if o.system is not None}
    networks = [ipaddress.ip_network(o.network) for o in origins if o.network]
    flows = (Flow.objects.filter(in_effect(), direction=Direction.INGRESS,
                                 system__criticality=Criticality.CRITICAL,
                                 system__retired_at__isnull=True)
             .filter(Q(service__iexact="ssh") | Q(protocol=Protocol.TCP))
             .select_related("system", "peer_system"))
    findings = []
    for flow in flows:
        if not _is_ssh(flow):
            continue
        if flow.peer_system_id in origin_systems or flow.peer.strip() in origin_names \
                or _peer_within(flow.peer, networks):
            continue
        peer = flow.peer_system or flow.peer or "anywhere"
        findings.append(Finding("SM 3.4.3", f"{flow.system}: SSH is allowed in from {peer}, "
                                "which is not a documented admin origin",
                                flow.system.get_absolute_url(),
                                subject=f"flow:{flow.pk}"))
    return findings

