"""Reading CAcert's infrastructure documentation (infradocs/systems/*.rst,
infradocs/critical/*.rst) into plain records the systems register can take.

Pure Python, no database: `parse_text` turns one file's reST into a `ParsedSystem`;
`read_sources` finds and reads the files of a directory (or one file) with a size cap.
Anything it cannot read raises `InfradocsError` naming the file and the line, so the
importer (systems.imports) writes nothing for the whole run.

The document structure comes from docutils (sections, field lists, bullet lists, grid and
simple tables, each node with its source line); the roles and directives of the infradocs
Sphinx project (:doc:, :ref:, :ip:v4:, ``.. sshkeys::`` ...) are registered while a file
is parsed and removed afterwards, so other docutils users of the process see none of them.
Includes and raw input are disabled: a file never makes the parser read another file.

What a sentence says (an outbound connection's port and destination) is read with small
patterns documented in docs/infradocs-import.md.
"""

from __future__ import annotations

import io
import ipaddress
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

from secman.core.validation import TEXT_MAX, describe_character, forbidden_character
from secman.files import FileRefused, read_capped_text

# A system's document is a few hundred lines; anything far larger is not one.
FILE_CAP = 1024 * 1024
# A directory of the documentation holds a few dozen files.
MAX_FILES = 2000
MAX_PORT = 65535

SETTINGS = {
    "file_insertion_enabled": False,  # no `include`, no `csv-table :file:`
    "raw_enabled": False,
    "doctitle_xform": False,  # the title stays the first section's title
    "sectsubtitle_xform": False,
    "report_level": 5,  # problems are read from the tree, not printed
    "halt_level": 5,
    "input_encoding": "unicode",
    "syntax_highlight": "none",
    "character_level_inline_markup": False,
}

# The roles of the infradocs Sphinx project and the Sphinx roles its files use.
ROLES = ("ref", "doc", "mac", "ip:v4", "ip:v6", "term", "program", "monitor", "wiki",
         "cacertgit", "file", "bug", "github", "command", "func", "samp")
# Sphinx directives whose content the register does not keep (kept apart: sshkeys).
IGNORED_DIRECTIVES = ("index", "todo", "seealso", "sslcert", "code-block",
                      "literalinclude", "sourcecode", "toctree", "glossary", "only")

NETWORKS = {"ip internet": "internet", "ip intranet": "intranet", "ip internal": "internal"}
PORT_TOKEN = re.compile(r"^(?P<port>[^/\s]+)/(?P<protocol>[^\s]+)$")
# "80/tcp", "tcp/8140", "(53)", "(587, tcp)" in an outbound connection's sentence.
PORT_SLASH_PROTOCOL = re.compile(r"\b(\d+)(?:-(\d+))?/(tcp|udp)\b", re.IGNORECASE)
PROTOCOL_SLASH_PORT = re.compile(r"\b(tcp|udp)/(\d+)\b", re.IGNORECASE)
PORT_IN_PARENTHESES = re.compile(r"\((\d+)(?:,\s*(tcp|udp))?\)", re.IGNORECASE)
# A service named in parentheses instead of a port: "crl.cacert.org (rsync)".
NAMED_SERVICES = {"rsync": ((873, "tcp"),), "http": ((80, "tcp"),),
                  "https": ((443, "tcp"),), "smtp": ((25, "tcp"),),
                  "http and https": ((80, "tcp"), (443, "tcp"))}
NAMED_SERVICE = re.compile(r"\((" + "|".join(sorted(NAMED_SERVICES, key=len, reverse=True))
                           + r")\)", re.IGNORECASE)
# The service an outbound port is for, where the sentence names several ("HTTP (80/tcp)
# and HTTPS (443/tcp)").
WELL_KNOWN_PORTS = {22: "ssh", 25: "smtp", 53: "dns", 80: "http", 443: "https",
                    587: "submission", 873: "rsync", 8140: "puppet"}
LEADING_SERVICE = re.compile(r"^(DNS|HTTPS?|SMTP|NTP|SSH|LDAP|IMAPS?|POP3)\b")
IPV4_IN_TEXT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
HOSTNAME_IN_TEXT = re.compile(r"(?<![\w.-])(\.?(?:[a-z0-9-]+\.)+[a-z]{2,})(?![\w-])",
                              re.IGNORECASE)
