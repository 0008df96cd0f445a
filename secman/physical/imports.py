"""Bulk import of computers and storage media (split from services.py; the CSV importer's
writer). Every row is checked in memory by the same rules as create_computer and
register_media, against the inventory read once; then every row is written in one
transaction, with bulk inserts and the Event Log entries appended in one batch. One bad
row and nothing is written, and no entry either.

Each imported item gets the entry its one-by-one service writes (its own history keeps
it), marked with the file's digest, and the import one summary entry: how many rows,
the digest, the authority.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from secman.authority.services import AuthorityLike, resolve_authority
from secman.core.errors import Refused, RuleViolation
from secman.eventlog.models import RetentionClass
from secman.eventlog.services import Entry, record_batch
from secman.people.models import Person
from secman.physical import services
from secman.physical.choices import MediaStatus, MediaType
from secman.physical.models import Computer, Media, MediaReport

# A row of the file: its line number and its values by column.
Row = tuple[int, dict[str, Any]]
# Told how far the import is: (what it is doing, rows done, rows in all).
Progress = Callable[[str, int, int], None]

BATCH = 1000
STEPS = "Imported from the inventory file; secure erase and reformat done before use."


class RowsRefused(RuleViolation):
    """Some rows break the rules: each problem names its line. Nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the file: nothing was written")
        self.errors = errors


def _quiet(_what: str, _done: int, _total: int) -> None:
    pass


def _line_errors(rows: Sequence[Row], check: Callable[[dict[str, Any]], Any],
                 progress: Progress) -> tuple[list[tuple[int, Any]], list[str]]:
    checked, errors = [], []
    for number, (line, values) in enumerate(rows, 1):
        try:
            checked.append((line, check(values)))
        except Refused as exc:
            errors.append(f"line {line}: {exc}")
        if number % BATCH == 0:
            progress("checking", number, len(rows))
    progress("checking", len(rows), len(rows))
    return checked, errors


def _actor_label(actor: Person | None) -> str:
    return "" if actor else "secman command line"


def import_computers(*, actor: Person | None, authority: AuthorityLike, rows: Sequence[Row],
                     digest: str = "", dry_run: bool = False,
                     progress: Progress = _quiet) -> int:
    """Record every row as a computer acquired (create_computer's rules), or none:
    RowsRefused names each bad row. Returns how many were (or, dry run, would be)
    created."""
    services._require_hardware_role(actor, "recording hardware")
    checked, errors = _line_errors(
        rows, lambda values: services._new_computer_fields(values.get("asset_tag", ""), {
            k: v for k, v in values.items() if k != "asset_tag"}), progress)
    errors += _computer_clashes(checked)
    if errors:
        raise RowsRefused(errors)
    fields_list = [fields for _, fields in checked]
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        if dry_run or not fields_list:  # an empty file imports nothing and records nothing
            transaction.set_rollback(True)  # the authority's row, made on first citation
            return len(fields_list)
        now = timezone.now()
        computers = [Computer(created_at=now, **fields) for fields in fields_list]
        try:
            _insert(computers, progress)
            ids = dict(_held(Computer, ("asset_tag", "pk"), "asset_tag",
                             {c.asset_tag for c in computers}))
            for computer in computers:
                computer.pk = ids[computer.asset_tag]
        except IntegrityError as exc:
            # Another change recorded one of these values since the check: nothing stays.
            raise RuleViolation("the inventory changed while importing (asset tag, nickname "
                                "or serial number now taken): nothing was written, try "
                                "again") from exc
        label = _actor_label(actor)
        entries = [Entry(action="physical.computer.acquire", authority=str(authority_row),
                         actor=actor, actor_label=label, subject=computer,
                         retention_class=RetentionClass.CONFIGURATION,
                         details={**{k: v for k, v in fields.items() if v},
                                  "import": digest})
                   for computer, fields in zip(computers, fields_list, strict=True)]
        entries.append(Entry(
            action="physical.computer.import", authority=str(authority_row), actor=actor,
            actor_label=label, retention_class=RetentionClass.CONFIGURATION,
            details={"rows": len(computers), "file_sha256": digest,
                     "asset_tags": _span([c.asset_tag for c in computers])}))
        progress("recording", 0, len(entries))
        record_batch(entries)
        progress("recording", len(entries), len(entries))
    return len(computers)


# Fields whose values the database adapter stores as they are (no conversion to ask the
# field for: that is most of bulk_create's time here).
_PLAIN = (models.CharField, models.TextField, models.BooleanField, models.IntegerField,
          models.ForeignKey)


