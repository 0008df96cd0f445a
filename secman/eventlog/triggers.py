"""Append-only in the database itself, not only in the code: triggers that refuse every
DELETE of an entry or a tree node, and every UPDATE except the retention purge (which
empties an entry's payload and keeps its sequence number, time, class and leaf hash).

Used by migration 0005; tests re-create them around Django's test-database flush.
"""

from __future__ import annotations

from typing import Any

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS eventlog_event_no_delete",
    "DROP TRIGGER IF EXISTS eventlog_event_only_purge",
    "DROP TRIGGER IF EXISTS eventlog_node_no_delete",
    "DROP TRIGGER IF EXISTS eventlog_node_no_update",
    "DROP TRIGGER IF EXISTS eventlog_checkpoint_no_delete",
]

# The purge's UPDATE, and nothing else, passes this condition.
_PURGE = """OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND NEW.id = OLD.id AND NEW.seq = OLD.seq AND NEW.leaf_hash = OLD.leaf_hash
    AND NEW.prev_hash = OLD.prev_hash AND NEW.recorded_at = OLD.recorded_at
    AND NEW.retention_class = OLD.retention_class AND NEW.action = OLD.action
    AND NEW.canonical = '' AND NEW.actor_id IS NULL AND NEW.authority = ''"""

SQLITE_CREATE = [
    """CREATE TRIGGER eventlog_event_no_delete BEFORE DELETE ON eventlog_event
    BEGIN SELECT RAISE(ABORT, 'Event Log entries are never deleted'); END""",
    f"""CREATE TRIGGER eventlog_event_only_purge BEFORE UPDATE ON eventlog_event
    WHEN NOT ({_PURGE})
    BEGIN SELECT RAISE(ABORT, 'Event Log entries are never changed; only the retention
    purge may empty one'); END""",
    """CREATE TRIGGER eventlog_node_no_delete BEFORE DELETE ON eventlog_node
    BEGIN SELECT RAISE(ABORT, 'Merkle tree nodes are never deleted'); END""",
    """CREATE TRIGGER eventlog_node_no_update BEFORE UPDATE ON eventlog_node
    BEGIN SELECT RAISE(ABORT, 'Merkle tree nodes are never changed'); END""",
    """CREATE TRIGGER eventlog_checkpoint_no_delete BEFORE DELETE ON eventlog_checkpoint
    BEGIN SELECT RAISE(ABORT, 'checkpoints are never deleted'); END""",
]

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION eventlog_event_append_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Event Log entries are never deleted';
      END IF;
      IF {_PURGE} THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'Event Log entries are never changed; only the retention purge may empty one';
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION eventlog_refuse() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION USING MESSAGE =
        TG_OP || ' on ' || TG_TABLE_NAME || ' is refused: the Event Log is append-only';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER eventlog_event_append_only BEFORE UPDATE OR DELETE ON eventlog_event
    FOR EACH ROW EXECUTE FUNCTION eventlog_event_append_only()""",
    """CREATE TRIGGER eventlog_node_append_only BEFORE UPDATE OR DELETE ON eventlog_node
    FOR EACH ROW EXECUTE FUNCTION eventlog_refuse()""",
    """CREATE TRIGGER eventlog_checkpoint_no_delete BEFORE DELETE ON eventlog_checkpoint
    FOR EACH ROW EXECUTE FUNCTION eventlog_refuse()""",
]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS eventlog_event_append_only ON eventlog_event",
    "DROP TRIGGER IF EXISTS eventlog_node_append_only ON eventlog_node",
    "DROP TRIGGER IF EXISTS eventlog_checkpoint_no_delete ON eventlog_checkpoint",
    "DROP FUNCTION IF EXISTS eventlog_event_append_only()",
    "DROP FUNCTION IF EXISTS eventlog_refuse()",
]


def statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    raise ValueError(f"no Event Log triggers for {vendor}")


def install(schema_editor: Any) -> None:
    for sql in statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql)
    for sql in statements(schema_editor.connection.vendor, create=True):
        schema_editor.execute(sql)


def remove(schema_editor: Any) -> None:
    for sql in statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql)