SYSTEM_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RELEASE = re.compile(r"^(?P<name>.*?)\s+(?P<release>\d+(?:\.\d+)*)\b")


class InfradocsError(ValueError):
    """A file cannot be read as a system's document. The message names the file and,
    where there is one, the line."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class PersonRef:
    """A person named in the documentation: the people.rst label, and what people.rst
    says of them."""

    label: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class ParsedAddress:
    network: str
    address: str
    interface: str
    line: int


@dataclass(frozen=True)
class ParsedFlow:
    direction: str  # "ingress" or "egress"
    protocol: str
    port: int | None
    port_end: int | None
    service: str
    peer: str  # ingress: the origin; egress: the destination
    peer_document: str  # the system a :doc: reference names ("" if none)
    purpose: str
    line: int


@dataclass
class ParsedSystem:
    name: str
    source: str  # "infradocs/systems/web.rst"
    title_line: int
    criticality: str = "infrastructure"
    kind: str = "physical"
    host_document: str = ""
    purpose: str = ""
    primary_admin: PersonRef | None = None
    secondary_admin: PersonRef | None = None
    applications: list[dict[str, str]] = field(default_factory=list)
    contact: str = ""
    addresses: list[ParsedAddress] = field(default_factory=list)
    macs: list[dict[str, str]] = field(default_factory=list)
    monitoring: list[dict[str, str]] = field(default_factory=list)
    dns_records: list[tuple[str, str, str]] = field(default_factory=list)
    os_name: str = ""
    os_release: str = ""
    running_services: list[dict[str, str]] = field(default_factory=list)
    databases: list[dict[str, str]] = field(default_factory=list)
    connected_systems: list[str] = field(default_factory=list)
    flows: list[ParsedFlow] = field(default_factory=list)
    ssh_host_keys: list[dict[str, str]] = field(default_factory=list)

    def flow_source(self, flow: ParsedFlow) -> str:
        return f"{self.source}:{flow.line}"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    label: str  # "infradocs/systems/web.rst"
    text: str


# --- docutils: the project's roles and directives ------------------------------------------


def _role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
          options: dict[str, Any] | None = None,
          content: Sequence[str] = ()) -> tuple[list[nodes.Node], list[nodes.Node]]:
    """Every role of the project becomes a literal that remembers its role and target:
    :doc:`secure.cacert.org <../critical/webdb>` shows "secure.cacert.org", targets
    "../critical/webdb"."""
    text = nodes.unescape(text)
    shown, target = text, text
    titled = re.match(r"^(.*?)\s*<([^<>]+)>$", text, re.DOTALL)
    if titled and name in ("doc", "ref", "term") and titled.group(1):
        shown, target = titled.group(1), titled.group(2)
    node = nodes.literal(rawtext, shown, role=name.lower(), target=target.strip())
    return [node], []


class _AnyOption(dict[str, Any]):
    """An option spec that takes any option (sshkeys: one per key type)."""

    def __bool__(self) -> bool:  # docutils reads options only when the spec is truthy
        return True

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return directives.unchanged


class _Ignored(Directive):
    """A Sphinx directive whose content the register does not keep; never reads a file."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOption()

    def run(self) -> list[nodes.Node]:
        return []


class _SshKeys(Directive):
    """.. sshkeys:: with one option per key type: ":RSA: SHA256:... MD5:..."."""

    has_content = True
    option_spec = _AnyOption()

    def run(self) -> list[nodes.Node]:
        keys = []
        for key_type, value in self.options.items():
            entry = {"type": key_type.upper()}
            for part in (value or "").split():
                kind, _, fingerprint = part.partition(":")
                if kind.upper() in ("SHA256", "MD5") and fingerprint:
                    entry[kind.lower()] = part
            keys.append(entry)
        return [nodes.container(classes=["sshkeys"], keys=keys, line=self.lineno)]


_PARSE_LOCK = threading.Lock()


@contextmanager
def _project_markup() -> Iterator[None]:
    """The project's roles and directives, registered for the duration of one parse.
    docutils keeps them in module-level registries: they are put back as they were."""
    with _PARSE_LOCK:
        saved_roles = dict(roles._roles)  # type: ignore[attr-defined]
        saved_directives = dict(directives._directives)  # type: ignore[attr-defined]
        try:
            for name in ROLES:
                roles.register_local_role(name, _role)  # type: ignore[arg-type]
            for name in IGNORED_DIRECTIVES:
                directives.register_directive(name, _Ignored)
            directives.register_directive("sshkeys", _SshKeys)
            yield
        finally:
            roles._roles.clear()  # type: ignore[attr-defined]
            roles._roles.update(saved_roles)  # type: ignore[attr-defined]
            directives._directives.clear()  # type: ignore[attr-defined]
            directives._directives.update(saved_directives)  # type: ignore[attr-defined]


