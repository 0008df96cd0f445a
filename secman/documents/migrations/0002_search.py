"""Full-text search over sections: an FTS5 table kept by triggers on SQLite, a GIN index
on the same expression the search query uses on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE documents_section_fts USING fts5("
    "title, text, content='documents_section', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER documents_section_fts_insert AFTER INSERT ON documents_section BEGIN "
    "INSERT INTO documents_section_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
    "END",
    "CREATE TRIGGER documents_section_fts_delete AFTER DELETE ON documents_section BEGIN "
    "INSERT INTO documents_section_fts(documents_section_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER documents_section_fts_update AFTER UPDATE ON documents_section BEGIN "
    "INSERT INTO documents_section_fts(documents_section_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO documents_section_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
    "END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS documents_section_fts_update",
    "DROP TRIGGER IF EXISTS documents_section_fts_delete",
    "DROP TRIGGER IF EXISTS documents_section_fts_insert",
    "DROP TABLE IF EXISTS documents_section_fts",
]
POSTGRES = [
    "CREATE INDEX documents_section_search ON documents_section USING GIN "
    "(to_tsvector('english', title || ' ' || text))",
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS documents_section_search"]


def forwards(apps, schema_editor):
    statements = SQLITE if schema_editor.connection.vendor == "sqlite" else POSTGRES
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    statements = (SQLITE_REVERSE if schema_editor.connection.vendor == "sqlite"
                  else POSTGRES_REVERSE)
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
