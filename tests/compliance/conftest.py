from __future__ import annotations

import pytest


@pytest.fixture
def sm_text():
    """A small Security Manual in Markdown whose 4.2.3 says what the test wants."""

    def make(procedure: str) -> bytes:
        return (
            "# Security Manual\n\n## 4. Logical Security\n\nThis section is managed by "
            "the Critical System Administration team.\n\n### 4.2 Logging\n\nLogs are kept.\n\n"
            f"#### 4.2.3 Automated logs\n\n{procedure}\n\n## 5. Incident Response\n\n"
            "### 5.2 Detection\n\nLogs are examined weekly.\n"
        ).encode()

    return make


@pytest.fixture
def stored(org):
    """The real CAcert SP and SM, imported."""
    from secman.documents.services import import_document
    from tests.documents.conftest import SM, SP

    sp = import_document(actor=None, data=SP.read_bytes(), filename=SP.name,
                         name="Security Policy", kind="policy")
    sm = import_document(actor=None, data=SM.read_bytes(), filename=SM.name,
                         name="Security Manual", kind="manual")
    return sp, sm