def doctree(text: str, source: str) -> nodes.document:
    """The docutils tree of `text`, or InfradocsError at the first error docutils reports
    (a malformed table, an unknown role or directive, inconsistent titles)."""
    with _project_markup():
        try:
            tree = publish_doctree(text, source_path=source, settings_overrides=dict(
                SETTINGS, warning_stream=io.StringIO()))
        except Exception as exc:  # docutils raises many kinds; the file is named
            raise InfradocsError(source, f"the reStructuredText cannot be read ({exc})"
                                 ) from None
    for message in tree.findall(nodes.system_message):
        if message.get("level", 0) >= 3:
            detail = " ".join(message.children[0].astext().split()) if message.children \
                else message.astext()
            raise InfradocsError(source, detail[:300], message.get("line"))
    return tree


# --- reading the tree ----------------------------------------------------------------------


def _plain(node: nodes.Node) -> str:
    """The text of a node on one line."""
    return " ".join(node.astext().split())


def _line(node: nodes.Node, default: int) -> int:
    for candidate in (node, *node.findall(nodes.Element)):
        line = getattr(candidate, "line", None)
        if line:
            return int(line)
    return default


def _sections(tree: nodes.document) -> dict[str, nodes.section]:
    """Every section by its title in lower case (the first of a title that repeats)."""
    found: dict[str, nodes.section] = {}
    for section in tree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None:
            found.setdefault(_plain(title).lower(), section)
    return found


def _own(section: nodes.section | None, kind: type[nodes.Element]) -> list[Any]:
    """The nodes of `kind` in a section, not in its subsections."""
    if section is None:
        return []
    found = []
    for child in section.children:
        if isinstance(child, nodes.section):
            continue
        if isinstance(child, kind):
            found.append(child)
        elif isinstance(child, nodes.Element):
            found.extend(node for node in child.findall(kind)
                         if not any(isinstance(p, nodes.section) for p in _parents(node, child)))
    return found


def _parents(node: nodes.Node, stop: nodes.Node) -> Iterator[nodes.Node]:
    parent = node.parent
    while parent is not None and parent is not stop:
        yield parent
        parent = parent.parent


def _roles_in(node: nodes.Node, *names: str) -> list[nodes.literal]:
    return [lit for lit in node.findall(nodes.literal) if lit.get("role") in names]


def _table_rows(table: nodes.table) -> tuple[list[str], list[tuple[int, list[nodes.entry]]]]:
    """A table's header (lower case) and its body rows (line, entries)."""
    header: list[str] = []
    head = table.next_node(nodes.thead)
    if head is not None:
        first = head.next_node(nodes.row)
        if first is not None:
            header = [_plain(entry).lower() for entry in first.children]
    rows = []
    body = table.next_node(nodes.tbody)
    if body is not None:
        for row in body.children:
            if isinstance(row, nodes.row):
                rows.append((_line(row, 0), [e for e in row.children
                                             if isinstance(e, nodes.entry)]))
    return header, rows


def _table_dicts(table: nodes.table, source: str) -> list[dict[str, str]]:
    header, rows = _table_rows(table)
    result = []
    for line, entries in rows:
        values = {}
        for name, entry in zip(header, entries, strict=False):
            values[name or "column"] = _checked(_plain(entry), source, line, 500)
        result.append(values)
    return result


def _checked(text: str, source: str, line: int, limit: int, *,
             multiline: bool = False) -> str:
    """Documentation text as a register's field takes it (core.validation's rules: no
    control character, no text-direction control), at most `limit` characters."""
    index = forbidden_character(text, multiline=multiline)
    if index is not None:
        raise InfradocsError(source, f"{describe_character(text[index])} at position "
                             f"{index + 1} of {text[:40]!r}", line)
    if len(text) > limit:
        raise InfradocsError(source, f"a text of {len(text)} characters (at most {limit}): "
                             f"{text[:40]!r}…", line)
    return text


