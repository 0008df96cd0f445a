"""Settings from the environment: strict helpers that fail loudly, naming the variable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from secman import conf

ROOT = Path(__file__).resolve().parents[2]


# --- envbool ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "YES", " on ", "True"])
def test_it_reads_yes(monkeypatch, raw):
    monkeypatch.setenv("SECMAN_TEST_FLAG", raw)
    assert conf.envbool("SECMAN_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF"])
def test_it_reads_no(monkeypatch, raw):
    monkeypatch.setenv("SECMAN_TEST_FLAG", raw)
    assert conf.envbool("SECMAN_TEST_FLAG", True) is False


@pytest.mark.parametrize("raw", [None, ""])
def test_it_uses_the_default_flag_when_unset(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("SECMAN_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("SECMAN_TEST_FLAG", raw)
    assert conf.envbool("SECMAN_TEST_FLAG", True) is True
    assert conf.envbool("SECMAN_TEST_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "enabled"])
def test_it_refuses_a_flag_it_cannot_read(monkeypatch, raw):
    monkeypatch.setenv("SECMAN_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured) as exc_info:
        conf.envbool("SECMAN_TEST_FLAG", False)
    assert f"SECMAN_TEST_FLAG={raw!r}" in str(exc_info.value)
    assert "true" in str(exc_info.value) and "false" in str(exc_info.value)


# --- envint -------------------------------------------------------------------------------


def test_it_reads_a_number(monkeypatch):
    monkeypatch.setenv("SECMAN_TEST_NUMBER", " 42 ")
    assert conf.envint("SECMAN_TEST_NUMBER", 7) == 42
    monkeypatch.setenv("SECMAN_TEST_NUMBER", "")
    assert conf.envint("SECMAN_TEST_NUMBER", 7) == 7


@pytest.mark.parametrize(("raw", "words"), [
    ("ten", "is not a whole number"),
    ("4.5", "is not a whole number"),
    ("0", "out of range: use 1 to 65535"),
    ("70000", "out of range: use 1 to 65535"),
    ("-3", "out of range: use 1 to 65535"),
])
def test_it_refuses_a_number_it_cannot_use(monkeypatch, raw, words):
    monkeypatch.setenv("SECMAN_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured) as exc_info:
        conf.envint("SECMAN_TEST_NUMBER", 25, minimum=1, maximum=65535)
    assert "SECMAN_TEST_NUMBER" in str(exc_info.value)
    assert words in str(exc_info.value)


# --- envlist and envchoice ----------------------------------------------------------------


def test_it_reads_a_list(monkeypatch):
    monkeypatch.delenv("SECMAN_TEST_LIST", raising=False)
    assert conf.envlist("SECMAN_TEST_LIST", ["a"]) == ["a"]
    monkeypatch.setenv("SECMAN_TEST_LIST", " ca.example.org, ,secman.example.org ,")
    assert conf.envlist("SECMAN_TEST_LIST", ["a"]) == ["ca.example.org", "secman.example.org"]
    monkeypatch.setenv("SECMAN_TEST_LIST", "")
    assert conf.envlist("SECMAN_TEST_LIST", ["a"]) == []


def test_it_reads_a_choice(monkeypatch):
    monkeypatch.setenv("SECMAN_TEST_LEVEL", "warning")
    assert conf.envchoice("SECMAN_TEST_LEVEL", "INFO", ["INFO", "WARNING"]) == "WARNING"
    monkeypatch.delenv("SECMAN_TEST_LEVEL")
    assert conf.envchoice("SECMAN_TEST_LEVEL", "INFO", ["INFO", "WARNING"]) == "INFO"


def test_it_refuses_a_choice_it_does_not_offer(monkeypatch):
    monkeypatch.setenv("SECMAN_TEST_LEVEL", "loud")
    with pytest.raises(ImproperlyConfigured) as exc_info:
        conf.envchoice("SECMAN_TEST_LEVEL", "INFO", ["INFO", "WARNING"])
    assert str(exc_info.value) == "SECMAN_TEST_LEVEL='loud' is not one of INFO, WARNING"


# --- env and <NAME>_FILE ------------------------------------------------------------------


def test_it_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    monkeypatch.delenv("SECMAN_TEST_SECRET", raising=False)
    monkeypatch.setenv("SECMAN_TEST_SECRET_FILE", str(secret))
    assert conf.env("SECMAN_TEST_SECRET") == "s3cret-from-file"


def test_it_reads_a_value_or_its_default(monkeypatch):
    monkeypatch.delenv("SECMAN_TEST_SECRET_FILE", raising=False)
    monkeypatch.setenv("SECMAN_TEST_SECRET", "plain")
    assert conf.env("SECMAN_TEST_SECRET") == "plain"
    monkeypatch.delenv("SECMAN_TEST_SECRET")
    assert conf.env("SECMAN_TEST_SECRET", "fallback") == "fallback"


def test_it_refuses_a_value_and_its_file_together(monkeypatch, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SECMAN_TEST_SECRET", "y")
    monkeypatch.setenv("SECMAN_TEST_SECRET_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured,
                       match="set either SECMAN_TEST_SECRET or SECMAN_TEST_SECRET_FILE"):
        conf.env("SECMAN_TEST_SECRET")


def test_it_refuses_a_secret_file_it_cannot_read(monkeypatch, tmp_path):
    monkeypatch.delenv("SECMAN_TEST_SECRET", raising=False)
    monkeypatch.setenv("SECMAN_TEST_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured) as exc_info:
        conf.env("SECMAN_TEST_SECRET")
    assert "SECMAN_TEST_SECRET_FILE=" in str(exc_info.value)
    assert "cannot be read" in str(exc_info.value)


# --- the secret key -----------------------------------------------------------------------


def test_it_generates_the_secret_key_once_readable_only_by_its_owner(monkeypatch, tmp_path):
    monkeypatch.delenv("SECMAN_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECMAN_SECRET_KEY_FILE", raising=False)
    data_dir = tmp_path / "data"
    key = conf.secret_key(data_dir)
    assert len(key) >= 50
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert conf.secret_key(data_dir) == key
    assert key_file.read_text(encoding="utf-8").strip() == key


def test_it_prefers_a_configured_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECMAN_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("SECMAN_SECRET_KEY", "k" * 50)
    assert conf.secret_key(tmp_path) == "k" * 50
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.delenv("SECMAN_SECRET_KEY")
    key_file = tmp_path / "mounted-key"
    key_file.write_text("f" * 50 + "\n", encoding="utf-8")
    monkeypatch.setenv("SECMAN_SECRET_KEY_FILE", str(key_file))
    assert conf.secret_key(tmp_path) == "f" * 50


# --- the settings module as a whole -------------------------------------------------------


def start_django(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SECMAN_", "DATABASE_URL"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "secman.settings",
                    "SECMAN_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


def test_it_starts_with_no_configuration_at_all(tmp_path):
    result = start_django(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECMAN_DEBUG": "maybe"}, "SECMAN_DEBUG='maybe' is not a yes/no value"),
        ({"DATABASE_URL": "mysql://x"}, "secman supports SQLite (sqlite:///PATH) and "
                                        "PostgreSQL (postgres://...) only"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL cannot be read"),
        ({"SECMAN_EMAIL_PORT": "smtp"}, "SECMAN_EMAIL_PORT='smtp' is not a whole number"),
        ({"SECMAN_LOG_LEVEL": "chatty"}, "SECMAN_LOG_LEVEL='chatty' is not one of"),
        ({"SECMAN_SQLITE_TIMEOUT": "0"}, "SECMAN_SQLITE_TIMEOUT=0 is out of range"),
    ],
)
def test_it_stops_at_start_up_on_a_bad_setting(tmp_path, env, message):
    result = start_django(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "started" not in result.stdout


def test_it_hashes_passwords_with_argon2():
    # The test suite swaps in a fast hasher through the settings fixture; the module
    # itself is what a deployment runs.
    import secman.settings

    assert secman.settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher")
    assert "MD5" not in " ".join(secman.settings.PASSWORD_HASHERS)


def test_it_runs_sqlite_with_wal_and_immediate_transactions(tmp_path):
    code = ("import django; django.setup(); from django.db import connection; "
            "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
            "print(connection.settings_dict['OPTIONS']['transaction_mode'])")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SECMAN_", "DATABASE_URL"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "secman.settings",
                    "SECMAN_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], env=environment, cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "IMMEDIATE"]


# --- a data dir whose path holds URL syntax (issue 13, finding 10) ------------------------


def run_secman(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SECMAN_", "DATABASE_URL", "DJANGO_"))}
    environment |= {"SECMAN_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-c", "from secman.cli import main; main()", *args],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


def test_a_data_dir_with_url_characters_holds_its_own_database(tmp_path):
    # '/tmp/x#y' used to become '/tmp/x': another database, silently.
    data_dir = tmp_path / "data #1? 100% sure"
    policy = tmp_path / "policy.md"
    policy.write_text("# 1. Introduction\n\nText.\n\n## 1.1. Scope\n\nMore.\n")
    imported = run_secman(data_dir, "docs", "import", str(policy),
                          "--name", "Security Policy", "--kind", "policy")
    assert imported.returncode == 0, imported.stderr
    assert (data_dir / "secman.sqlite3").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([data_dir.name,
                                                                       "policy.md"])
    for command in (["check"], ["eventlog", "verify"], ["docs", "list"]):
        result = run_secman(data_dir, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    listed = run_secman(data_dir, "docs", "list")
    assert "Security Policy" in listed.stdout


def test_a_sqlite_database_url_with_a_fragment_is_refused(tmp_path):
    result = start_django(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x#y/db.sqlite3")
    assert result.returncode != 0
    assert "percent-encode them in the path (%23, %3F)" in result.stderr


def test_a_percent_encoded_sqlite_database_url_names_the_path(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['NAME'])")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SECMAN_", "DATABASE_URL"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "secman.settings",
                    "SECMAN_DATA_DIR": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x%23y%3F%25 z.sqlite3"}
    result = subprocess.run([sys.executable, "-c", code], env=environment, cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tmp_path}/x#y?% z.sqlite3"


# --- settings read from files -------------------------------------------------------------


def read_setting_file(path: str) -> subprocess.CompletedProcess:
    """conf.env of a *_FILE setting in a process of its own, with at most 1 GB of memory
    and 30 s: reading /dev/zero or a FIFO to the end (as it used to) fails the test
    instead of the machine."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    environment = dict(os.environ, SECMAN_TEST_SECRET_FILE=path)
    return subprocess.run(
        [sys.executable, "-c", "from secman import conf; conf.env('SECMAN_TEST_SECRET')"],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=30,
        preexec_fn=limit, check=False)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_setting_file_that_is_a_device_is_refused_without_reading_it(device):
    result = read_setting_file(device)
    assert result.returncode != 0
    assert "is a character device, not a regular file" in result.stderr


def test_a_setting_file_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    result = read_setting_file(str(fifo))
    assert result.returncode != 0
    assert "is a named pipe (FIFO), not a regular file" in result.stderr


def test_a_huge_setting_file_is_refused(monkeypatch, tmp_path):
    big = tmp_path / "secret"
    big.write_bytes(b"x" * (conf.SETTING_FILE_MAX_BYTES + 1))
    monkeypatch.setenv("SECMAN_TEST_SECRET_FILE", str(big))
    with pytest.raises(ImproperlyConfigured, match="reads files of up to"):
        conf.env("SECMAN_TEST_SECRET")
