"""`secman eventlog verify` as an operator runs it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from secman.cli import main
from tests.conftest import tamper


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_reports_an_intact_log_and_then_the_tampered_entry():
    from tests.conftest import build_org

    build_org()
    result = CliRunner().invoke(main, ["eventlog", "verify"])
    assert result.exit_code == 0, result.output
    assert "the log is intact" in result.output

    # Someone who owns the database rewrites an entry's authority behind secman's back.
    tamper("UPDATE eventlog_event SET authority = 'SP 1.1' WHERE seq = 5")
    result = CliRunner().invoke(main, ["eventlog", "verify"])
    assert result.exit_code == 1
    assert "entry #5: column 'authority' differs from the hashed entry" in result.output