def _document_name(target: str) -> str:
    """The system a :doc: target names: "../critical/webdb" → "webdb"."""
    return target.rstrip("/").rsplit("/", 1)[-1].lower()


# --- people --------------------------------------------------------------------------------


def parse_people(text: str, source: str = "people.rst") -> dict[str, PersonRef]:
    """people.rst: each `.. _people_x:` label with the name of its section and its
    :contact: address."""
    tree = doctree(text, source)
    people: dict[str, PersonRef] = {}
    for section in tree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is None:
            continue
        email = ""
        for field_node in _own(section, nodes.field):
            if _plain(field_node[0]).lower() == "contact":
                email = _plain(field_node[1])
        for label in section.get("names", []):
            if label.startswith("people_"):
                people[label] = PersonRef(label=label, name=_plain(title), email=email)
    return people


# --- one system ----------------------------------------------------------------------------


def is_template(path: Path, text: str) -> bool:
    """template.rst files are the documentation's templates, not systems."""
    return path.name == "template.rst" or "Systems - TEMPLATE" in text[:2000]


def parse_text(text: str, *, source: str, criticality: str = "infrastructure",
               people: dict[str, PersonRef] | None = None) -> ParsedSystem:
    """One system's document. InfradocsError names the file and line of what is wrong."""
    tree = doctree(text, source)
    sections = _sections(tree)
    first = tree.next_node(nodes.section)
    if first is None:
        raise InfradocsError(source, "no title: a system's document starts with its name "
                             "as title", 1)
    title = first.next_node(nodes.title)
    title_line = _line(title, 1)
    name = _plain(title).lower()
    if not SYSTEM_NAME.match(name):
        raise InfradocsError(source, f"the title {_plain(title)[:60]!r} is not a system name "
                             "(letters, digits and hyphens, at most 63)", title_line)
    system = ParsedSystem(name=name, source=source, title_line=title_line,
                          criticality=criticality)
    people = people or {}
    system.purpose = _purpose(sections.get("purpose"), source)
    _administration(system, sections, people)
    _location(system, sections.get("physical location"))
    _addresses(system, sections.get("logical location"))
    system.monitoring = [
        {"kind": _checked(_plain(f[0]), source, _line(f, 0), 100),
         "target": _checked(_plain(f[1]), source, _line(f, 0), 300)}
        for f in _own(sections.get("monitoring"), nodes.field)]
    _dns(system, sections.get("dns"))
    _operating_system(system, sections.get("operating system"))
    _listening(system, sections.get("listening services"))
    for key, attribute in (("running services", "running_services"),
                           ("databases", "databases")):
        tables = _own(sections.get(key), nodes.table)
        setattr(system, attribute, [row for table in tables
                                    for row in _table_dicts(table, source)])
    system.connected_systems = list(dict.fromkeys(
        _document_name(lit["target"])
        for item in _own(sections.get("connected systems"), nodes.list_item)
        for lit in _roles_in(item, "doc")))
    _outbound(system, sections.get("outbound network connections"))
    for container in tree.findall(nodes.container):
        if "sshkeys" in container["classes"]:
            system.ssh_host_keys.extend(container["keys"])
    return system


def _purpose(section: nodes.section | None, source: str) -> str:
    if section is None:
        return ""
    paragraphs = [" ".join(p.astext().split()) for p in section.children
                  if isinstance(p, nodes.paragraph)]
    return _checked("\n\n".join(paragraphs), source, _line(section, 0), TEXT_MAX,
                    multiline=True)


def _person(literal: nodes.literal, people: dict[str, PersonRef]) -> PersonRef:
    label = literal["target"].lower().replace("-", "_")
    return people.get(label, PersonRef(label=label, name=label))