def _insert(objects: Sequence[models.Model], progress: Progress) -> None:
    """INSERT the (new, unsaved) model instances: every concrete field but the primary
    key. The callers read the new keys back by a unique field; with no signals or custom
    save(), the same rows bulk_create writes, without its per-value cost."""
    if not objects:
        return
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = [(f.attname, isinstance(f, _PLAIN), f) for f in fields]
    prepared: dict[tuple[str, int], Any] = {}  # rows share their times: convert each once

    def value(o: models.Model, name: str, field: models.Field[Any, Any]) -> Any:
        raw = getattr(o, name)
        key = (name, id(raw))
        if key not in prepared:
            prepared[key] = (raw, field.get_db_prep_save(raw, connection))
        return prepared[key][1]

    _insert_rows(model, tuple(f.attname for f in fields), [
        tuple(getattr(o, name) if plain else value(o, name, field)
              for name, plain, field in getters) for o in objects], progress)


def _insert_rows(model: type[models.Model], columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]], progress: Progress) -> None:
    """Write plain rows (values as the database driver takes them) into `model`'s table,
    BATCH at a time, in the transaction Django holds: COPY on PostgreSQL (psycopg 3 sends
    an executemany row by row), executemany on SQLite, as the Event Log's batch append."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(getattr(model._meta.get_field(c), "column", c)))
                      for c in columns)
    table = quote(model._meta.db_table)
    what = f"writing {model._meta.verbose_name_plural}"
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        with connection.wrap_database_errors:
            for start in range(0, len(rows), BATCH):
                batch = rows[start:start + BATCH]
                if connection.vendor == "postgresql":
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                else:
                    # Only the model's own table and column names go into the text
                    # (quoted); every value is a parameter.
                    cursor.executemany(f"INSERT INTO {table} ({names}) "  # noqa: S608
                                       f"VALUES ({', '.join('?' * len(columns))})", batch)
                progress(what, start + len(batch), len(rows))
    finally:
        cursor.close()


def _span(values: list[str]) -> str:
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]} … {ordered[-1]}"


def _held(model: type[models.Model], fields: tuple[str, ...], key: str,
          values: set[Any], **where: str) -> list[tuple[Any, ...]]:
    """The `fields` of the inventory's rows whose `key` is one of `values` (and that
    match `where`), asked through the unique indexes: the cost follows the file, not the
    size of the inventory. Empty values are never a clash; excluding them, as the
    partial unique indexes' condition does, lets the database use those indexes."""
    chosen = sorted(v for v in values if v)
    if not chosen:
        return []
    text = isinstance(chosen[0], str)
    if connection.vendor == "postgresql":
        # One array parameter: psycopg's client-side binding of a 500-value IN list cost
        # more than the query.
        meta = model._meta
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            field = meta.pk if name == "pk" else meta.get_field(name)
            return quote(str(getattr(field, "column", name)))

        conditions = [f"{column(key)} = ANY(%s)", *(f"{column(k)} = %s" for k in where)]
        if text:
            conditions.append(f"NOT ({column(key)} = '')")
        sql = (f"SELECT {', '.join(column(f) for f in fields)} "  # noqa: S608 (names quoted)
               f"FROM {quote(meta.db_table)} WHERE {' AND '.join(conditions)}")
        with connection.cursor() as cursor:
            cursor.execute(sql, [chosen, *where.values()])
            return [tuple(row) for row in cursor.fetchall()]
    rows = model._default_manager.filter(**where).order_by()
    if text:
        rows = rows.exclude(**{key: ""})
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(chosen), 500):
        found += rows.filter(**{f"{key}__in": chosen[start:start + 500]}).values_list(*fields)
    return found


def _computer_clashes(checked: list[tuple[int, dict[str, str]]]) -> list[str]:
    """Each row whose asset tag, nickname or (vendor, serial number) is taken: by an
    earlier row of the file, or in the inventory (the rows holding the file's values,
    read once)."""
    taken: dict[tuple[str, Any], str] = {}
    rows = [fields for _, fields in checked]
    for (tag,) in _held(Computer, ("asset_tag",), "asset_tag",
                        {f["asset_tag"] for f in rows}):
        taken[("asset_tag", tag)] = ""
    for (nickname,) in _held(Computer, ("nickname",), "nickname",
                             {f.get("nickname", "") for f in rows}):
        taken[("nickname", nickname)] = ""
    by_vendor: dict[str, set[str]] = {}
    for fields in rows:
        by_vendor.setdefault(fields.get("vendor", ""), set()).add(
            fields.get("serial_number", ""))
    for vendor, serials in by_vendor.items():
        for (serial,) in _held(Computer, ("serial_number",), "serial_number", serials,
                               vendor=vendor):
            taken[("serial_number", (vendor, serial))] = ""
    clashes = services.COMPUTER_CLASHES
    errors = []
    for line, fields in checked:
        keys = [("asset_tag", fields["asset_tag"], clashes["asset_tag"]),
                ("nickname", fields.get("nickname", ""),
                 clashes["computer_nickname_unique"]),
                ("serial_number", (fields.get("vendor", ""), fields.get("serial_number", "")),
                 clashes["computer_serial_unique"])]
        for name, value, refusal in keys:
            if not value or (name == "serial_number" and not value[1]):
                continue
            if (name, value) not in taken:
                taken[(name, value)] = str(line)
                continue
            earlier = taken[(name, value)]
            shown = value[1] if name == "serial_number" else value
            if earlier:
                errors.append(f"line {line}: {name} {shown!r} also on line {earlier}")
            else:
                message = refusal.message.format(**fields)
                section = f" ({refusal.section})" if refusal.section else ""
                errors.append(f"line {line}: {message}{section}")
    return errors


