"""Misconfiguration as Django system checks with stable ids (secman.core.checks)."""

from __future__ import annotations

import os
import warnings

import pytest
from django.core import checks

from secman.core.checks import check_configuration


@pytest.fixture
def good(settings, tmp_path):
    """A configuration with nothing to complain about."""
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 50, encoding="utf-8")
    key_file.chmod(0o600)
    settings.DATA_DIR = tmp_path
    settings.SECRET_KEY = "k" * 50
    settings.ALLOWED_HOSTS = ["secman.example.org"]
    settings.EMAIL_HOST = "mail.example.org"
    settings.EMAIL_USE_TLS = True
    settings.EMAIL_USE_SSL = False
    settings.DEBUG = False
    settings.SITE_URL = "https://secman.example.org"
    settings.SECURE_COOKIES = True
    return settings


def ids() -> list[str]:
    return sorted(problem.id for problem in check_configuration())


def test_it_finds_nothing_wrong_with_a_good_configuration(good):
    assert ids() == []


def test_it_registers_the_checks_with_django(good):
    good.DEBUG = True
    found = [m.id for m in checks.run_checks(tags=[checks.Tags.security])]
    assert "secman.W001" in found


def test_it_flags_a_missing_data_directory(good, tmp_path):
    good.DATA_DIR = tmp_path / "absent"
    [problem] = check_configuration()
    assert problem.id == "secman.E001"
    assert problem.level == checks.ERROR
    assert "SECMAN_DATA_DIR" in problem.hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_it_flags_a_data_directory_it_cannot_write(good, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        good.DATA_DIR = locked
        assert ids() == ["secman.E001"]
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_it_flags_a_secret_key_file_others_can_read(good, tmp_path, mode):
    (tmp_path / "secret_key").chmod(mode)
    [problem] = check_configuration()
    assert problem.id == "secman.E002"
    assert problem.hint == f"chmod 600 {tmp_path / 'secret_key'}"


def test_it_does_not_need_a_secret_key_file(good, tmp_path):
    (tmp_path / "secret_key").unlink()
    assert ids() == []


def test_it_flags_a_short_secret_key(good):
    good.SECRET_KEY = "k" * 39
    assert ids() == ["secman.E003"]
    good.SECRET_KEY = "k" * 40
    assert ids() == []


@pytest.mark.parametrize("hosts", [[], ["*"], ["secman.example.org", "*"]])
def test_it_flags_empty_or_wildcard_allowed_hosts(good, hosts):
    good.ALLOWED_HOSTS = hosts
    assert ids() == ["secman.E004"]


def test_it_flags_tls_and_ssl_together(good):
    good.EMAIL_USE_SSL = True
    assert ids() == ["secman.E005"]
    good.EMAIL_USE_TLS = False
    assert ids() == []


def test_it_flags_a_postgresql_url_without_a_database_name(good):
    default = good.DATABASES["default"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Django warns that DATABASES is overridden
        good.DATABASES = {"default": {**default, "ENGINE": "django.db.backends.postgresql",
                                      "NAME": ""}}
        assert ids() == ["secman.E006"]
        good.DATABASES = {"default": {**default, "ENGINE": "django.db.backends.postgresql",
                                      "NAME": "secman"}}
        assert ids() == []
        good.DATABASES = {"default": {**default, "ENGINE": "django.db.backends.sqlite3",
                                      "NAME": ""}}
        assert ids() == []


def test_it_warns_about_debug(good):
    good.DEBUG = True
    [problem] = check_configuration()
    assert (problem.id, problem.level) == ("secman.W001", checks.WARNING)


def test_it_warns_without_a_mail_server(good):
    good.EMAIL_HOST = ""
    assert ids() == ["secman.W002"]


def test_it_warns_about_insecure_cookies_behind_https(good):
    good.SECURE_COOKIES = False
    assert ids() == ["secman.W003"]
    good.SITE_URL = "http://127.0.0.1:8000"
    assert ids() == []