def _administration(system: ParsedSystem, sections: dict[str, nodes.section],
                    people: dict[str, PersonRef]) -> None:
    for item in _own(sections.get("system administration"), nodes.list_item):
        text = _plain(item).lower()
        refs = _roles_in(item, "ref")
        if not refs:
            continue  # "Secondary: None"
        if text.startswith("primary"):
            system.primary_admin = _person(refs[0], people)
        elif text.startswith("secondary"):
            system.secondary_admin = _person(refs[0], people)
    for table in _own(sections.get("application administration"), nodes.table):
        _header, rows = _table_rows(table)
        for line, entries in rows:
            if len(entries) < 2:
                continue
            names = [_person(lit, people).name for lit in _roles_in(entries[1], "ref")]
            system.applications.append({
                "application": _checked(_plain(entries[0]), system.source, line, 200),
                "administrators": _checked(", ".join(names) or _plain(entries[1]),
                                           system.source, line, 500)})
    contacts = [_plain(item) for item in _own(sections.get("contact"), nodes.list_item)]
    system.contact = _checked(", ".join(c for c in contacts if c.lower() != "none"),
                              system.source, _line(sections.get("contact") or nodes.Element(),
                                                   system.title_line), 200)


def _location(system: ParsedSystem, section: nodes.section | None) -> None:
    """"… in an LXC container on physical machine :doc:`infra02`": a container on
    infra02; a VM likewise; otherwise (a rack, nothing said) a physical machine."""
    if section is None:
        return
    hosts = [_document_name(lit["target"]) for lit in _roles_in(section, "doc")]
    text = _plain(section).lower()
    if hosts:
        system.host_document = hosts[0]
        system.kind = "vm" if re.search(r"\b(vm|virtual machine|kvm|xen)\b", text) \
            else "container"


def _addresses(system: ParsedSystem, section: nodes.section | None) -> None:
    for field_node in _own(section, nodes.field):
        label = _plain(field_node[0]).lower()
        line = _line(field_node, 0)
        if label.startswith("mac"):
            _macs(system, field_node[1], line)
            continue
        if label.startswith("ipv6"):
            network, interface = "internet", label.removeprefix("ipv6").strip()
            interface = interface.removeprefix("on").strip()
        elif label in NETWORKS:
            network, interface = NETWORKS[label], ""
        else:
            continue
        for literal in _roles_in(field_node[1], "ip:v4", "ip:v6"):
            address = _address(literal["target"], system.source, _line(literal, line))
            if any(a.address == address for a in system.addresses):
                raise InfradocsError(system.source, f"the address {address} is listed "
                                     "twice", _line(literal, line))
            system.addresses.append(ParsedAddress(network, address,
                                                  _checked(interface, system.source, line, 30),
                                                  _line(literal, line)))


def _address(text: str, source: str, line: int) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InfradocsError(source, f"{text[:60]!r} is not an IP address", line) from None


def _macs(system: ParsedSystem, body: nodes.Element, line: int) -> None:
    """":mac:`00:16:3e:15:b8:8c` (eth0)", one or a bullet list of them."""
    for literal in _roles_in(body, "mac"):
        mac = literal["target"].strip().lower()
        if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
            raise InfradocsError(system.source, f"{mac[:40]!r} is not a MAC address",
                                 _line(literal, line))
        following = literal.next_node(nodes.Text, siblings=True, descend=False)
        interface = ""
        if following is not None:
            found = re.match(r"\s*\(([^)]*)\)", following.astext())
            interface = found.group(1).strip() if found else ""
        system.macs.append({"mac": mac, "interface": _checked(interface, system.source,
                                                              line, 30)})


def _dns(system: ParsedSystem, section: nodes.section | None) -> None:
    for table in _own(section, nodes.table):
        header, rows = _table_rows(table)
        if header[:3] != ["name", "type", "content"]:
            continue
        for line, entries in rows:
            if len(entries) < 3:
                raise InfradocsError(system.source, "a DNS record needs a name, a type and "
                                     "a content", line)
            name, rtype, content = (_plain(e) for e in entries[:3])
            rtype = rtype.removeprefix("IN ").strip()
            record = (_checked(name, system.source, line, 253),
                      _checked(rtype, system.source, line, 10),
                      _checked(content, system.source, line, 500))
            if record not in system.dns_records:
                system.dns_records.append(record)


def _operating_system(system: ParsedSystem, section: nodes.section | None) -> None:
    """"* Debian GNU/Linux 10.9" (a codename after the release is dropped)."""
    for item in _own(section, nodes.list_item):
        text = _plain(item)
        found = RELEASE.match(text)
        line = _line(item, 0)
        if found:
            system.os_name = _checked(found.group("name"), system.source, line, 60)
            system.os_release = _checked(found.group("release"), system.source, line, 20)
        else:
            system.os_name = _checked(text, system.source, line, 60)
        return