def import_media(*, actor: Person | None, present: list[Person], rows: Sequence[Row],
                 authority: AuthorityLike = "SP 2.2.3.1", digest: str = "",
                 dry_run: bool = False, progress: Progress = _quiet) -> int:
    """Inventory every row as a medium provisioned (register_media's rules: by importing,
    the actor states each was securely erased and reformatted, with `present` there), or
    none: RowsRefused names each bad row. Rows hold serial_number, media_type,
    capacity_gb (int), description, location, critical_data (bool)."""
    services._require_hardware_role(actor, "inventorying storage media")

    def check(values: dict[str, Any]) -> dict[str, Any]:
        serial, description = services._new_media_text(values["serial_number"],
                                                       values["description"])
        services._check_new_media(
            media_type=values["media_type"], capacity_gb=values["capacity_gb"],
            present=present, steps_taken=STEPS, location=values["location"],
            erased_and_reformatted=True)
        return {**values, "serial_number": serial, "location": values["location"].strip(),
                "description": description}

    checked, errors = _line_errors(rows, check, progress)
    taken = {serial: "" for (serial,) in _held(
        Media, ("serial_number",), "serial_number",
        {values["serial_number"] for _, values in checked})}
    for line, values in checked:
        serial = values["serial_number"]
        earlier = taken.setdefault(serial, str(line))
        if earlier == str(line):
            continue
        if earlier:
            errors.append(f"line {line}: serial_number {serial!r} also on line {earlier}")
        else:
            refusal = services.MEDIA_CLASHES["serial_number"]
            errors.append(f"line {line}: {refusal.message.format(serial_number=serial)} "
                          f"({refusal.section})")
    if errors:
        raise RowsRefused(errors)
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        if dry_run or not checked:
            transaction.set_rollback(True)
            return len(checked)
        now = timezone.now()
        media = [Media(serial_number=v["serial_number"], media_type=v["media_type"],
                       capacity_gb=v["capacity_gb"], location=v["location"],
                       critical_data=v["critical_data"], description=v["description"],
                       last_erased_at=now, created_at=now) for _, v in checked]
        try:
            _insert(media, progress)
            ids = dict(_held(Media, ("serial_number", "pk"), "serial_number",
                             {m.serial_number for m in media}))
            for medium in media:
                medium.pk = ids[medium.serial_number]
        except IntegrityError as exc:
            raise RuleViolation("the inventory changed while importing (a serial number is "
                                "now taken): nothing was written, try again") from exc
        reports = [MediaReport(media=medium, to_status=MediaStatus.PROVISIONED,
                               steps_taken=STEPS, location=medium.location, erased=True,
                               authority=authority_row, reported_by=actor, reported_at=now)
                   for medium in media]
        _insert(reports, progress)
        report_ids = [pk for (pk,) in _held(MediaReport, ("pk",), "media_id",
                                            {m.pk for m in media})]
        through = MediaReport.present.through
        _insert_rows(through, ("mediareport_id", "person_id"),
                     [(report_id, person.pk) for report_id in report_ids for person in present],
                     progress)
        # Each entry's subject label is str(medium): its type's label, found once per type
        # here rather than by Django's get_FOO_display() 20,000 times.
        labels: dict[str, str] = {str(k): str(v) for k, v in MediaType.choices}
        for medium in media:
            medium.get_media_type_display = partial(  # type: ignore[method-assign]
                labels.__getitem__, medium.media_type)
        label = _actor_label(actor)
        names = [p.name for p in present]
        entries = [Entry(action="physical.media.provision", authority=str(authority_row),
                         actor=actor, actor_label=label, subject=medium,
                         retention_class=RetentionClass.CONFIGURATION,
                         details={"serial_number": medium.serial_number,
                                  "type": medium.media_type,
                                  "capacity_gb": medium.capacity_gb,
                                  "location": medium.location,
                                  "critical_data": medium.critical_data,
                                  "present": names, "steps": STEPS, "import": digest})
                   for medium in media]
        entries.append(Entry(
            action="physical.media.import", authority=str(authority_row), actor=actor,
            actor_label=label, retention_class=RetentionClass.CONFIGURATION,
            details={"rows": len(media), "file_sha256": digest, "present": names,
                     "serial_numbers": _span([m.serial_number for m in media])}))
        progress("recording", 0, len(entries))
        record_batch(entries)
        progress("recording", len(entries), len(entries))
    return len(media)
