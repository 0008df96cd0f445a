"""A scratch database for a benchmark run: a fresh SQLite file in a temporary data dir, or
a PostgreSQL database made for the run beside the one DATABASE_URL names, dropped after."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def scratch_database(kind: str, label: str) -> Iterator[str]:
    """Point secman's settings at a fresh database for this run and drop it afterwards."""
    data_dir = tempfile.mkdtemp(prefix=f"secman-{label}-bench-")
    os.environ["SECMAN_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "secman.settings"
    name = ""
    server = ""
    try:
        if kind == "postgres":
            import psycopg

            base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            parts = urlsplit(base)
            if not parts.scheme.startswith("postgres"):
                base = "postgres://postgres@127.0.0.1:5432/postgres"
                parts = urlsplit(base)
            name = f"secman_{label}_bench_{os.getpid()}"
            server = urlunsplit(parts._replace(path="/postgres"))
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        else:
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield os.environ.get("DATABASE_URL", f"sqlite:///{data_dir}/secman.sqlite3")
    finally:
        if name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