def _port_range(text: str, source: str, line: int) -> tuple[int, int | None]:
    """"443" → (443, None); "6000-6010" or "6000:6010" → (6000, 6010)."""
    first, _, last = text.replace(":", "-").partition("-")
    numbers = []
    for part in (first, last) if last else (first,):
        if not part.isdigit() or not 1 <= int(part) <= MAX_PORT:
            raise InfradocsError(source, f"{text[:40]!r} is not a port (1 to {MAX_PORT})",
                                 line)
        numbers.append(int(part))
    if len(numbers) == 2 and numbers[1] <= numbers[0]:
        raise InfradocsError(source, f"the port range {text!r} does not ascend", line)
    return numbers[0], numbers[1] if len(numbers) == 2 else None


def _listening(system: ParsedSystem, section: nodes.section | None) -> None:
    """The grid table Port | Service | Origin | Purpose; a port cell may hold several
    "53/tcp" tokens (one per line or separated by commas), each a flow."""
    for table in _own(section, nodes.table):
        header, rows = _table_rows(table)
        if header[:1] != ["port"]:
            continue  # e.g. a port forwarding table under the listening services
        columns = {name: index for index, name in enumerate(header)}
        for line, entries in rows:
            def cell(name: str, entries: list[nodes.entry] = entries,
                     columns: dict[str, int] = columns) -> nodes.entry | None:
                index = columns.get(name)
                return entries[index] if index is not None and index < len(entries) else None
            port_cell = cell("port")
            if port_cell is None or not _plain(port_cell):
                raise InfradocsError(system.source, "a listening service without a port",
                                     line)
            service = _checked(_plain(cell("service") or nodes.Element()), system.source,
                               line, 60)
            origin_cell = cell("origin")
            origin = _checked(_plain(origin_cell) if origin_cell is not None else "ANY",
                              system.source, line, 200) or "ANY"
            documents = _roles_in(origin_cell, "doc") if origin_cell is not None else []
            purpose = _checked(_plain(cell("purpose") or nodes.Element()), system.source,
                               line, 300)
            for token in re.split(r"[\s,]+", port_cell.astext().strip()):
                found = PORT_TOKEN.match(token)
                if not found or found.group("protocol").lower() not in ("tcp", "udp"):
                    raise InfradocsError(system.source, f"{token[:40]!r} is not a port and "
                                         "protocol such as 22/tcp or 53/udp", line)
                port, port_end = _port_range(found.group("port"), system.source, line)
                system.flows.append(ParsedFlow(
                    direction="ingress", protocol=found.group("protocol").lower(),
                    port=port, port_end=port_end, service=service, peer=origin,
                    peer_document=_document_name(documents[0]["target"]) if documents
                    else "", purpose=purpose, line=line))


def _outbound(system: ParsedSystem, section: nodes.section | None) -> None:
    """Each bullet of "Outbound network connections" is one or more egress flows: every
    port written (80/tcp, tcp/8140, (53), (587, tcp), (rsync)) to every destination
    written (addresses, else :doc: systems, else a host name), or, with no port written,
    one flow on any port whose purpose keeps the sentence."""
    for item in _own(section, nodes.list_item):
        line = _line(item, 0)
        item = item.deepcopy()
        for note in list(item.findall(nodes.footnote_reference)):
            note.parent.remove(note)  # "[#f1]_" points at a URL below, not a destination
        sentence = _plain(item)
        if not sentence or sentence.lower() == "none":
            continue
        _checked(sentence, system.source, line, 2000)
        ports = _ports_in(sentence, system.source, line)
        leading = LEADING_SERVICE.match(sentence)
        written_service = leading.group(1).lower() if leading else ""
        documents = list(dict.fromkeys(_document_name(lit["target"])
                                       for lit in _roles_in(item, "doc")))
        addresses = [_address(text, system.source, line)
                     for text in IPV4_IN_TEXT.findall(sentence)]
        peers: list[tuple[str, str]]
        if addresses:
            peer_document = documents[0] if len(documents) == 1 else ""
            peers = [(address, peer_document) for address in addresses]
        elif documents:
            peers = [(name, name) for name in documents]
        else:
            hosts = [h for h in HOSTNAME_IN_TEXT.findall(_text_without_roles(item))
                     if not h.startswith("#")]
            peers = [(hosts[0], "")] if hosts else [("ANY", "")]
        purpose = sentence if len(sentence) <= 300 else sentence[:299].rstrip() + "…"
        for peer, peer_document in peers:
            written: list[tuple[int | None, str]] = list(ports) or [(None, "tcp")]
            for port, protocol in written:
                service = WELL_KNOWN_PORTS.get(port or 0, written_service)
                flow = ParsedFlow(direction="egress", protocol=protocol, port=port,
                                  port_end=None, service=service, peer=peer[:200],
                                  peer_document=peer_document, purpose=purpose, line=line)
                if flow not in system.flows:
                    system.flows.append(flow)


