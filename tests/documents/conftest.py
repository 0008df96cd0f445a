from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "cacert"
SP = REFERENCE / "SecurityPolicy.html"
SM = REFERENCE / "SecurityManual.txt"


@pytest.fixture(scope="session")
def sp_bytes() -> bytes:
    return SP.read_bytes()


@pytest.fixture(scope="session")
def sm_bytes() -> bytes:
    return SM.read_bytes()


@pytest.fixture
def stored(org, sp_bytes, sm_bytes):
    """The SP and SM imported from the command line's point of view (no actor)."""
    from secman.documents.services import import_document

    sp = import_document(actor=None, data=sp_bytes, filename=SP.name, name="Security Policy",
                         kind="policy")
    sm = import_document(actor=None, data=sm_bytes, filename=SM.name, name="Security Manual",
                         kind="manual")
    return sp, sm