def _text_without_roles(item: nodes.Element) -> str:
    """A bullet's text without the :doc: targets' titles (a host name in a title is the
    system's, already named)."""
    parts = [node.astext() for node in item.findall(nodes.Text)
             if not isinstance(node.parent, nodes.literal)
             and not isinstance(node.parent, nodes.reference)]
    return " ".join(" ".join(parts).split())


def _ports_in(sentence: str, source: str, line: int) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def add(port_text: str, protocol: str) -> None:
        port, _ = _port_range(port_text, source, line)
        if (port, protocol) not in found:
            found.append((port, protocol))

    for match in PORT_SLASH_PROTOCOL.finditer(sentence):
        add(match.group(1), match.group(3).lower())
    for match in PROTOCOL_SLASH_PORT.finditer(sentence):
        add(match.group(2), match.group(1).lower())
    for match in PORT_IN_PARENTHESES.finditer(sentence):
        # "(53)" without a protocol: the port is documented for both TCP and UDP.
        for protocol in [match.group(2).lower()] if match.group(2) else ["tcp", "udp"]:
            add(match.group(1), protocol)
    if not found:
        for match in NAMED_SERVICE.finditer(sentence):
            for port, protocol in NAMED_SERVICES[match.group(1).lower()]:
                add(str(port), protocol)
    return found


# --- files and directories -----------------------------------------------------------------


def _label(path: Path) -> str:
    """"infradocs/systems/web.rst": the file with its folder and the folder's parent."""
    return "/".join(path.absolute().parts[-3:])


def source_files(target: Path) -> tuple[list[Path], list[Path]]:
    """The .rst files to import from a file or a directory (the directory itself, or an
    infradocs root: its systems/ and critical/ folders), and the templates skipped. A
    directory without .rst files, a symlink loop or a special file is refused."""
    label = str(target)
    try:
        is_dir = target.is_dir()
    except OSError as exc:
        raise InfradocsError(label, f"cannot be read: {exc.strerror or exc}") from None
    if not is_dir:
        paths = [target]
    else:
        folders = [target / name for name in ("systems", "critical")
                   if (target / name).is_dir()] or [target]
        paths = []
        for folder in folders:
            try:
                paths.extend(sorted(p for p in folder.iterdir() if p.suffix == ".rst"))
            except OSError as exc:
                raise InfradocsError(str(folder), f"cannot be listed: {exc.strerror or exc}"
                                     ) from None
        if not paths:
            raise InfradocsError(label, "holds no .rst file: give the infradocs directory, "
                                 "its systems/ or critical/ folder, or one file")
        if len(paths) > MAX_FILES:
            raise InfradocsError(label, f"holds {len(paths)} .rst files; at most {MAX_FILES} "
                                 "are imported in one run")
    templates = [p for p in paths if p.name == "template.rst"]
    return [p for p in paths if p.name != "template.rst"], templates


def read_source(path: Path) -> SourceFile:
    try:
        text = read_capped_text(path, FILE_CAP)
    except FileRefused as exc:
        raise InfradocsError(_label(path), str(exc).replace(str(path), "the file", 1)
                             ) from None
    return SourceFile(path=path, label=_label(path), text=text)


def find_people(paths: Sequence[Path]) -> Path | None:
    """people.rst beside the systems/ and critical/ folders (or beside a file)."""
    for path in paths:
        for folder in (path.parent, path.parent.parent):
            candidate = folder / "people.rst"
            if candidate.is_file():
                return candidate
    return None


def criticality_of(path: Path) -> str:
    return "critical" if path.absolute().parent.name == "critical" else "infrastructure"


def parse_source(source: SourceFile, people: dict[str, PersonRef]) -> ParsedSystem:
    return parse_text(source.text, source=source.label,
                      criticality=criticality_of(source.path), people=people)
